"""The report's fast paths against the pandas operations they replace, on generated frames:
the order of :meth:`Audit.worst_tokens` and the report's row iteration."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from cftokens.audit import Audit
from cftokens.audit.report_html import _rows
from cftokens.audit.severity import SEVERITY_ORDER
from cftokens.audit.synth import synthetic_inventory

AUDIT = Audit.from_records(**synthetic_inventory(30, n_accounts=3, n_zones=12))


def _worst_by_pandas(tokens: pd.DataFrame, n: int) -> pd.DataFrame:
    """What ``worst_tokens`` did with pandas: a rank column, a sort of both keys, a head."""
    t = tokens.assign(_rank=tokens["max_severity"].cat.codes)
    t = t.sort_values(["_rank", "risk_score"], ascending=[False, False])
    return t.drop(columns="_rank").head(n).reset_index(drop=True)


@pytest.mark.parametrize("seed", range(12))
def test_worst_tokens_order_equals_the_pandas_sort(seed: int) -> None:
    """Ties on both keys, unknown severities and risk scores (NA), any ``n``."""
    rng = random.Random(seed)
    audit = Audit.from_records(**synthetic_inventory(30, n_accounts=3, n_zones=12, seed=seed))
    tokens = audit.tokens.copy()
    k = len(tokens)
    severities = [*SEVERITY_ORDER, None]
    tokens["max_severity"] = pd.Categorical(
        [rng.choice(severities) for _ in range(k)], dtype=tokens["max_severity"].dtype
    )
    scores = [rng.choice([None, 0.0, 1.5, 1.5, 7.0, float(rng.randint(0, 3))]) for _ in range(k)]
    tokens["risk_score"] = pd.array(scores, dtype="Float64")
    audit.tokens = tokens
    for n in (0, 1, 5, k, k + 3, -2):
        pd.testing.assert_frame_equal(audit.worst_tokens(n), _worst_by_pandas(tokens, n))


def test_worst_tokens_of_the_audit_itself() -> None:
    for n in (3, len(AUDIT.tokens)):
        pd.testing.assert_frame_equal(AUDIT.worst_tokens(n), _worst_by_pandas(AUDIT.tokens, n))


@pytest.mark.parametrize("frame_name", ["tokens", "findings", "gaps", "grants"])
def test_rows_give_what_itertuples_gives(frame_name: str) -> None:
    frame = getattr(AUDIT, frame_name)
    names = list(frame.columns)
    rng = random.Random(3)
    picked = rng.sample(names, k=min(4, len(names)))
    for columns in (names, picked):
        expected = [tuple(getattr(row, c) for c in columns) for row in frame.itertuples()]
        got = [tuple(getattr(row, c) for c in columns) for row in _rows(frame, *columns)]
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert [type(x) for x in a] == [type(x) for x in b]
            assert all(
                (x is y) or (x == y) or (x is pd.NA and y is pd.NA) or (x != x and y != y)
                for x, y in zip(a, b, strict=True)
            )
    assert list(_rows(frame.iloc[:0], *names)) == []
