"""pandas, imported on first use and typed loosely; the garbage collector paused for bulk work.

The audit builds frames from numpy arrays with many dtype arguments that pandas-stubs cannot
express precisely; going through this helper keeps ``import cftokens`` fast and ``mypy
--strict`` meaningful for the audit's own logic.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

# Text columns use pandas' StringDtype with Python storage: a real string dtype that is built
# without copying into Arrow (an order of magnitude faster for the audit's large frames).
STR = "string[python]"


def pandas() -> Any:
    """The pandas module."""
    import pandas

    return pandas


if TYPE_CHECKING:
    import pandas as pd


def as_frame(value: Any) -> pd.DataFrame:
    """``value`` (a DataFrame built through :func:`pandas`) with its static type."""
    return cast("pd.DataFrame", value)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Automatic garbage collection off for the block (as it was before afterwards).

    An audit allocates millions of small objects that form no reference cycles (rows, strings,
    tuples) while the inventory's dicts are alive: each allocation-triggered collection walks
    that whole heap again, which cost a third of an audit of 100,000 tokens
    (``bench/bench_audit.py``). Anything cyclic the block leaves is collected afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
