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


def _candidates_by_pandas(worst: pd.DataFrame) -> dict[str, dict[str, object]]:
    """The fix-first candidates as the report picked them with pandas (filter, sort, isin)."""
    from cftokens.audit.report_html import _CANDIDATES

    open_ = worst[worst["n_findings"].fillna(0) > 0]
    if not len(open_):
        return {}
    by_risk = open_.sort_values("risk_score", ascending=False, kind="stable")
    ids = list(
        dict.fromkeys([*open_["token_id"][:_CANDIDATES], *by_risk["token_id"][:_CANDIDATES]])
    )
    picked = open_[open_["token_id"].isin(ids)][
        ["token_id", "name", "max_severity", "n_findings", "risk_score"]
    ]
    rows = {str(r["token_id"]): r for r in picked.astype(object).to_dict("records")}
    return {str(tid): rows[str(tid)] for tid in ids}


@pytest.mark.parametrize("seed", range(8))
def test_fix_first_candidates_equal_the_pandas_reading(seed: int) -> None:
    """The candidates and their rows are those the pandas reading picked, on rankings with
    ties, unknown scores and tokens without findings (or unknown counts)."""
    from cftokens.audit.report_html import _candidates

    rng = random.Random(seed)
    audit = Audit.from_records(**synthetic_inventory(30, n_accounts=3, n_zones=12, seed=seed))
    worst = audit.worst_tokens(len(audit.tokens)).copy()
    worst["risk_score"] = pd.array(
        [rng.choice([None, 0.0, 2.5, 2.5, 9.0]) for _ in range(len(worst))], dtype="Float64"
    )
    worst["n_findings"] = pd.array(
        [rng.choice([None, 0, 1, 3]) for _ in range(len(worst))], dtype="Int64"
    )
    for ranking in (worst, worst.iloc[::-1].reset_index(drop=True), worst.iloc[:0]):
        expected = _candidates_by_pandas(ranking)
        ids, rows = _candidates(ranking)
        assert list(map(str, ids)) == list(expected)
        assert sorted(rows) == sorted(expected)
        for tid, row in rows.items():
            assert [type(v) for v in row.values()] == [type(v) for v in expected[tid].values()]
            assert [str(v) for v in row.values()] == [str(v) for v in expected[tid].values()]
