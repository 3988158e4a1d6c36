"""Hits: findings recorded one by one (``add``) and in batches (``extend``) read back alike."""

from __future__ import annotations

import numpy as np
import pytest

from cftokens.audit import Audit
from cftokens.audit._context import Ctx
from cftokens.audit.rules import Hits
from cftokens.audit.rules.base import Coded, distinct
from cftokens.audit.severity import Severity
from cftokens.audit.steps import Disable, RollSecret
from cftokens.audit.synth import synthetic_inventory


def _ctx() -> Ctx:
    return Audit.from_records(**synthetic_inventory(30, n_zones=40))._ctx


def test_extend_reads_back_like_add_in_order() -> None:
    ctx = _ctx()
    rows = [0, 5, 0, 7]
    one = Hits("CFT-RK-01")
    for t, row in zip([1, 2, 3, 4], rows, strict=True):
        one.add(int(ctx.tok[row]), Severity.HIGH, f"e{t}", "d", "r", Disable(), row=row, ctx=ctx)
    many = Hits("CFT-RK-01")
    many.add(int(ctx.tok[0]), Severity.HIGH, "e1", "d", "r", Disable(), row=0, ctx=ctx)
    many.extend(
        ctx.tok[rows[1:]],
        np.array([3, 3, 3]),
        Coded(["e2", "e3", "e4"], [0, 1, 2]),
        "d",
        ["r", "r", "r"],
        Disable(),
        rows=rows[1:],
        ctx=ctx,
    )
    assert len(many) == len(one) == 4
    for column in ("tok", "sev", "row", "pol", "grp", "zone", "account", "evidence", "detail"):
        assert getattr(many, column) == getattr(one, column), column
    assert many.fix == one.fix
    assert many.token_id == [None] * 4


def test_extend_without_rows_names_no_grant() -> None:
    hits = Hits("CFT-LC-03")
    hits.extend([4, 9], Severity.MEDIUM, ["a", "b"], "d", "r", RollSecret())
    assert hits.row == [-1, -1]
    assert hits.pol == [0, 0]
    assert hits.grp == [-1, -1]
    assert hits.zone == [None, None]
    assert hits.sev == [Severity.MEDIUM.rank] * 2


def test_extend_refuses_what_it_cannot_read() -> None:
    hits = Hits("CFT-LC-03")
    with pytest.raises(TypeError, match="Severity or an array of ranks"):
        hits.extend([1], "high", "e", "d", "r", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="severity ranks from 0 to 4"):
        hits.extend([1, 2], [3, 7], "e", "d", "r", None)
    with pytest.raises(ValueError, match="2 values for 1 findings"):
        hits.extend([1], Severity.LOW, ["a", "b"], "d", "r", None)
    with pytest.raises(ValueError, match="every code must index"):
        Coded(["a"], [0, 1])
    assert len(hits) == 0


def test_coded_per_key_builds_each_value_once() -> None:
    calls: list[int] = []
    keys_a = np.array([5, 5, 9, 5, 9])
    keys_b = np.array([1, 2, 1, 1, 1])

    def make(i: int) -> str:
        calls.append(i)
        return f"{keys_a[i]}/{keys_b[i]}"

    coded = Coded.per_key(make, keys_a, keys_b)
    assert coded.decoded() == ["5/1", "5/2", "9/1", "5/1", "9/1"]
    assert len(calls) == 3
    first, codes = distinct(keys_a)
    assert sorted(keys_a[first].tolist()) == [5, 9]
    assert codes.tolist() == [0, 0, 1, 0, 1]
    assert distinct(np.zeros(0))[1].tolist() == []


def test_coded_of_keeps_one_shared_object_once() -> None:
    """A list whose findings all hold the very same object is kept as that one value; a list
    of equal objects made apart (or of 1 and True, NaN, None) keeps each finding's own."""
    text = "policy 1 names zone é\0"
    other = "".join(["policy 1 names zone ", "é\0"])  # equal, another object
    fix = Disable()
    nan = float("nan")
    one = Coded.of([fix] * 5, 5)
    assert one.values == [fix] and one.decoded() == [fix] * 5
    assert all(v is fix for v in one.decoded())
    for values in ([text, other, text], [1, True], [nan, float("nan")], [None, None, "x"]):
        coded = Coded.of(values, len(values))
        assert len(coded.values) == len(values)
        assert all(a is b for a, b in zip(coded.decoded(), values, strict=True))
    assert Coded.of([None, None], 2).values == [None]
    assert Coded.of(["a"], 1).values == ["a"]
    assert Coded.of([], 0).decoded() == []


def test_ln04_columns_keep_a_shared_text_once() -> None:
    """CFT-LN-04's columns read back as each issue's own texts and fix; the detail and fix
    every issue of the generated inventory shares (one object, made once by the inventory)
    are kept once."""
    from cftokens.audit.rules import RULES

    inventory = synthetic_inventory(400, n_zones=60)
    ctx = Audit.from_records(**inventory)._ctx
    issues = ctx.inv.ln04
    assert len(issues) > 20
    hits = RULES["CFT-LN-04"].fn(ctx, RULES["CFT-LN-04"])  # type: ignore[misc]
    batch = hits.batches()[0]
    assert batch[1].tolist() == [i.severity.rank for i in issues]
    for i, attr in enumerate(("evidence", "detail", "remediation", "fix"), start=7):
        column = batch[i]
        assert all(a is getattr(b, attr) for a, b in zip(column.decoded(), issues, strict=False))
    assert len(batch[8].values) == len(batch[10].values) == 1


def test_distinct_keys_of_any_range() -> None:
    """Keys spanning the whole int64 range (a NaN day count is the smallest int64) combine
    without overflow: equal combinations share a number, different ones never do."""
    low, high = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    a = np.array([low, high, low, 0, high, 0])
    b = np.array([1, 1, 1, 2, 1, 3])
    c = np.array([high, high, high, low, high, low])
    first, codes = distinct(a, b, c)
    triples = list(zip(a.tolist(), b.tolist(), c.tolist(), strict=True))
    assert len(first) == len(set(triples)) == 4
    for i in range(len(triples)):
        for j in range(len(triples)):
            assert (codes[i] == codes[j]) == (triples[i] == triples[j])
    assert [triples[int(f)] for f in first] == [triples[i] for i in first.tolist()]


def _distinct_reference(keys: list[np.ndarray]) -> tuple[list[int], list[int]]:
    """distinct()'s definition, position by position: combinations numbered in their sorted
    (lexicographic) order, each with its first position."""
    combos = list(zip(*(k.tolist() for k in keys), strict=True))
    first: dict[tuple[int, ...], int] = {}
    for i, combo in enumerate(combos):
        first.setdefault(combo, i)
    number = {combo: j for j, combo in enumerate(sorted(first))}
    return [first[c] for c in sorted(first)], [number[c] for c in combos]


@pytest.mark.parametrize("n", [49, 300, 5000])
@pytest.mark.parametrize("spread", [1, 3, 40, 10**6, 10**15])
def test_distinct_by_table_or_sort_matches_its_definition(
    n: int, spread: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways distinct() numbers combined keys (a table of flags when they span little, a
    sort otherwise) give the definition's numbers and first positions, on one to three keys
    with negative values, repeats and every spread from one value to 10**15."""
    from cftokens.audit.rules import base

    calls: list[int] = []
    dense = base._distinct_dense

    def spy(combined: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
        calls.append(span)
        return dense(combined, span)

    monkeypatch.setattr(base, "_distinct_dense", spy)
    rng = np.random.default_rng(n + spread)
    for n_keys in (1, 2, 3):
        keys = [rng.integers(-spread, spread + 1, n) for _ in range(n_keys)]
        first, codes = distinct(*keys)
        ref_first, ref_codes = _distinct_reference(keys)
        assert first.dtype == codes.dtype == np.intp
        assert first.tolist() == ref_first
        assert codes.tolist() == ref_codes
    # small spreads take the table, wide ones the sort
    assert bool(calls) == (spread <= 40)
