"""The access matrix's cell counts by combined integer keys against ``np.unique`` of the
stacked rows, which they replace: small inputs (the tuple path), large ones, ranges too wide
to combine without renumbering, and none."""

from __future__ import annotations

import numpy as np
import pytest

from cftokens.audit.access import group_counts


def _reference(tok: np.ndarray, target: np.ndarray, grp: np.ndarray) -> tuple[list, list]:
    cells = np.unique(np.stack([tok, target, grp]), axis=1)
    pairs, counts = np.unique(cells[:2], axis=1, return_counts=True)
    return pairs.tolist(), counts.tolist()


@pytest.mark.parametrize(
    ("size", "high"),
    [(0, 1), (1, 3), (40, 4), (48, 2), (49, 3), (5000, 30), (20000, 2**40), (3000, 2**62)],
)
def test_group_counts_match_numpy_unique(size: int, high: int) -> None:
    rng = np.random.default_rng(size)
    tok = rng.integers(0, min(high, 700), size=size, dtype=np.int64)
    target = rng.integers(0, high, size=size, dtype=np.int64)
    grp = rng.integers(0, min(high, 50), size=size, dtype=np.int64)
    pairs, counts = group_counts(tok, target, grp)
    assert (pairs.tolist(), counts.tolist()) == _reference(tok, target, grp)
    assert pairs.dtype == np.int64 and counts.dtype == np.int64
