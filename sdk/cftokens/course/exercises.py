"""The exercises of the course: one at the end of each lesson (01–06), six in the workshop (07).

Each is an :class:`Exercise`: ``check_N(answer)`` prints ``correct`` or, in sentences, what is
still wrong; ``hint_N()`` and ``solution_N()`` print help (the Kaggle Learn pattern). Checks
judge what an answer *does*, with the policy engine, against the whole intended access: nothing
missing, nothing extra (see :mod:`cftokens.course.access`). A wrong type of answer is named,
never a traceback; a check that depends on time says which clock it reads.

The exercises of the lessons are :mod:`.lessons`', the workshop's :mod:`.workshop`'s; what
they share (:class:`Exercise`, the context a check reads, the checks' helpers) is
:mod:`.checking`'s.
"""

from __future__ import annotations

from .checking import Exercise
from .lessons import lesson
from .workshop import workshop

__all__ = ["Exercise", "lesson", "workshop"]
