"""Array helpers the audit's context, rules and frames share."""

from __future__ import annotations

from itertools import repeat
from operator import is_, is_not
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


_NONE = type(None)


def _is_none(values: list[Any]) -> npt.NDArray[np.bool_]:
    """Per value: whether it is None."""
    if _NONE not in set(map(type, values)):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(is_, values, repeat(None)), dtype=bool, count=len(values))


def _only(values: list[Any], kind: type) -> bool:
    """Whether every value's type is ``kind`` exactly (one C-level pass that makes no array:
    the rule, so the per-value arrays below are made only when it fails)."""
    return set(map(type, values)) <= {kind}


def _of_type(values: list[Any], kind: type) -> npt.NDArray[np.bool_]:
    """Per value: whether its type is ``kind`` exactly (a subclass does not count)."""
    if _only(values, kind):
        return np.ones(len(values), dtype=bool)
    return np.fromiter(map(is_, map(type, values), repeat(kind)), dtype=bool, count=len(values))


def _is_true(values: list[Any]) -> npt.NDArray[np.bool_]:
    """Per value: whether it is the ``True`` object itself."""
    return np.fromiter(map(is_, values, repeat(True)), dtype=bool, count=len(values))


def _not_of_type(values: list[Any], kind: type) -> npt.NDArray[np.bool_]:
    """Per value: whether its type is other than ``kind`` exactly (a subclass counts as other)."""
    if _only(values, kind):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(is_not, map(type, values), repeat(kind)), dtype=bool, count=len(values))


def _starts(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The first position of each segment of the given lengths."""
    return np.cumsum(counts) - counts


def _any_by(flags: npt.NDArray[np.bool_], segment: npt.NDArray[np.int64], n: int) -> Any:
    """Per segment: whether any of its flags is set."""
    return np.bincount(segment[flags], minlength=n) > 0 if n else np.zeros(0, dtype=bool)
