"""The audit's fast paths against the plain computation they replace, on the audits most
likely to tell them apart: empty, one token, hostile texts (formula, bidi, NUL, non-ASCII
names; unreadable and duplicate tokens; findings on tokens named only by id), active and
lapsed suppressions, and a generated inventory."""

from __future__ import annotations

import ipaddress
import warnings
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from audit_helpers import ACCT as ACCT_ID
from audit_helpers import (
    ALL_ZONES,
    NOW,
    ZONE,
    account,
    allow,
    deny,
    good,
    run,
    token,
    zone,
    zones_of,
)

from cftokens.audit import Audit, core, frames, queries
from cftokens.audit._arrays import unique_ints
from cftokens.audit._context import _after_apply_by_token
from cftokens.audit._inventory import DUPLICATE, TokenRecord, build_inventory
from cftokens.audit.frames import gaps_frame, tokens_frame
from cftokens.audit.rules import RULES, base, ln
from cftokens.audit.severity import SEVERITY_ORDER
from cftokens.audit.synth import synthetic_inventory
from cftokens.audit.usage import UsageIndex

HOSTILE_NAMES = [
    '=HYPERLINK("http://x")',
    "\u202eevil\u202c",
    "trailing NUL\x00",
    "\x00",
    "",
    "née café ✓ 🚀",
    "a|b|c",
    "None",
    "tab\there\r\nnew line",
]


def _suppressions() -> list[dict[str, Any]]:
    return [
        {
            "rule": "CFT-RK-*",
            "match": {"token_name": ["*NUL*", "née*"]},
            "reason": "reviewed | with a pipe",
            "owner": "sec",
            "expires": (NOW + timedelta(days=30)).isoformat(),
        },
        {
            "rule": "CFT-NW-01",
            "reason": "old exception",
            "owner": "ops",
            "expires": (NOW - timedelta(days=3)).isoformat(),
        },
    ]


def _hostile() -> Audit:
    tokens = [
        token(
            name,
            allow(["DNS Write", "Zone Settings Write"], ALL_ZONES),
            allow(["Workers Scripts Write"], account(ACCT_ID)),
            deny(["DNS Write"], zone(ZONE)),
            ip_in=[] if i % 2 else ["10.0.0.0/8", "0.0.0.0/0"],
            expires=None if i % 3 else 400,
        )
        for i, name in enumerate(HOSTILE_NAMES)
    ]
    twin = good("twin")
    tokens += [
        {"id": twin["id"], "name": "unreadable, then readable", "policies": "x"},
        twin,
        {**twin, "name": "twin's duplicate"},  # the same id twice
        {"id": "abc", "name": "bad", "policies": "x"},  # unreadable, named by id
        {"name": "no id", "policies": 5},  # unreadable, no id
        {"id": twin["id"], "name": "unreadable twin", "policies": "x"},
        token("zones of", allow(["DNS Read"], zones_of(ACCT_ID)), ip_in=[]),
    ]
    return run(*tokens, suppressions=_suppressions())


def _generated() -> Audit:
    inventory = synthetic_inventory(400, n_zones=80, seed=3)
    now = inventory["now"]
    suppressions = [
        {
            "rule": "CFT-RK-04",
            "match": {"token_name": ["token-a*"]},
            "reason": "reviewed",
            "owner": "sec",
            "expires": (now + timedelta(days=30)).isoformat(),
        },
        {"rule": "CFT-NW-01", "reason": "old", "owner": "o", "expires": (now - timedelta(1))},
    ]
    return Audit.from_records(**inventory, suppressions=suppressions)


CASES = {
    "empty": lambda: run(),
    "one token": lambda: run(good()),
    "one risky token": lambda: run(token("wide", allow(["DNS Write"], ALL_ZONES), ip_in=[])),
    "hostile": _hostile,
    "generated": _generated,
}


@pytest.fixture(scope="module", params=list(CASES))
def audit(request: pytest.FixtureRequest) -> Audit:
    return CASES[request.param]()


def test_tokens_frame_from_positions_matches_the_lookup_by_id(audit: Audit) -> None:
    """The audit counts each token's open findings from the positions the findings frame
    returns; looking each finding's token up by ``token_id`` (as after ``scan_secrets``)
    gives the same frame."""
    pd.testing.assert_frame_equal(tokens_frame(audit), audit.tokens, check_exact=True)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.intp, np.uint16])
def test_unique_ints_matches_numpy(dtype: Any) -> None:
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    for size in (0, 1, 2, 3, 50, 5000):
        for high in (2, 100, int(info.max)):
            values = rng.integers(max(info.min, -high), high, size=size, dtype=dtype, endpoint=True)
            got = unique_ints(values)
            expected = np.unique(values)
            assert got.dtype == expected.dtype
            assert np.array_equal(got, expected)
    assert np.array_equal(unique_ints([[3, 1], [3, 2]]), [1, 2, 3])  # any shape, flattened


def _reference_gaps(audit: Audit) -> pd.DataFrame:
    """The gaps frame as it was first built: a frame of dicts, then a conversion per column."""
    rows = [
        {
            "kind": g.get("kind", "collection"),
            "subject": g.get("subject"),
            "what": g.get("what"),
            "reason": g.get("reason"),
            "hides_tokens": bool(
                g.get("hides_tokens", g.get("kind", "collection") != "evaluation")
            ),
        }
        for g in audit._collection_gaps
    ]
    rows += [
        {
            "kind": "evaluation",
            "subject": rule_id,
            "what": f"rule {rule_id} {RULES[rule_id].title}",
            "reason": reason,
            "hides_tokens": False,
        }
        for rule_id, reason in audit._rule_gaps
    ]
    rows += [
        {
            "kind": "input",
            "subject": tid,
            "what": f"token {tid}",
            "reason": reason,
            "hides_tokens": reason != DUPLICATE,
        }
        for tid, reason in audit._inv.invalid
    ]
    rows += [
        {
            "kind": "input",
            "subject": tid,
            "what": f"token {tid}",
            "reason": r,
            "hides_tokens": False,
        }
        for tid, r in audit._ctx.date_gaps
    ]
    frame = pd.DataFrame(rows, columns=["kind", "subject", "what", "reason", "hides_tokens"])
    with warnings.catch_warnings():  # pandas 3 warns of a kind outside the categories
        warnings.simplefilter("ignore")
        kinds = pd.Categorical(frame["kind"], categories=["collection", "evaluation", "input"])
    frame["kind"] = kinds
    for column in ("subject", "what", "reason"):
        frame[column] = frame[column].astype("string[python]")
    frame["hides_tokens"] = frame["hides_tokens"].astype(bool)
    return frame


HOSTILE_GAPS: list[dict[str, Any]] = [
    {"kind": "collection", "subject": "acct", "what": "tokens of acct", "reason": "403"},
    {"kind": "evaluation", "subject": None, "what": None, "reason": None},
    {"subject": 5, "what": 2.5, "reason": True},  # an older export: no kind, no flag
    {"kind": "weird", "subject": "=cmd", "what": "\u202e\x00", "reason": "née", "hides_tokens": 0},
    {"kind": "input", "subject": float("nan"), "what": "", "reason": "x", "hides_tokens": "yes"},
    {},
]


@pytest.mark.parametrize("gaps", [[], HOSTILE_GAPS[:1], HOSTILE_GAPS], ids=["none", "one", "all"])
def test_gaps_frame_matches_the_frame_of_dicts(audit: Audit, gaps: list[dict[str, Any]]) -> None:
    """The gaps frame, built column by column, equals the frame of dicts converted column by
    column: dtypes, categories, index, values (collection gaps of any shape an export holds)."""
    audit = audit.rerun() if not gaps else _with_gaps(audit, gaps)
    expected = _reference_gaps(audit)
    got = gaps_frame(audit)
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_index_type=True)
    assert got["kind"].cat.categories.dtype == expected["kind"].cat.categories.dtype
    assert got.columns.dtype == expected.columns.dtype


def _with_gaps(audit: Audit, gaps: list[dict[str, Any]]) -> Audit:
    return Audit(
        audit._records,
        accounts=audit.directory.accounts,
        zones=audit.directory.zones,
        user=audit.user,
        now=audit.now,
        gaps=gaps,
    )


def _reference_summary(audit: Audit) -> dict[str, Any]:
    """The summary as it was first computed: comparisons on the frames, the open findings
    filtered into a frame of their own."""
    f = audit.findings
    open_f = f[~f["suppressed"].astype(bool)]
    return {
        "tokens": len(audit.tokens),
        "live_tokens": int(audit.tokens["live"].fillna(False).sum()),
        "user_tokens": int((audit.tokens["kind"] == "user").sum()),
        "account_tokens": int((audit.tokens["kind"] == "account").sum()),
        "findings": {s: int((open_f["severity"] == s).sum()) for s in reversed(SEVERITY_ORDER)},
        "suppressed": int(f["suppressed"].astype(bool).sum()),
        "gaps": len(audit.gaps),
        "incomplete": bool(audit.gaps["hides_tokens"].any()),
    }


@pytest.mark.parametrize("gaps", [[], HOSTILE_GAPS], ids=["none", "all"])
def test_summary_counts_what_the_frames_hold(
    audit: Audit, gaps: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary (read by every report and the CLI) counts on the columns' codes and the
    gaps' rows without building a frame: the same counts, of the same types, as the
    comparisons on the frames (suppressed findings, tokens whose liveness is unknown, gaps
    that hide tokens and gaps that do not)."""
    audit = audit.rerun() if not gaps else _with_gaps(audit, gaps)
    expected = _reference_summary(audit)
    with monkeypatch.context() as patch:  # the frames are read as they are, none rebuilt
        patch.setattr(core, "gaps_frame", _no_frame)
        got = audit.summary()
        incomplete = audit.incomplete
    assert got == expected
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]
    assert incomplete is expected["incomplete"]


def _no_frame(audit: Audit) -> pd.DataFrame:
    raise AssertionError("the gaps frame was built for a count")


def test_distinct_small_path_matches_the_numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`distinct` answers a few findings' keys with tuples in Python; the numpy path
    (combined keys, dense renumbering near overflow, one sort) gives the same positions and
    numbers, so each rule's texts are numbered the same either way."""
    rng = np.random.default_rng(11)
    big = np.iinfo(np.int64)
    cases: list[list[npt.NDArray[np.int64]]] = []
    for n in (1, 2, 3, 7, 20, base._SMALL):
        for n_keys in (1, 2, 3, 5):
            for high in (2, 50, big.max // 2):
                cases.append(
                    [rng.integers(-high, high, size=n, dtype=np.int64) for _ in range(n_keys)]
                )
        cases.append([np.full(n, big.min), np.full(n, big.max), np.arange(n)])
    for keys in cases:
        small = base.distinct(*keys)
        with monkeypatch.context() as m:
            m.setattr(base, "_SMALL", 0)
            wide = base.distinct(*keys)
        assert small[0].dtype == wide[0].dtype and small[1].dtype == wide[1].dtype
        assert np.array_equal(small[0], wide[0]) and np.array_equal(small[1], wide[1]), keys


def _after_apply(record: TokenRecord) -> Any:
    """The reference: one record's attributes known only after apply, read by hand."""
    payload = record.payload
    if type(payload) is dict or isinstance(payload, Mapping):
        return payload.get("terraform_unknown")
    return None


class _OddMapping(dict):  # type: ignore[type-arg]
    """A dict subclass whose ``get`` is not its storage: the audit reads it by its ``get``."""

    def get(self, key: Any, default: Any = None) -> Any:
        if key == "terraform_unknown":
            return ["not_before"]
        return super().get(key, default)


def test_after_apply_reads_every_payload_like_the_record_reader() -> None:
    """The attributes known only after apply are read by the parse (bulk path: one C-level
    pass with the token's other fields; token reader: the mapping's own ``get``), and the
    context takes them from the inventory: the same tokens and attributes as reading each
    token's payload by hand, on plain dicts, other mappings, a subclass whose ``get`` differs
    from its storage, odd values, payloads that are no token, and a duplicate id."""
    tid = "a" * 32
    plain: list[Any] = [
        {"id": tid, "terraform_unknown": ["condition", "expires_on"]},
        {"terraform_unknown": []},
        {"terraform_unknown": None},
        {},
        {"id": "b" * 32, "terraform_unknown": ("not_before",)},
        {
            "id": "c" * 32,
            "terraform_unknown": "condition",
            "policies": [allow(["DNS Write"], zone(ZONE))],
        },
    ]
    others: list[Any] = [
        MappingProxyType({"terraform_unknown": ["policies"]}),
        _OddMapping({"id": "d" * 32, "terraform_unknown": ["condition"]}),
        None,
        ["x"],
        5,
        {"id": tid, "terraform_unknown": ["name"]},  # listed twice: left out
    ]
    for payloads in (plain, [*plain, *others], others, [], [*others, *plain] * 3):
        records = [TokenRecord(p, "user", "u", None) for p in payloads]
        for bulk in (True, False):
            inv = build_inventory(records, bulk=bulk)
            expected = {
                t: frozenset(u) for t, u in enumerate(map(_after_apply, inv.records)) if u
            }  # the reading record by record
            assert _after_apply_by_token(inv.unknown) == expected
            assert len(inv.unknown) == inv.n


def test_grant_rows_read_by_resource_atom_match_row_by_row(audit: Audit) -> None:
    """The grants frame's resource texts and labels, taken from one row per resource atom,
    and the directory check of CFT-LN-02 made once per atom, equal the row-by-row reading."""
    inv, ctx = audit._inv, audit._ctx
    grants = audit.grants
    for column, values in (
        ("resource_id", inv.g_rid),
        ("resource_account_id", inv.g_racct),
        ("resource_key", inv.g_rkey),
    ):
        expected = pd.array(values, dtype="string[python]")
        pd.testing.assert_extension_array_equal(grants[column].array, expected)
    labels = [ctx.resource_label(row) for row in range(inv.m)]
    assert grants["resource"].astype(object).tolist() == labels
    assert ln._missing_mask(ctx).tolist() == [
        ln._missing(ctx, row) is not None for row in range(inv.m)
    ]
    number, first = ctx.atoms
    atoms = list(zip(inv.g_kind, inv.g_rid, inv.g_racct, inv.g_rkey, strict=True))
    assert [atoms[r] for r in first.tolist()] == list(dict.fromkeys(atoms))
    assert [atoms[r] for r in first[number].tolist()] == atoms


def test_owner_codes_name_each_kind_and_owner(audit: Audit) -> None:
    inv = audit._inv
    owners = list(zip(inv.kinds, inv.owner_ids, strict=True))
    codes = audit._ctx.owner_codes.tolist()
    assert len(codes) == len(owners)
    assert dict(zip(owners, codes, strict=True)) == {
        o: i for i, o in enumerate(dict.fromkeys(owners))
    }


def test_the_index_of_token_ids_is_made_only_when_a_finding_names_a_token_by_id() -> None:
    """The context's id -> position index is made on first use: an audit whose findings all
    name their token by position never makes it; one with findings on tokens named only by
    id (unreadable ones) makes it, with the positions of the inventory's ids."""
    plain = _generated()
    _ = plain.findings, plain.tokens  # the frames are built when first read
    assert "token_index" not in vars(plain._ctx)
    assert plain._ctx.token_index == {tid: t for t, tid in enumerate(plain._inv.ids)}
    hostile = _hostile()
    _ = hostile.findings, hostile.tokens
    assert "token_index" in vars(hostile._ctx)
    assert hostile._ctx.token_index == {tid: t for t, tid in enumerate(hostile._inv.ids)}


def test_nw02_names_the_ranges_ipaddress_calls_wide() -> None:
    """CFT-NW-02 reads each range's prefix length from the context's CIDR facts; the ranges
    it names are those ``ipaddress`` calls /16 or wider (IPv4) or /32 or wider (IPv6), in the
    token's order, whatever their spelling."""
    ranges = [" 10.0.0.0/8", "34.0.0.0/16", "34.1.2.0/24", "2001:db8::/32", "2001:db8::/48"]
    ranges += ["34.120.0.0/255.255.0.0", "0.0.0.0/0", "::/0", "8.8.8.8", "2600::/12"]
    audit = run(
        *(
            token(f"t{i}", allow(["DNS Read"], zone(ZONE)), ip_in=ranges[i:])
            for i in range(len(ranges))
        )
    )
    f = audit.findings
    got = dict(
        zip(
            f.loc[f["rule_id"] == "CFT-NW-02", "token_name"],
            f.loc[f["rule_id"] == "CFT-NW-02", "evidence"],
            strict=True,
        )
    )
    for i in range(len(ranges)):
        nets = [(v, ipaddress.ip_network(v.strip(), strict=False)) for v in ranges[i:]]
        wide = [
            v
            for v, net in nets
            if net.prefixlen > 0 and net.prefixlen <= (16 if net.version == 4 else 32)
        ]
        zero = any(net.prefixlen == 0 for _, net in nets)
        if wide and not zero:
            assert got.pop(f"t{i}") == f"allow range(s) {', '.join(wide)}"
    assert not got


def test_usage_answers_are_read_once_and_handed_out_as_copies(demo_audit: Audit) -> None:
    """The usage index keeps each token's zones, accounts, allowlist proposal and clients
    after the first question: later answers equal a fresh index's, and changing an answer
    changes no later one."""
    ctx = demo_audit._ctx
    assert ctx.usage is not None
    fresh = lambda: UsageIndex(  # noqa: E731
        demo_audit.usage, demo_audit.now, demo_audit.profile.thresholds.usage_window_days, ctx.dir
    )
    index = fresh()
    asked = 0
    # one fresh index per question kind, asked each token once: each answer is its first
    names = ("zones", "accounts", "cidrs", "clients", "main_account")
    references = {name: fresh() for name in names}
    for tid in [*demo_audit._inv.ids, "not a token"]:
        for name in names:
            expected = getattr(references[name], name)(tid)
            first = getattr(index, name)(tid)
            assert first == expected
            if isinstance(first, list):
                first.append("changed")
            elif isinstance(first, tuple):
                first[0].add("changed")
                first[1].add("changed")
            assert getattr(index, name)(tid) == expected
            asked += bool(expected) if not isinstance(expected, tuple) else any(expected)
    assert asked > 10  # the demo's usage answers for many tokens


LABELS = ["b", "a", "B", "", "\x00", "a\x00", "é", "e\u0301", "🚀", "10", "9", "None", "nan", "Z"]


@pytest.mark.parametrize("size", [0, 1, 5, 200])
def test_categorical_from_codes_matches_pandas_own(size: int) -> None:
    """The grants frame's label columns: the categorical of ``labels[c]`` for each code,
    built from the distinct codes, equals the one pandas makes from the list of rows (the
    same categories in the same order and index dtype, the same codes)."""
    rng = np.random.default_rng(size)
    for labels in (LABELS, [*LABELS, *LABELS], ["only"]):
        codes = rng.integers(0, len(labels), size=size)
        got = frames._categorical(codes, labels)
        expected = pd.Categorical([labels[c] for c in codes])
        pd.testing.assert_extension_array_equal(got, expected)
        assert got.categories.tolist() == expected.categories.tolist()
        assert got.categories.dtype == expected.categories.dtype


def _backing(array: Any) -> list[npt.NDArray[Any]]:
    """The numpy arrays behind a pandas array (values, mask, codes)."""
    found = []
    for attr in ("_ndarray", "_data", "_mask", "_codes", "codes"):
        value = getattr(array, attr, None)
        if isinstance(value, np.ndarray):
            found.append(value)
    if not found:
        found.append(np.asarray(array))
    return found


def test_frames_share_no_memory_with_the_audits_arrays(audit: Audit) -> None:
    """The frames are built without pandas' defensive copy where every column is new: no
    column may share memory with the context's or the inventory's arrays, which the
    queries read after the user has changed a frame."""
    ctx, inv = audit._ctx, audit._inv
    internal = [v for v in (*vars(ctx).values(), *inv.arrays.values()) if isinstance(v, np.ndarray)]
    internal += list(ctx.dates.values())
    for name in ("findings", "grants", "tokens", "gaps"):
        frame = getattr(audit, name)
        for column in frame.columns:
            for backing in _backing(frame[column].array):
                shared = [i for i, a in enumerate(internal) if np.shares_memory(backing, a)]
                assert not shared, (name, column)


def test_group_names_of_reads_the_rows_in_order(audit: Audit) -> None:
    """A token's distinct group names among some rows, from its slice of the arrays, equal
    the names read row by row (in row order, each once)."""
    ctx, inv = audit._ctx, audit._inv
    rng = np.random.default_rng(1)
    for mask in (ctx.eff, ctx.write_row, rng.random(inv.m) < 0.5):
        for t in range(inv.n):
            names: dict[str, None] = {}
            for row in range(inv.row_start[t], inv.row_end[t]):
                if mask[row]:
                    names[inv.groups.names[inv.g_group[row]]] = None
            assert ctx.group_names_of(t, mask) == list(names)


@pytest.mark.parametrize("key", ["group", "policy", "token"])
def test_best_rows_by_one_sort_matches_the_lexsort(audit: Audit, key: str) -> None:
    """best_rows orders by key, worst severity, row with one stable sort of a combined key;
    the three-key lexsort it replaces picks the same rows, severities and counts."""
    ctx = audit._ctx
    rng = np.random.default_rng(4)
    for density in (0.0, 0.3, 1.0):
        mask = rng.random(audit._inv.m) < density
        for sev in (rng.integers(0, 5, audit._inv.m), 3):
            rows = np.flatnonzero(mask)
            sev_rows = np.broadcast_to(np.asarray(sev), mask.shape)[rows].astype(np.int64)
            tok = ctx.tok[rows].astype(np.int64)
            k = {
                "group": tok * 1_000_000 + ctx.grp[rows],
                "policy": tok * 100_000 + ctx.pol[rows],
                "token": tok,
            }[key]
            order = np.lexsort((rows, -sev_rows, k))
            r, s, k = rows[order], sev_rows[order], k[order]
            first = np.ones(len(r), dtype=bool)
            first[1:] = k[1:] != k[:-1]
            counts = np.diff(np.append(np.flatnonzero(first), len(r)))
            got = base.best_rows(ctx, mask, sev, key)
            assert np.array_equal(got[0], r[first]) and np.array_equal(got[1], s[first])
            assert np.array_equal(got[2], counts)


def test_a_tokens_right_sizing_is_worked_out_once_per_audit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fix right-sizes its token to the usage (most of a fix's time): the HTML report, the
    CLI and a notebook asking for the same token's fix again read the first right-sizing,
    and get equal fixes; a rerun (another audit) works its own out."""
    sized: list[str] = []
    real = queries.rightsize

    def counted(token: Any, *args: Any, **kwargs: Any) -> Any:
        sized.append(token.id)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(queries, "rightsize", counted)
    wide = token("wide", allow(["DNS Write", "Zone Read"], ALL_ZONES), ip_in=[])
    other = token("other", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    used = [
        {"time": NOW - timedelta(days=1), "token_id": t["id"], "method": "GET", "status": 200,
         "path": f"/client/v4/zones/{ZONE}/dns_records"}
        for t in (wide, other)
    ]  # fmt: skip
    audit = run(wide, other, usage=used)
    first = [audit.fix(t) for t in (wide["id"], other["id"])]
    assert sorted(sized) == sorted([wide["id"], other["id"]])
    again = [audit.fix(t) for t in (wide["id"], other["id"])]
    assert again == first and len(sized) == 2
    assert all(a is not b for a, b in zip(again, first, strict=True))
    assert "Zone Read" not in str(first[0].put_body)  # right-sized: only what it used
    audit.rerun().fix(wide["id"])
    assert len(sized) == 3
