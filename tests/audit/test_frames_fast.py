"""The audit frames' fast paths against the plain computation they replace: finding ids
hashed from byte strings joined by numpy (against the definition, one finding at a time), on
the texts most likely to tell them apart (NUL bytes anywhere, texts longer than the fast
path takes, non-ASCII, empty texts, the separator inside a text), and the tables of texts
the ids are built from; each token's run of write groups told apart by one number (against
the loop per token, collisions forced); risk_score's breadth read once per resource atom
(against the row-by-row reading and the formula computed per row)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import numpy as np
import pytest

from cftokens.audit import frames
from cftokens.audit.frames import _Column

HOSTILE = [
    "",
    "a",
    "None",
    "|",
    "a|b",
    "\0",
    "\0a",
    "a\0",
    "a\0b",
    "\0\0",
    "é",
    "zone é\u202e\u200b",
    "🙂" * 3,
    "x" * 255,
    "x" * 256,
    "é" * 128,  # 256 bytes in UTF-8
    "y" * 300 + "\0",
    "com.cloudflare.api.account.zone.023e105f4ecef8ad9ca31a8372d0c353",
]


def _definition(parts: list[list[str]]) -> list[str]:
    """The finding id's definition, finding by finding."""
    return [
        hashlib.blake2b("|".join(texts).encode(), digest_size=8).hexdigest()
        for texts in zip(*parts, strict=True)
    ]


def _columns(rng: random.Random, k: int, n_parts: int, empty_last: bool) -> list[_Column]:
    columns = []
    for i in range(n_parts):
        if i == n_parts - 1 and empty_last:
            columns.append(_Column(["", *HOSTILE[1:]], np.zeros(k, dtype=np.intp)))
            continue
        values = [*HOSTILE, *(f"v{i}-{j}" for j in range(rng.randrange(1, 30)))]
        rng.shuffle(values)
        codes = np.array([rng.randrange(len(values)) for _ in range(k)], dtype=np.intp)
        columns.append(_Column(values, codes))
    return columns


@pytest.mark.parametrize("fast_bytes", [0, 1, 8, 256, 100_000])
@pytest.mark.parametrize("empty_last", [False, True])
def test_hashed_ids_match_the_definition(fast_bytes: int, empty_last: bool) -> None:
    rng = random.Random(fast_bytes * 2 + empty_last)
    columns = _columns(rng, 3000, 6, empty_last)
    expected = _definition([[c.values[i] for i in c.codes.tolist()] for c in columns])
    got = frames._hashed_ids(columns, fast_bytes)
    assert got.dtype == object
    assert got.tolist() == expected


def test_hashed_ids_across_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of the fast path, and findings of the plain path between them, stay in place."""
    monkeypatch.setattr(frames, "_ID_BATCH", 7)
    columns = _columns(random.Random(3), 500, 3, False)
    expected = _definition([[c.values[i] for i in c.codes.tolist()] for c in columns])
    assert frames._hashed_ids(columns).tolist() == expected


def test_hashed_ids_leave_the_empty_state_empty() -> None:
    """Each finding hashes a copy of the module's empty BLAKE2b state: the state itself stays
    empty, so a second audit gets the same ids."""
    columns = _columns(random.Random(4), 300, 3, False)
    first = frames._hashed_ids(columns).tolist()
    assert frames._BLAKE2B_8.hexdigest() == hashlib.blake2b(b"", digest_size=8).hexdigest()
    assert frames._hashed_ids(columns).tolist() == first


def test_hashed_ids_of_no_finding() -> None:
    empty = np.zeros(0, dtype=np.intp)
    assert frames._hashed_ids([_Column(["a"], empty), _Column([""], empty)]).tolist() == []


@pytest.mark.parametrize("convert", [None, str])
def test_texts_in_use_keep_every_code_s_text(convert: object) -> None:
    rng = random.Random(5)
    values: list[object] = [*HOSTILE, *HOSTILE[:5], None, 3, "3"]
    codes = np.array([rng.randrange(len(values) - 4) for _ in range(400)], dtype=np.intp)
    if convert is not None:
        codes[:3] = [len(values) - 3, len(values) - 2, len(values) - 1]
    column = _Column(values, codes)
    used = frames._texts_in_use(column, convert)
    text = convert if convert is not None else (lambda v: v)
    assert [used.values[c] for c in used.codes.tolist()] == [
        text(values[c]) for c in codes.tolist()
    ]
    # only the values in use
    assert len(used.values) == len(set(codes.tolist()))


def _runs(
    rng: random.Random, n: int, longest: int, items: int, shortest: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (token, item) pairs: each token a run of shortest..longest distinct items."""
    pairs = sorted(
        (t, g) for t in range(n) for g in rng.sample(range(items), rng.randint(shortest, longest))
    )
    tok = np.array([t for t, _ in pairs], dtype=np.int64)
    item = np.array([g for _, g in pairs], dtype=np.int64)
    return tok, item


def _decoded(runs: list[tuple[int, ...]], codes: np.ndarray) -> list[tuple[int, ...]]:
    return [runs[c] for c in codes.tolist()]


@pytest.mark.parametrize(
    ("n", "longest", "items"), [(0, 0, 1), (1, 0, 1), (50, 1, 3), (400, 4, 6), (300, 40, 900)]
)
def test_token_runs_match_the_plain_reading(n: int, longest: int, items: int) -> None:
    tok, item = _runs(random.Random(n + longest), n, longest, items)
    runs, codes = frames._token_runs(tok, item, n)
    plain_runs, plain_codes = frames._token_runs_plain(tok, item, n)
    assert _decoded(runs, codes) == _decoded(plain_runs, plain_codes)
    # each run a token holds, once
    assert sorted(runs) == sorted(set(_decoded(runs, codes)))


def test_token_runs_that_share_a_number_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a base that names runs by their first item only, runs of one length collide: the
    comparison item by item catches it and the answer is still exact."""
    monkeypatch.setattr(frames, "_RUN_BASE", 0)
    tok, item = _runs(random.Random(9), 200, 3, 8, shortest=3)
    runs, codes = frames._token_runs(tok, item, 200)
    assert _decoded(runs, codes) == _decoded(*frames._token_runs_plain(tok, item, 200))


def test_write_groups_name_each_token_s_effective_write_groups() -> None:
    from cftokens.audit import Audit
    from cftokens.audit._inventory import L_WRITE
    from cftokens.audit.synth import synthetic_inventory

    audit = Audit.from_records(**synthetic_inventory(400, n_zones=50, seed=3))
    ctx = audit._ctx
    names = audit._inv.groups.names
    expected = []
    for t in range(ctx.n):
        rows = (ctx.tok == t) & ctx.eff & (ctx.g_level[ctx.grp] == L_WRITE)
        expected.append(", ".join(names[g] for g in sorted(set(ctx.grp[rows].tolist()))))
    assert frames._write_groups(ctx).tolist() == expected
    assert any(", " in text for text in expected)


def _plain_breadth(audit: Any) -> np.ndarray:
    """Each effective all-zones-of-an-account row's breadth, row by row (as risk_score read
    it before the count was read once per resource atom); other rows 0."""
    from cftokens.audit._inventory import K_ALL_ZONES_IN

    ctx = audit._ctx
    inv, d = ctx.inv, ctx.dir
    breadth = np.zeros(inv.m)
    for row in np.flatnonzero((ctx.kind == K_ALL_ZONES_IN) & ctx.eff):
        count = len(d.zones_of.get(str(inv.g_racct[row]), ()))
        breadth[row] = count if count else (1 if d.has_zones else frames._UNKNOWN_BREADTH)
    return breadth


# the inner loop scores 200 tokens; the full run 600 (ids "all", "some", "none")
@pytest.mark.parametrize(
    ("zones", "n_tokens"),
    [
        *(pytest.param(z, 600, id=z, marks=pytest.mark.slow) for z in ("all", "some", "none")),
        *(pytest.param(z, 200, id=f"{z}-small") for z in ("all", "some", "none")),
    ],
)
def test_risk_score_reads_each_account_s_zone_count(zones: str, n_tokens: int) -> None:
    """risk_score equals its formula with the breadth of all-zones-of-an-account grants read
    row by row: accounts with zones, accounts the directory lists without zones, and an
    empty directory."""
    from cftokens.audit import Audit
    from cftokens.audit._inventory import K_ALL_ZONES_IN
    from cftokens.audit.synth import synthetic_inventory

    inventory = synthetic_inventory(n_tokens, n_zones=40, seed=4)
    if zones == "some":
        inventory["zones"] = inventory["zones"][: len(inventory["zones"]) // 3]
    elif zones == "none":
        inventory["zones"] = []
    audit = Audit.from_records(**inventory)
    ctx = audit._ctx
    plain = _plain_breadth(audit)
    rows = (ctx.kind == K_ALL_ZONES_IN) & ctx.eff
    assert rows.sum() > 20
    assert len(set(plain[rows].tolist())) > (1 if zones == "all" else 0)
    # the score of every token, its all-zones-of-an-account breadths set to the plain ones
    score = frames.risk_score(ctx)
    expected = _score_with_breadth(ctx, plain, rows)
    np.testing.assert_array_equal(score, expected)


def _score_with_breadth(ctx: Any, plain: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """risk_score's formula (its docstring), per row in Python."""
    import math

    from cftokens.audit._inventory import FAMILY_BITS, K_ALL_ACCOUNTS, K_ALL_ZONES

    c: Any = ctx
    d = c.dir
    n_zones = max(len(d.zone_names), 1) if d.has_zones else frames._UNKNOWN_BREADTH
    n_accounts = max(len(d.account_names), 1) if d.has_accounts else frames._UNKNOWN_BREADTH
    weights = {"PE": 4.0, "CRED": 3.0, "HIJACK": 2.0, "EXFIL": 2.0, "EVASION": 1.0}
    level_weight = [1.0, 3.0, 2.0, 1.0]
    score = [0.0] * c.n
    for row in range(c.inv.m):
        if not c.eff[row]:
            continue
        kind = c.kind[row]
        breadth = 1.0
        if kind == K_ALL_ZONES:
            breadth = n_zones
        elif kind == K_ALL_ACCOUNTS:
            breadth = n_accounts
        elif rows[row]:
            breadth = plain[row]
        fam = sum(w for name, w in weights.items() if c.g_fam[c.grp[row]] & FAMILY_BITS[name])
        score[c.tok[row]] += (
            level_weight[c.row_level[row]] * (1.0 + fam) * (1.0 + math.log2(max(breadth, 1.0)))
        )
    out = []
    for t in range(c.n):
        exposure = (1.5 if c.ip_open[t] else 1.0) if c.has_ip_in[t] else 2.0
        exposure *= 1.0 if c.has_expiry[t] else 1.5
        out.append(round(score[t] * exposure, 1) if c.live[t] else 0.0)
    return np.array(out)


# the inner loop draws 100 batches of parts; the full run 300 (ids "0", "1", "3", "256")
@pytest.mark.parametrize(
    ("fast_bytes", "draws"),
    [
        *(pytest.param(b, 300, id=str(b), marks=pytest.mark.slow) for b in (0, 1, 3, 256)),
        *(pytest.param(b, 100, id=f"{b}-small") for b in (0, 1, 3, 256)),
    ],
)
def test_hashed_ids_equal_the_definition_on_hostile_parts(fast_bytes: int, draws: int) -> None:
    """The ids joined as numpy byte strings against the definition (``_plain_ids``) on parts
    holding NULs (leading, inner, trailing), trailing spaces and tabs, newlines, ideographic
    spaces, the separator itself, non-ASCII text ending in a NUL or space, empty parts
    (the last one too) and parts just under, at and over the fast path's byte limit."""
    from cftokens.audit.rules.base import object_table

    rng = random.Random(17)
    pool = [
        *("", " ", "a ", "x\x00", "\x00", "\x00y", "é", "🙂 ", "|", "||", "\t", "a\n"),
        *("\u3000", "ÿ\x00 ", "a" * 255, "a" * 256, "é" * 128, "a" * 257, "x" * 300 + "\x00"),
    ]
    for _ in range(draws):
        k = rng.randint(1, 20)
        parts = []
        for _ in range(6):
            values = list(dict.fromkeys(rng.sample(pool, rng.randint(1, 5))))
            codes = np.array([rng.randrange(len(values)) for _ in range(k)], dtype=np.intp)
            parts.append(_Column(values, codes))
        got = frames._hashed_ids(parts, fast_bytes).tolist()
        assert got == frames._plain_ids([object_table(p.values)[p.codes] for p in parts])


@pytest.mark.parametrize("tail", [[None], [None, None], [None, "0123456789abcdef" * 2, None]])
def test_strings_taken_from_the_token_texts(tail: list[Any]) -> None:
    """A token column taken from the audit's token texts (``head``) equals the column built
    from its own values, on hostile texts, None after them (NA) and, when a value after them
    is a text (a token the rule named by id), the column's own values."""
    import pandas as pd

    rng = random.Random(len(tail))
    values = [*HOSTILE, "a\ufffdb", "x" * 1000, ""]
    head = pd.array(values, dtype="string[python]")
    column = _Column([*values, *tail], np.array([], dtype=np.intp))
    column.codes = np.array([rng.randrange(len(column.values)) for _ in range(500)], dtype=np.intp)
    order = np.array(rng.sample(range(500), 500), dtype=np.intp)
    plain = column.strings(order)
    taken = column.strings(order, head)
    assert taken.dtype == plain.dtype
    assert taken.equals(plain)
    assert [x is pd.NA for x in taken] == [x is pd.NA for x in plain]


def test_token_texts_are_handed_to_the_tokens_frame_alone() -> None:
    """The token texts the findings frame takes its token columns from become the tokens
    frame's columns and leave the audit's memo: writing into one frame changes no other."""
    from cftokens.audit import Audit
    from cftokens.audit.synth import synthetic_inventory

    audit = Audit.from_records(**synthetic_inventory(60, n_zones=20))
    findings, tokens = audit.findings, audit.tokens
    assert frames._TOKEN_TEXTS not in audit._ctx.memo
    names = findings["token_name"].tolist()
    tokens.loc[:, "name"] = "changed"
    tokens.loc[:, "token_id"] = "changed"
    assert findings["token_name"].tolist() == names
    assert "changed" not in findings["token_id"].tolist()
    again = frames.tokens_frame(audit)
    assert "changed" not in again["name"].tolist()


def test_finding_ids_of_hostile_parts_in_any_order() -> None:
    """_finding_ids (the policy, group id and key hashed as one part, the ids made in the
    order asked) against the definition finding by finding, on group ids and keys holding
    the separator, NULs, non-ASCII and texts past the fast path's byte limit, findings that
    name no token (their evidence hashed last) and every position asked in a shuffled order."""
    rng = random.Random(11)
    k = 700
    rules = ["CFT-PE-01", "CFT-LN-02", "CFT-LN-04"]
    lens = np.array([200, 300, 200], dtype=np.int64)
    tokens = [*HOSTILE[1:6], None, "f" * 32]
    groups = [*HOSTILE, None]
    keys = [*HOSTILE, "com.cloudflare.api.account.zone.|x"]
    evidence = [*HOSTILE, "policy 1 allows X on zone é|\0"]

    def column(values: list[Any]) -> _Column:
        return _Column(values, np.array([rng.randrange(len(values)) for _ in range(k)]))

    token_id, group_id, key, ev = column(tokens), column(groups), column(keys), column(evidence)
    pol = np.array([rng.randrange(0, 4) for _ in range(k)], dtype=np.int64)
    at = np.array(rng.sample(range(k), k), dtype=np.intp)
    got = frames._finding_ids(rules, lens, token_id, pol, group_id, key, ev, at).tolist()
    rule_of = np.repeat(np.arange(3), lens)
    expected = []
    for i in at.tolist():
        tid = tokens[token_id.codes[i]]
        parts = [
            rules[rule_of[i]],
            str(tid),
            str(pol[i]),
            str(groups[group_id.codes[i]]),
            keys[key.codes[i]],
            evidence[ev.codes[i]] if tid is None else "",
        ]
        expected.append(hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest())
    assert got == expected
