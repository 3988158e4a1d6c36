"""Array helpers the audit's context, rules and frames share."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["unique_ints"]


def unique_ints(values: npt.ArrayLike) -> npt.NDArray[Any]:
    """``np.unique(values)`` of an integer array (sorted distinct values, the input's dtype),
    by one sort. numpy 2.3 and later answer a plain ``np.unique`` with a hash table that
    costs ~25 times a sort on a few hundred thousand distinct int64 (the audit's (token,
    group) pairs: 160 ms against 6 ms at 100,000 tokens)."""
    ordered = np.sort(np.asarray(values).reshape(-1))
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
