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
    it reads (the directory and the records) to its last frame; a block inside another leaves
    the collector to the outer one.

    When the outermost block ends, the objects it made are moved to the oldest generation
    without being scanned (:func:`gc.freeze` then :func:`gc.unfreeze`: two list splices), so
    the first allocations after it do not walk them all, as a young collection would (0.1 s
    per block at 100,000 tokens). Cyclic garbage made in the block is therefore collected by
    the next full collection (automatic, or :func:`gc.collect`), not a young one. If the
    program has frozen objects itself (:func:`gc.get_freeze_count`), they stay frozen: the
    block's objects are aged by a young collection instead.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _age_young()
            gc.enable()


def _age_young() -> None:
    """Every object in the young generations moved to the oldest one (see :func:`gc_paused`)."""
    if gc.get_freeze_count():  # gc.unfreeze would thaw the program's own frozen objects
        gc.collect(1)
        return
    gc.freeze()  # every tracked object to the permanent generation; generation 0's count to 0
    gc.unfreeze()  # the permanent generation to the oldest one, unscanned
