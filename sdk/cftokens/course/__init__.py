"""The course's exercises, checked: ``cft.course``.

Every lesson (notebooks 01–06) ends with one exercise, and the workshop (07) has six. Each
unpacks into a check, a hint and a solution (the Kaggle Learn pattern)::

    check_3, hint_3, solution_3 = cft.course.lesson(3, sb)
    check_3(spec3)   # "correct", or in sentences what is extra, missing or wrong
    hint_3()         # a nudge
    solution_3()     # one answer (any answer that behaves the same passes)

    check_1, hint_1, solution_1 = cft.course.workshop(1, client, now=now)   # notebook 07

Checks compare what the answer may do, everywhere, with what the job needs (the policy engine
on every zone and account, and on zones and accounts added later): nothing missing, nothing
extra. They name an answer of the wrong type, and say which clock a time check reads.
"""

from __future__ import annotations

from .access import Place, access, compare, describe, intended
from .exercises import Exercise, lesson, workshop

__all__ = ["Exercise", "Place", "access", "compare", "describe", "intended", "lesson", "workshop"]
