"""Hypothesis properties drawn several cases to an example: a long run (the full command's
``slow`` parameters) costs about half as much as one case per example, for as many cases, each
drawn by its own strategy (most of a small example's cost is Hypothesis's own, per example).
Any test area imports it (``tests/`` is on ``sys.path`` with its conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LONG_RUN = 200  # cases from which a run draws them BATCH at a time
BATCH = 8


def cases(
    strategy: st.SearchStrategy[Any],
    count: int,
    *,
    suppress: Sequence[HealthCheck] = (HealthCheck.too_slow,),
) -> Callable[[Callable[[Any], None]], Any]:
    """``@given`` drawing ``count`` cases of ``strategy`` (at least) and checking each with the
    decorated function. A short run draws one case per Hypothesis example; a long one (from
    ``LONG_RUN`` cases) ``BATCH`` per example, each drawn by ``strategy`` alone: as many cases,
    about 2.5x cheaper to draw (most of a small example's cost is Hypothesis's own, per example).
    A failing batch shrinks to its simplest cases, the failing one among them. ``suppress``:
    the health checks left out (a property of large cases may need more than ``too_slow``)."""
    batch = BATCH if count >= LONG_RUN else 1

    def decorate(check: Callable[[Any], None]) -> Any:
        @given(st.lists(strategy, min_size=batch, max_size=batch))
        @settings(
            max_examples=-(-count // batch),
            deadline=None,
            suppress_health_check=list(suppress),
        )
        def run(drawn: list[Any]) -> None:
            for case in drawn:
                check(case)

        return run

    return decorate
