"""The bulk inventory path against the token-by-token reader it stands in for.

``build_inventory`` reads well-formed tokens column by column and leaves every other token to
the lenient token reader (``bulk=False`` reads all of them that way). Both must give the same
inventory (rows, issues, gaps, E(T)) and so the same audit frames, on generated inventories,
on the demo company and on malformed tokens mixed among well-formed ones.
"""

from __future__ import annotations

import copy
import functools
import json
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from audit_helpers import ACCT, ACCT2, NOW, USER, ZONE, ZONE3, assert_frames_identical
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cftokens as cft
from batched_cases import cases
from cftokens.audit import Audit, _inventory, core
from cftokens.audit._inventory import (
    DUPLICATE,
    Inventory,
    TokenRecord,
    _read_bulk,
    build_inventory,
)
from cftokens.audit.synth import msp_inventory, synthetic_inventory

CORPUS = Path(__file__).resolve().parent.parent / "data" / "definitions"
DNS_WRITE = cft.permission_groups.get("DNS Write").id
ZONE_READ = cft.permission_groups.get("Zone Read").id
WORKERS = cft.permission_groups.get("Workers Scripts Write").id


def state(inv: Inventory) -> dict[str, Any]:
    """Everything an inventory holds, comparable with == (the lists made from its arrays on
    first read included)."""
    for column in _inventory._ARRAY_DTYPES:
        getattr(inv, column)
    out: dict[str, Any] = {}
    for key, value in vars(inv).items():
        if key == "arrays":
            out.update({f"array {k}": v.tolist() for k, v in value.items()})
            out.update({f"dtype {k}": v.dtype for k, v in value.items()})
        elif key == "ln04":
            out[key] = [tuple(getattr(i, s) for s in i.__slots__) for i in value]
        elif key == "records":
            out[key] = [id(r) for r in value]
        elif key == "groups":
            out[key] = (value.ids, value.names, value.scope, value.known)
        else:
            out[key] = value
    return out


def atom_numbers(inv: Inventory) -> tuple[list[int], list[int]]:
    """The reference numbering of the rows' resource atoms: row by row, equal (kind, id,
    account, key) one number, in order of first appearance, and each number's first row."""
    seen: dict[tuple[Any, ...], int] = {}
    number = [
        seen.setdefault(atom, len(seen))
        for atom in zip(inv.g_kind, inv.g_rid, inv.g_racct, inv.g_rkey, strict=True)
    ]
    first: dict[int, int] = {}
    for row, k in enumerate(number):
        first.setdefault(k, row)
    return number, list(first.values())


def built(
    records: list[TokenRecord], zone_account: dict[str, str] | None, bulk: bool = True
) -> dict[str, Any]:
    """:func:`state` of the inventory, whose atom numbers (made by the parse from the
    bulk path's codes per distinct atom object) are first checked against the reference."""
    inv = build_inventory(records, zone_account, bulk=bulk)
    number, first = atom_numbers(inv)
    assert inv.arrays["g_atom"].dtype == np.int64 and inv.arrays["g_atom_first"].dtype == np.intp
    assert inv.arrays["g_atom"].tolist() == number
    assert inv.arrays["g_atom_first"].tolist() == first
    return state(inv)


def assert_same(records: list[TokenRecord], zone_account: dict[str, str] | None = None) -> None:
    """The bulk path as one chunk and in chunks of a few tokens (so the chunks' join and the
    ids listed in two chunks are tested on every input here) against the token reader."""
    bulk = built(records, zone_account)
    reference = built(records, zone_account, bulk=False)
    for chunk in (None, *((1, 3) if len(records) <= 200 else (97, 500))):
        if chunk is not None:
            with mock.patch.object(_inventory, "_CHUNK", chunk):
                bulk = built(records, zone_account)
        assert bulk.keys() == reference.keys()
        for key in reference:
            assert bulk[key] == reference[key], (chunk, key)


def records_of(inv: dict[str, Any]) -> list[TokenRecord]:
    user = inv["user"]
    out = [TokenRecord(t, "user", user["id"], user["email"]) for t in inv["tokens"]]
    for account_id, items in inv["account_tokens"].items():
        out += [TokenRecord(t, "account", account_id, account_id) for t in items]
    return out


# the small inventories in the inner loop, the larger ones (many chunks of 97) in the full run
@pytest.mark.parametrize(
    "inventory",
    [
        pytest.param(
            functools.partial(synthetic_inventory, 1500, n_accounts=8, n_zones=120, seed=11),
            id="synthetic",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            functools.partial(msp_inventory, 1500, n_accounts=30, n_zones=400, seed=5),
            id="msp",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            functools.partial(synthetic_inventory, 250, n_accounts=8, n_zones=40, seed=11),
            id="synthetic-small",
        ),
        pytest.param(
            functools.partial(msp_inventory, 250, n_accounts=10, n_zones=80, seed=5),
            id="msp-small",
        ),
    ],
)
def test_generated_inventories_read_the_same(inventory: Any) -> None:
    inv = inventory()
    records = records_of(inv)
    zone_account = {z["id"]: z["account"]["id"] for z in inv["zones"]}
    assert_same(records, zone_account)
    # most of these tokens take the bulk path (the comparison above is not vacuous)
    fast, taken = _read_bulk(records, Inventory().groups)
    assert len(taken) > 0.9 * len(records)
    assert fast.n == len(taken)


def base_token(i: int) -> dict[str, Any]:
    return {
        "id": f"{i:032x}",
        "name": f"token {i}",
        "status": "active",
        "issued_on": "2026-01-01T00:00:00Z",
        "expires_on": "2027-01-01T00:00:00Z",
        "condition": {"request.ip": {"in": ["34.120.1.0/24"]}},
        "policies": [
            {
                "id": "f" * 32,
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE, "name": "DNS Write"}, {"id": ZONE_READ}],
                "resources": {
                    f"com.cloudflare.api.account.{ACCT}": {
                        f"com.cloudflare.api.account.zone.{ZONE}": "*"
                    }
                },
            },
            {
                "effect": "deny",
                "permission_groups": [{"id": ZONE_READ}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            },
        ],
    }


def mutations() -> list[tuple[str, Any]]:
    """(what, change): one slip each, applied to a copy of a well-formed token."""

    def policy(**fields: Any) -> Any:
        def change(t: dict[str, Any]) -> None:
            t["policies"][0].update(fields)

        return change

    def field(name: str, value: Any) -> Any:
        def change(t: dict[str, Any]) -> None:
            t[name] = value

        return change

    def drop(name: str) -> Any:
        def change(t: dict[str, Any]) -> None:
            t.pop(name, None)

        return change

    zone_key = f"com.cloudflare.api.account.zone.{ZONE}"
    return [
        ("no id", drop("id")),
        ("short id", field("id", "abc")),
        ("id not a string", field("id", 7)),
        ("status unknown", field("status", "paused")),
        ("status empty", field("status", "")),
        ("status list", field("status", ["active"])),
        ("policies not a list", field("policies", {"a": 1})),
        ("policies empty", field("policies", [])),
        ("policies null", field("policies", None)),
        ("policy not an object", field("policies", ["allow"])),
        ("name not a string", field("name", 5)),
        ("known after apply", field("terraform_unknown", ["condition", "expires_on"])),
        ("known after apply: odd value", field("terraform_unknown", {"x": 1})),
        ("condition v6", field("condition", {"request.ip": {"in": ["2001:db8::/32"]}})),
        ("condition bad cidr", field("condition", {"request.ip": {"in": ["1.2.3.999/24"]}})),
        ("condition not_in", field("condition", {"request.ip": {"not_in": ["10.0.0.0/8"]}})),
        ("condition request_ip", field("condition", {"request_ip": {"in": ["10.0.0.0/8"]}})),
        ("condition not object", field("condition", "10.0.0.0/8")),
        ("condition spaces", field("condition", {"request.ip": {"in": [" 10.0.0.1/8 "]}})),
        ("effect capitalised", policy(effect="Allow")),
        ("effect missing", policy(effect=None)),
        ("AWS fields", policy(Action=["dns:*"])),
        ("condition in policy", policy(condition={"request.ip": {"in": ["10.0.0.0/8"]}})),
        ("unknown policy field", policy(note="x")),
        ("groups missing", policy(permission_groups=None)),
        ("groups empty", policy(permission_groups=[])),
        ("group as string", policy(permission_groups=["DNS Write"])),
        ("group name only", policy(permission_groups=[{"name": "DNS Write"}])),
        ("group id upper", policy(permission_groups=[{"id": DNS_WRITE.upper()}])),
        ("group unknown", policy(permission_groups=[{"id": "e" * 32, "name": "Mystery"}])),
        ("group twice", policy(permission_groups=[{"id": DNS_WRITE}, {"id": DNS_WRITE}])),
        ("group old name", policy(permission_groups=[{"id": DNS_WRITE, "name": "DNS Edit"}])),
        ("group name spaced", policy(permission_groups=[{"id": DNS_WRITE, "name": " DNS  Write"}])),
        ("group not object", policy(permission_groups=[5])),
        ("group one object", policy(permission_groups={"id": DNS_WRITE})),
        ("resources string", policy(resources=json.dumps({zone_key: "*"}))),
        ("resources null", policy(resources=None)),
        ("resources empty", policy(resources={})),
        ("resources list", policy(resources=[zone_key])),
        ("resource value not *", policy(resources={zone_key: "read"})),
        (
            "resource placeholder",
            policy(resources={"com.cloudflare.api.account.zone.<ZONE_ID>": "*"}),
        ),
        (
            "resource by name",
            policy(resources={"com.cloudflare.api.account.zone.example.com": "*"}),
        ),
        ("resource unknown key", policy(resources={"com.example.thing": "*"})),
        ("all zones", policy(resources={"com.cloudflare.api.account.zone.*": "*"})),
        ("all accounts", policy(resources={"com.cloudflare.api.account.*": "*"})),
        ("user resource", policy(resources={f"com.cloudflare.api.user.{USER}": "*"})),
        (
            "other account zones",
            policy(
                resources={
                    f"com.cloudflare.api.account.{ACCT2}": {
                        f"com.cloudflare.api.account.zone.{ZONE3}": "*"
                    }
                }
            ),
        ),
        ("nested empty", policy(resources={f"com.cloudflare.api.account.{ACCT}": {}})),
        (
            "nested value not *",
            policy(resources={f"com.cloudflare.api.account.{ACCT}": {zone_key: "r"}}),
        ),
        (
            "nested non-zone key",
            policy(resources={f"com.cloudflare.api.account.{ACCT}": {"x": "*"}}),
        ),
        (
            "nested all zones",
            policy(
                resources={
                    f"com.cloudflare.api.account.{ACCT}": {"com.cloudflare.api.account.zone.*": "*"}
                }
            ),
        ),
        ("zone group on account", policy(resources={f"com.cloudflare.api.account.{ACCT}": "*"})),
        ("account group on zone", policy(permission_groups=[{"id": WORKERS}])),
        (
            "r2 bucket",
            policy(resources={f"com.cloudflare.edge.r2.bucket.{ACCT}_default_logs": "*"}),
        ),
        ("value kept out", field("value", "secret-value-never-kept")),
        # the bulk path's column checks (one scan of all ids, C-level look-ups by exact type)
        ("id with a non-ASCII letter", lambda t: t.update(id=t["id"][:-1] + "\uff41")),
        ("id upper case", lambda t: t.update(id=t["id"].upper())),
        ("id a huge int", field("id", 2**130)),
        ("status null", field("status", None)),
        ("status a str subclass", field("status", _Text("active"))),
        ("group id a str subclass", policy(permission_groups=[{"id": _Text(DNS_WRITE)}])),
        (
            "group name a str subclass",
            policy(permission_groups=[{"id": DNS_WRITE, "name": _Text("DNS Write")}]),
        ),
        ("group name not text", policy(permission_groups=[{"id": DNS_WRITE, "name": 7}])),
        ("resource key a str subclass", policy(resources={_Text(zone_key): "*"})),
        ("resource value a str subclass", policy(resources={zone_key: _Text("*")})),
        ("resource value equal to anything", policy(resources={zone_key: _EqualToAll()})),
        ("policy a dict subclass", lambda t: t["policies"].__setitem__(0, _Map(t["policies"][0]))),
        ("name with a surrogate", field("name", "bad \ud800 name")),
        ("not an object", lambda t: None),
    ]


def slipped(i: int, what: str, change: Any) -> Any:
    """Token ``i`` with one slip of :func:`mutations` (``what``, ``change``)."""
    if what == "not an object":
        return ["not", "a", "token"]
    broken = copy.deepcopy(base_token(i))
    change(broken)
    return broken


def test_malformed_tokens_among_well_formed_ones_read_the_same() -> None:
    """Every slip, on a user- and an account-owned token, between well-formed tokens."""
    records: list[TokenRecord] = []
    i = 0
    for what, change in mutations():
        for kind, owner in (("user", USER), ("account", ACCT), ("account", None)):
            i += 1
            records.append(TokenRecord(base_token(i), kind, owner, "Owner"))
            i += 1
            records.append(TokenRecord(slipped(i, what, change), kind, owner, "Owner"))
    # the same id twice, once well-formed: the second copy is the duplicate
    records.append(TokenRecord(base_token(1), "user", USER, "Owner"))
    assert_same(records, {ZONE: ACCT, ZONE3: ACCT2})
    # the bulk path takes the well-formed ones and leaves the slips to the token reader
    _, taken = _read_bulk(records, Inventory().groups)
    assert 0 < len(taken) < len(records)
    assert 0 not in taken  # its id is listed twice


@pytest.mark.parametrize(
    "case", sorted(p for p in CORPUS.iterdir() if (p / "body.json").is_file()), ids=lambda p: p.name
)
def test_definition_corpus_reads_the_same(case: Path) -> None:
    body = json.loads((case / "body.json").read_text())
    body.setdefault("id", "d" * 32)
    records = [TokenRecord(base_token(1), "user", USER, "Owner")]
    records.append(TokenRecord(body, "user", USER, "Owner"))
    records.append(TokenRecord(dict(body, id="9" * 32), "account", ACCT, "Acme"))
    records.append(TokenRecord(base_token(2), "account", ACCT, "Acme"))
    assert_same(records, {ZONE: ACCT})


def frames(audit: Audit) -> dict[str, pd.DataFrame]:
    access = audit.access
    return {
        "tokens": audit.tokens,
        "findings": audit.findings,
        "grants": audit.grants,
        "gaps": audit.gaps,
        "access": pd.DataFrame(access),
    }


def assert_frames_equal(audit: Audit, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = frames(audit)
    with monkeypatch.context() as patch:
        patch.setattr(core, "build_inventory", functools.partial(build_inventory, bulk=False))
        reference = frames(audit.rerun())
    for name, frame in reference.items():
        assert_frames_identical(ours[name], frame, obj=name)
    assert np.array_equal(audit.findings["finding_id"], reference["findings"]["finding_id"])


@pytest.mark.slow  # the inner loop audits a smaller one (below)
def test_audit_frames_are_the_same_on_a_generated_inventory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inv = synthetic_inventory(800, n_accounts=6, n_zones=80, seed=4)
    assert_frames_equal(Audit.from_records(**inv), monkeypatch)


def test_audit_frames_are_the_same_on_a_small_generated_inventory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inv = synthetic_inventory(150, n_accounts=6, n_zones=80, seed=4)
    assert_frames_equal(Audit.from_records(**inv), monkeypatch)


def test_audit_frames_are_the_same_on_the_demo_company(
    demo_audit: Audit, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_frames_equal(demo_audit, monkeypatch)


def test_a_definition_without_id_has_its_deny_applied() -> None:
    """A definition not created yet (no id) with a deny policy used to crash the audit (the
    engine was handed the id-less payload); its E(T) is that of the same token with an id."""
    body = base_token(1)
    named = Audit.from_records(tokens=[body], user={"id": USER}, now=NOW).grants
    del body["id"]
    unnamed = Audit.from_records(tokens=[body], user={"id": USER}, now=NOW).grants
    assert unnamed["effective"].tolist() == named["effective"].tolist()
    assert not all(named["effective"].tolist())  # the deny removes a grant


@pytest.mark.parametrize(
    "slip",
    [
        lambda t: t.update(status=""),
        lambda t: t["policies"][0].update(effect="Allow"),
        lambda t: t["policies"][0].update(permission_groups=["DNS Write", "Zone Read"]),
    ],
    ids=["empty status", "effect capitalised", "groups by name"],
)
def test_a_token_the_engine_refuses_keeps_its_allows_under_a_deny(slip: Any) -> None:
    """A deny on a token the lenient reader accepts but the policy engine refuses used to
    crash the audit; its allows now stay effective (the widest reading)."""
    body = base_token(1)
    slip(body)
    audit = Audit.from_records(tokens=[body], user={"id": USER}, now=NOW)
    g = audit.grants
    allows = g[(g["effect"] == "allow") & g["scope_ok"].astype(bool)]
    assert len(allows) == 2
    assert allows["effective"].astype(bool).all()


class _Text(str):
    """A str subclass (a caller's own string type): still the same id."""


def test_an_id_given_as_a_str_subclass_is_still_a_duplicate() -> None:
    """The bulk path counted only exact str ids: a token whose id was a str subclass and a
    later token with the same id as a plain str were both kept (the reader keeps the first)."""
    first = base_token(1)
    first["id"] = _Text(first["id"])
    records = [TokenRecord(first, "user", USER, "O"), TokenRecord(base_token(1), "user", USER, "O")]
    assert_same(records)
    assert len(build_inventory(records).invalid) == 1


def test_a_definition_without_id_whose_keys_mix_types_is_read() -> None:
    """A definition with no id gets a stable id from its text; keys of mixed types (a YAML
    ``1:`` beside text keys) made that text unsortable and crashed the whole audit."""
    body: dict[Any, Any] = base_token(1)
    del body["id"]
    body["policies"][0]["resources"][1] = "*"
    records = [TokenRecord(body, "user", USER, "O"), TokenRecord(base_token(2), "user", USER, "O")]
    assert_same(records)
    inv = build_inventory(records)
    again = build_inventory([TokenRecord(copy.deepcopy(body), "user", USER, "O")])
    assert inv.n + len(inv.invalid) == 2
    assert (inv.ids + [i for i, _ in inv.invalid])[0] == (
        again.ids + [i for i, _ in again.invalid]
    )[0]


# -- hostile tokens, generated: the bulk path against the token reader ---------------------
# Values a server (or a caller's own dicts) may put anywhere in a token: bools and int
# subclasses where ints go (True is an int), NaN, huge ints, str subclasses, lookalike
# effects and statuses, "*" against "**", empty containers, None against a missing key.


class _Int(int):
    pass


class _Map(dict[Any, Any]):
    pass


class _EqualToAll:
    """A value that says it equals anything (``"*"`` included)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0


_ZONE_KEY = f"com.cloudflare.api.account.zone.{ZONE}"
_ODD = st.sampled_from(
    [
        True,
        False,
        0,
        1,
        _Int(1),
        1.0,
        float("nan"),
        2**70,
        -1,
        "",
        "*",
        "**",
        " *",
        _Text("*"),
        "allow",
        "deny",
        "Allow",
        "allow ",
        _Text("allow"),
        "active",
        _Text("active"),
        "disabled",
        " expired",
        None,
        [],
        {},
        (),
        DNS_WRITE,
        _Text(DNS_WRITE),
        ZONE_READ,
        WORKERS,
        _ZONE_KEY,
        _Text(_ZONE_KEY),
        f"com.cloudflare.api.account.{ACCT}",
        "com.cloudflare.api.account.zone.*",
        "com.cloudflare.api.account.*",
        f"com.cloudflare.api.user.{USER}",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00+02:00",
        "0001-01-01T00:00:00Z",
        "10.0.0.1/8",
        "10.0.0.0/08",
        "1.2.3.4\n",
        "2001:db8::/32",
        "a" * 32,
        _Text("a" * 32),
        _Text(f"{1:032x}"),  # the id of base_token(1), as a str subclass
        "A" * 32,
        ZONE,
        ACCT,
        "\u2028",
        "\ud800",
    ]
)
_KEYS = st.sampled_from(["id", "name", "in", "not_in", "request_ip", "effect", "meta", "x", 1])
_VALUES = st.recursive(
    _ODD,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_KEYS | _ODD.filter(lambda k: isinstance(k, str)), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


@st.composite
def _hostile_token(draw: st.DrawFn, i: int) -> dict[str, Any]:
    token = base_token(i)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(token)[1:]))
        parent: Any = token
        for key in path[:-1]:
            parent = parent[key]
        how = draw(st.integers(0, 3))
        if how == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == 1 and isinstance(parent, dict):
            parent[draw(_KEYS)] = draw(_VALUES)
        else:
            parent[path[-1]] = draw(_VALUES)
    return token


@st.composite
def _hostile_records(draw: st.DrawFn) -> list[TokenRecord]:
    out = []
    for i in range(draw(st.integers(1, 5))):
        number = draw(st.sampled_from([i + 10, 1, 2]))  # some ids repeat
        kind, owner = draw(st.sampled_from([("user", USER), ("account", ACCT), ("account", None)]))
        token = draw(_hostile_token(number))
        if type(token.get("id")) is str and draw(st.integers(0, 3)) == 0:
            token["id"] = _Text(token["id"])  # a caller's own string type
        out.append(TokenRecord(token, kind, owner, "Owner"))
    return out


@pytest.mark.slow
def test_hostile_tokens_read_the_same() -> None:
    """300 hostile inventories, drawn 8 to a Hypothesis example (tests/batched_cases.py)."""

    @cases(_hostile_records(), 300, suppress=list(HealthCheck))
    def same(records: list[TokenRecord]) -> None:
        assert_same(records, {ZONE: ACCT, ZONE3: ACCT2})

    same()


def test_a_definition_listed_twice_without_id_is_a_duplicate() -> None:
    """Two copies of one definition not created yet (no id) got the same stable id and both
    were kept: the grants frame then failed on the repeated id and the audit crashed. The
    second copy is reported as a duplicate, on both paths; so is a token whose id is that
    stable id, listed after the definition."""
    body = base_token(1)
    del body["id"]
    records = [
        TokenRecord(body, "user", USER, "O"),
        TokenRecord(copy.deepcopy(body), "user", USER, "O"),
        TokenRecord(base_token(2), "user", USER, "O"),
    ]
    assert_same(records)
    inv = build_inventory(records)
    assert inv.n == 2 and inv.invalid == [("#2", DUPLICATE)]
    posing = dict(base_token(3), id=inv.ids[0])
    records.append(TokenRecord(posing, "user", USER, "O"))
    assert_same(records)
    assert build_inventory(records).invalid == [("#2", DUPLICATE), (inv.ids[0], DUPLICATE)]
    audit = Audit.from_records(tokens=[r.payload for r in records], user={"id": USER}, now=NOW)
    assert audit.tokens["token_id"].tolist() == inv.ids
    assert len(audit.grants) > 0


def test_a_definition_that_refers_to_itself_is_reported_not_raised() -> None:
    body: dict[str, Any] = base_token(1)
    del body["id"]
    body["policies"][0]["loop"] = body
    records = [TokenRecord(body, "user", USER, "O"), TokenRecord(base_token(2), "user", USER, "O")]
    assert_same(records)
    inv = build_inventory(records)
    assert inv.n == 1 and inv.invalid[0][0] == "#1" and "refers to itself" in inv.invalid[0][1]


@pytest.mark.parametrize(
    "examples", [2, *(pytest.param(n, marks=pytest.mark.slow) for n in (4, 30))]
)
def test_hostile_tokens_audit_the_same(examples: int) -> None:
    """The whole audit (tokens, findings, grants, gaps, access, who_can, summary) on hostile
    tokens, user- and account-owned, through every fast path at once (the compact copy of
    ``from_records``, the bulk read in chunks of 1, 2 or all tokens) against the input audited
    as given and read token by token: it must finish and agree (the inventory test above
    cannot see a failure in the frames built from an inventory)."""

    @given(
        st.lists(st.sampled_from([1, 2, 7]).flatmap(_hostile_token), min_size=1, max_size=5),
        st.integers(0, 5),
        st.sampled_from([1, 2, _inventory._CHUNK]),
    )
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    def check(tokens: list[dict[str, Any]], owned: int, chunk: int) -> None:
        def run() -> dict[str, pd.DataFrame]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                audit = Audit.from_records(
                    tokens=tokens[owned:],
                    account_tokens={ACCT: tokens[:owned]},
                    user={"id": USER},
                    now=NOW,
                )
                out = frames(audit)
                out["who_can"] = pd.DataFrame(audit.who_can("DNS Write", zone=ZONE))
                out["summary"] = pd.DataFrame([audit.summary()])
            return out

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_inventory, "_CHUNK", chunk)
            ours = run()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(core, "build_inventory", functools.partial(build_inventory, bulk=False))
            patch.setattr(core, "plain_copy", lambda value, repair=None: (None, None))
            reference = run()
        for name, frame in reference.items():
            assert_frames_identical(ours[name], frame, obj=name)

    check()


class _Str(str):
    """A str subclass (equal to its text, not of type str)."""


class _Map(dict):  # type: ignore[type-arg]
    """A dict subclass."""


_DNS_WRITE = cft.permission_groups.get("DNS Write").id
_ZONE_KEY = f"com.cloudflare.api.account.zone.{ZONE}"


def _shape(path: str, value: Any) -> dict[str, Any]:
    """A well-formed token with one field set to ``value`` (``...`` deletes it); ``path``
    is dotted (``policy.`` is the first policy, ``group.`` its first group)."""
    token: dict[str, Any] = {
        "id": "0" * 32,
        "name": "t",
        "status": "active",
        "policies": [
            {
                "id": "1" * 32,
                "effect": "allow",
                "permission_groups": [{"id": _DNS_WRITE, "name": "DNS Write"}],
                "resources": {_ZONE_KEY: "*"},
            }
        ],
    }
    where, _, field = path.rpartition(".")
    target = {
        "": token,
        "policy": token["policies"][0],
        "group": token["policies"][0]["permission_groups"][0],
    }[where]
    if value is ...:
        del target[field]
    else:
        target[field] = value
    return token


@pytest.mark.parametrize(
    ("path", "value"),
    [
        *(("policies", v) for v in (None, "", {}, 0, False)),
        *(
            ("condition", v)
            for v in (
                "",
                [],
                0,
                False,
                None,
                {},
                {"request_ip": None},
                {"request_ip": {}},
                {"request_ip": {"in": []}},
                {"request_ip": {"in": None}},
                {"request_ip": {"in": ""}},
                {"request_ip": {"in": "1.2.3.4/32"}},
                {"request_ip": {"in": [_Str("1.2.3.4/32")]}},
                {"request_ip": {"in": ["1.2.3.4/32"], "other": 1}},
                {"request_ip": {"in": ["1.2.3.4/32"]}, "other": 1},
                {"request_ip": {"in": ["1.2.3.4/32"], "not_in": ["1.2.3.4/32"]}},
            )
        ),
        ("policy.resources", {_ZONE_KEY: _Str("*")}),
        ("policy.resources", {_Str(_ZONE_KEY): "*"}),
        ("policy.resources", {_ZONE_KEY: "read"}),
        ("policy.resources", {_ZONE_KEY: None}),
        ("policy.resources", {_ZONE_KEY: {}}),
        ("policy.resources", {_ZONE_KEY: "*", 1: "*"}),
        ("policy.resources", {}),
        ("policy.resources", None),
        ("policy.resources", _Map({_ZONE_KEY: "*"})),
        ("policy.permission_groups", []),
        ("policy.permission_groups", None),
        ("policy.permission_groups", [_Map(id=_DNS_WRITE)]),
        ("group.id", _Str(_DNS_WRITE)),
        ("group.meta", {"x": 1}),
        *(("group.name", v) for v in (None, ..., _Str("DNS Write"), 5, " dns  write ")),
        *(("policy.id", v) for v in (None, 5, _Str("1" * 32), ...)),
        *(("policy.effect", v) for v in (_Str("allow"), "Allow", None, ...)),
        ("policy.other", 1),
        *(("status", v) for v in (_Str("active"), None, ..., "Active", 1)),
        *(("id", v) for v in (_Str("0" * 32), None, ..., 7)),
        *(("name", v) for v in (None, 3, _Str("x"), ...)),
        *(("expires_on", v) for v in (None, 5, _Str("2030-01-01T00:00:00Z"), "")),
        ("not_before", ""),
        ("other", 1),
    ],
)
def test_each_field_shape_reads_the_same(path: str, value: Any) -> None:
    """The bulk reader's type checks by sets of types, its itemgetter passes merged into
    defaults and "*" found by identity, against the token reader: a field missing, None,
    falsy of another type, a str or dict subclass, an extra key, a key that is not text;
    beside a well-formed token, for a user-owned and an account-owned copy."""
    token = _shape(path, value)
    records = [
        TokenRecord(_shape("name", "ok"), "user", USER, "me"),
        TokenRecord(token, "user", USER, "me"),
        TokenRecord(copy.deepcopy(token), "account", ACCT, "acct"),
    ]
    assert_same(records, {ZONE: ACCT})


def _posing_as_definition() -> list[dict[str, Any]]:
    """A definition without id, then a token whose id is the definition's stable id."""
    body = base_token(1)
    del body["id"]
    stable = build_inventory([TokenRecord(copy.deepcopy(body), "user", USER, "O")]).ids[0]
    return [body, base_token(2), dict(base_token(3), id=stable)]


@pytest.mark.parametrize(
    "payloads",
    [
        _posing_as_definition(),
        # the same id given by a mapping that is not a plain dict, then by a plain dict
        [_Map(base_token(1)), base_token(2), base_token(1)],
        # the same id as a str subclass, then as plain text
        [dict(base_token(1), id=_Text(base_token(1)["id"])), base_token(2), base_token(1)],
        # an id that cannot be a dict key
        [dict(base_token(1), id=[1, 2]), base_token(2), base_token(3)],
        # the same id in two chunks, the first copy malformed
        [dict(base_token(1), status="Active"), base_token(2), base_token(1)],
    ],
    ids=["stable id", "not a plain dict", "str subclass", "unhashable", "malformed first"],
)
def test_an_id_in_two_chunks_is_a_duplicate(payloads: list[Any]) -> None:
    """The bulk path reads tokens in chunks, each finding the ids listed twice among its own
    tokens: an id given again in a later chunk (as a definition's stable id, by a token the
    bulk path leaves to the token reader, as a str subclass) was kept twice, and an id that
    is not hashable crashed the check across chunks. ``assert_same`` reads them in chunks
    of one and of three tokens."""
    records = [TokenRecord(p, "user", USER, "O") for p in payloads]
    assert_same(records)
    with mock.patch.object(_inventory, "_CHUNK", 1):
        inv = build_inventory(records)
    assert inv.n + len(inv.invalid) == 3
    assert len(set(inv.ids)) == inv.n


def test_one_group_table_per_inventory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk's inventory made its own permission group table from the catalogue (0.4 ms,
    then replaced by the shared one): 19 ms of the read at 100,000 tokens. One table is made
    per read, whatever the chunks."""
    made: list[int] = []
    real = _inventory.GroupTable.__init__

    def counted(self: Any) -> None:
        made.append(1)
        real(self)

    monkeypatch.setattr(_inventory.GroupTable, "__init__", counted)
    monkeypatch.setattr(_inventory, "_CHUNK", 3)
    records = [TokenRecord(base_token(i), "user", USER, "O") for i in range(1, 20)]
    records.append(TokenRecord({"id": 5}, "user", USER, "O"))  # for the token reader (merged)
    inv = build_inventory(records)
    assert inv.n == 19 and len(inv.invalid) == 1
    assert len(made) == 1


def test_group_tables_read_the_catalogue_once_and_own_their_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every audit made its group table by reading each catalogue group's risk families
    again (~2 ms for a one-token audit); the catalogue's columns are worked out once per
    process. Each table still owns its lists: an unknown group one audit meets is in no other
    table, and the catalogue's part is the same as read afresh."""
    _inventory.GroupTable()  # the process's first table, whichever test ran before
    read: list[str] = []

    class Counting:
        def of(self, gid: str) -> frozenset[str]:
            read.append(gid)
            return frozenset()

    monkeypatch.setattr(_inventory, "risk_families", Counting())
    first, second = _inventory.GroupTable(), _inventory.GroupTable()
    assert read == []
    code = first.intern("f" * 32, "Unknown Group")
    assert code == first.n_catalogue and first.known[code] is False
    assert "f" * 32 not in second.code and len(second.ids) == second.n_catalogue
    monkeypatch.undo()
    ids = [g.id for g in _inventory.permission_groups]
    assert second.ids == ids and second.code == {gid: i for i, gid in enumerate(ids)}
    assert second.families == [
        sum(
            _inventory.FAMILY_BITS[f]
            for f in _inventory.risk_families.of(g)
            if f in _inventory.FAMILY_BITS
        )
        for g in ids
    ]
    assert second.names == [g.name for g in _inventory.permission_groups]


def test_atom_numbers_across_owners_objects_and_chunks() -> None:
    """The rows' atom numbers (the bulk path codes each distinct atom object of a chunk and
    reads an account-owned token's atom once per distinct (atom, owner) pair, by identity)
    equal the row-by-row numbering: equal owners as distinct objects and as a str subclass,
    owners that are not text, the same keys for user tokens, tokens the token reader reads
    between them, in chunks of every size (:func:`built` checks the numbers)."""
    keys: list[dict[str, Any]] = [
        {"com.cloudflare.api.account.zone.*": "*"},
        {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
        {f"com.cloudflare.api.account.{ACCT}": {"com.cloudflare.api.account.zone.*": "*"}},
        {f"com.cloudflare.api.account.{ACCT2}": {f"com.cloudflare.api.account.zone.{ZONE3}": "*"}},
        {f"com.cloudflare.api.account.{ACCT}": "*"},
        {f"com.cloudflare.api.account.{ACCT2}": "*"},
        {"com.cloudflare.api.account.*": "*"},
        {f"com.cloudflare.api.user.{USER}": "*"},
    ]
    owners: list[Any] = [ACCT, _Text(ACCT), "".join(list(ACCT)), ACCT2, None, 7]
    records: list[TokenRecord] = []
    i = 0
    for owner in owners:
        for kind in ("account", "user"):
            for resources in keys:
                i += 1
                token = base_token(i)
                token["policies"][0]["resources"] = copy.deepcopy(resources)
                token["policies"][1]["resources"] = copy.deepcopy(keys[i % len(keys)])
                if i % 7 == 0:
                    token["status"] = "paused"  # the token reader reports it
                elif i % 5 == 0:
                    token["policies"][0]["permission_groups"] = ["DNS Write"]  # read by it
                records.append(TokenRecord(token, kind, owner, f"Owner {owner}"))
    zone_account = {ZONE: ACCT, ZONE3: ACCT2}
    assert_same(records, zone_account)
    assert_same(records[::-1], zone_account)


class _Str(str):
    """A caller's own string type."""


def _conditions() -> list[Any]:
    """Token conditions of every shape: the common one, empty ones, odd ones."""
    import numpy as _np

    ok = {"request.ip": {"in": ["34.120.1.0/24"]}}
    return [
        ok,
        {"request.ip": {"in": ["34.120.1.0/24", "10.0.0.0/8", "1.2.3.4"]}},
        None,
        {},
        [],
        "",
        0,
        {"request.ip": {"in": ["2001:db8::/32"]}},
        {"request.ip": {"in": ["1.2.3.999/24"]}},
        {"request.ip": {"in": ["1.2.3.4\n5.6.7.8"]}},
        {"request.ip": {"in": ["1.2.3.4/24\n"]}},
        {"request.ip": {"in": [""]}},
        {"request.ip": {"in": []}},
        {"request.ip": {"in": [_Str("10.0.0.0/8")]}},
        {"request.ip": {"in": [_np.str_("10.0.0.0/8")]}},
        {"request.ip": {"in": [b"10.0.0.0/8"]}},
        {"request.ip": {"in": [167772160]}},
        {"request.ip": {"in": [2**70]}},
        {"request.ip": {"in": ["10.0.0.0/8"], "not_in": ["10.1.0.0/16"]}},
        {"request.ip": {"not_in": ["10.1.0.0/16"]}},
        {"request_ip": {"in": ["10.0.0.0/8"]}},
        {"request.ip": {"in": ["10.0.0.0/8"]}, "note": 1},
        {"request.ip": {"in": [" 10.0.0.0/8 "]}},
        {"request.ip": {"in": ["010.0.0.0/8"]}},
        {"request.ip": {"in": ["10.0.0.0/33"]}},
        {"request.ip": {"in": ["\ud800"]}},
        {"request.ip": {"in": ("10.0.0.0/8",)}},
        {"request.ip": _Mapping({"in": ["10.0.0.0/8"]})},
        _Mapping({"request.ip": {"in": ["10.0.0.0/8"]}}),
        {"request.ip": {"in": "10.0.0.0/8"}},
        "10.0.0.0/8",
        ok,
    ]


class _Mapping(dict):  # type: ignore[type-arg]
    """A dict subclass (another mapping type)."""


def test_chunk_conditions_read_as_token_by_token() -> None:
    """The chunk's conditions proven all at once (C-level passes and one match of their
    ranges joined by newlines) read as each condition read by itself: the same ranges (each
    a tuple) and the same tokens left to the token reader, for every shape alone, every
    shape among common ones, and the common shape only."""
    shapes = _conditions()
    common = [shapes[0], shapes[1], None] * 3
    for conditions in ([[c] for c in shapes] + [common + [c] + common for c in shapes]) + [common]:
        payloads = [{"condition": c} for c in conditions]
        bad = np.zeros(len(conditions), dtype=bool)
        got = _inventory._bulk_conditions(conditions, payloads, bad)
        want_in: list[Any] = []
        want_out: list[Any] = []
        want_bad = []
        for c, payload in zip(conditions, payloads, strict=True):
            try:
                ip_in, ip_out = _inventory._bulk_condition(c, payload) if c else ((), ())
            except _inventory.InvalidToken:
                ip_in, ip_out = (), ()
                want_bad.append(True)
            else:
                want_bad.append(False)
            want_in.append(ip_in)
            want_out.append(ip_out)
        assert got == (want_in, want_out), conditions
        kinds = [[type(x) for x in r] for r in got[0] + got[1]]
        assert kinds == [[type(x) for x in r] for r in want_in + want_out], conditions
        assert bad.tolist() == want_bad, conditions
        for ranges, c in zip(got[0], conditions, strict=True):  # copies, never the token's
            ip = c.get("request.ip") if isinstance(c, dict) else None
            assert not isinstance(ip, dict) or ranges is not ip.get("in")


def test_the_engines_refusal_is_decided_as_by_the_engine() -> None:
    """Whether the engine refuses a token the bulk path read (its condition left out when of
    the common shape) is what ``Token.from_api`` of the whole token says, on every condition
    shape alone and with the token's other slips the bulk path lets through (a null or empty
    status, a date that is no timestamp, a number for a status)."""
    slips: list[Any] = [
        {},
        {"status": None},
        {"status": ""},
        {"status": 0},
        {"issued_on": "yesterday"},
        {"expires_on": 5},
        {"not_before": "2026-02-30T00:00:00Z"},
        {"terraform_unknown": ["condition"]},
    ]
    for condition in _conditions():
        for slip in slips:
            payload = {**base_token(1), **slip, "condition": condition}
            try:
                cft.Token.from_api(payload)
            except cft.InvalidInput:
                refused = True
            else:
                refused = False
            assert _inventory._engine_refuses(payload) is refused, (condition, slip)


def test_the_list_columns_are_made_from_the_arrays_when_read() -> None:
    """The bulk path builds the columns of ``_ARRAY_DTYPES`` as arrays; their lists are made
    from them on first read (and kept): an audit and its frames read none of them."""
    records = records_of(synthetic_inventory(300, n_accounts=4, n_zones=30, seed=2))
    inv = build_inventory(records)
    assert not set(_inventory._ARRAY_DTYPES) & set(vars(inv))
    assert inv.m == len(inv.arrays["g_tok"]) > 0
    for column in _inventory._ARRAY_DTYPES:
        values = getattr(inv, column)
        assert values == inv.arrays[column].tolist() and getattr(inv, column) is values
    assert inv.m == len(inv.g_tok)
    reference = build_inventory(records, bulk=False)
    for column in _inventory._ARRAY_DTYPES:
        assert getattr(inv, column) == getattr(reference, column), column
    audit = Audit.from_records(**synthetic_inventory(300, n_accounts=4, n_zones=30, seed=2))
    audit.grants, audit.tokens, audit.gaps  # noqa: B018
    assert not set(_inventory._ARRAY_DTYPES) & set(vars(audit._inv))
