"""The audit's text dtype, and the garbage collector paused for bulk work.

The audit's modules import pandas inside functions (``import pandas as pd``, typed through
pandas-stubs under ``TYPE_CHECKING``), so ``import cftokens`` stays fast.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

# Text columns use pandas' StringDtype with Python storage: a real string dtype that is built
# without copying into Arrow (an order of magnitude faster for the audit's large frames).
STR: Final = "string[python]"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Automatic garbage collection off for the block (as it was before afterwards).

    An audit allocates millions of small objects that form no reference cycles (rows, strings,
    tuples) while the inventory's dicts are alive: each allocation-triggered collection walks
    that whole heap again, which cost a third of an audit of 100,000 tokens
    (``bench/bench_audit.py``). The audit pauses it for its whole build, from the first input
    it reads (the directory and the records) to its last frame. The young generations are
    collected once at the end, so the block pays for its own objects (the first allocation
    after it would otherwise scan them all).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(1)
