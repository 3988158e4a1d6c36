"""``audit.access`` keeps wildcards symbolic; ``expand``, ``who_can`` and ``access_matrix``
answer exactly as the policy engine (:func:`cftokens.evaluate`) does."""

from __future__ import annotations

import random
from typing import Any

import pytest
from audit_helpers import (
    ACCOUNTS,
    ACCT,
    ACCT2,
    ALL_ACCOUNTS,
    ALL_ZONES,
    NOW,
    USER,
    USER_RES,
    ZONE,
    ZONE2,
    ZONE3,
    ZONES,
    account,
    allow,
    deny,
    run,
    token,
    zone,
    zones_of,
)

import cftokens as cft
from cftokens.audit import Audit
from cftokens.errors import InvalidInput

ACCT3 = "a3" * 16  # owns ZONE4, but is missing from the account list
ZONE4 = "b4" * 16
UNKNOWN_ZONE = "b9" * 16  # named by grants, not in the directory
UNKNOWN_ACCOUNT = "a9" * 16
DIR_ZONES = [*ZONES, {"id": ZONE4, "name": "other.example.net", "account": {"id": ACCT3}}]
ZONE_GROUPS = ["DNS Write", "Zone Read"]
ACCOUNT_GROUPS = ["Account Settings Read", "Workers Scripts Write"]
USER_GROUPS = ["API Tokens Read"]


def _nested(a: str, z: str) -> dict[str, Any]:
    return {f"com.cloudflare.api.account.{a}": {f"com.cloudflare.api.account.zone.{z}": "*"}}


ZONE_ATOMS: list[dict[str, Any]] = [
    zone(ZONE),
    zone(ZONE3),
    zone(UNKNOWN_ZONE),
    _nested(ACCT, ZONE),
    _nested(ACCT, ZONE2),
    _nested(ACCT2, ZONE3),
    _nested(ACCT, ZONE3),  # nested under the wrong account: reaches nothing
    zones_of(ACCT),
    zones_of(ACCT2),
    zones_of(ACCT3),
    ALL_ZONES,
]
ACCOUNT_ATOMS: list[dict[str, Any]] = [
    account(ACCT),
    account(ACCT2),
    account(UNKNOWN_ACCOUNT),
    ALL_ACCOUNTS,
]


def _merge(atoms: list[dict[str, Any]]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    for a in atoms:
        for key, value in a.items():
            if isinstance(value, dict) and isinstance(chosen.get(key), dict):
                chosen[key] = {**chosen[key], **value}
            else:
                chosen[key] = value
    return chosen


def _random_inventory(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    tokens = []
    for i in range(n):
        policies = []
        for _ in range(rng.randint(1, 4)):
            effect = allow if not policies or rng.random() < 0.55 else deny
            kind = rng.random()
            if kind < 0.6:
                groups = rng.sample(ZONE_GROUPS, rng.randint(1, 2))
                atoms = rng.sample(ZONE_ATOMS, rng.randint(1, 2))
            elif kind < 0.9:
                groups = rng.sample(ACCOUNT_GROUPS, rng.randint(1, 2))
                atoms = rng.sample(ACCOUNT_ATOMS, rng.randint(1, 2))
            else:
                groups, atoms = USER_GROUPS, [USER_RES]
            policies.append(effect(groups, _merge(atoms)))
        tokens.append(token(f"r{i % 7}", *policies))
    return tokens


def _audit(tokens: list[dict[str, Any]]) -> Audit:
    return Audit.from_records(
        tokens=tokens,
        accounts=ACCOUNTS,
        zones=DIR_ZONES,
        user={"id": USER, "email": "owner@example.com"},
        now=NOW,
    )


def _engine(tokens: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], bool]:
    """(token id, group name, kind, resource id) -> allowed, from evaluate()."""
    directory = cft.Directory(
        accounts=[cft.Account.from_api(a) for a in ACCOUNTS],
        zones=[cft.Zone.from_api(z) for z in DIR_ZONES],
    )
    out = {}
    for payload in tokens:
        subject = cft.Token.from_api(payload)
        tid = payload["id"]
        for g in ZONE_GROUPS:
            for z in [ZONE, ZONE2, ZONE3, ZONE4, UNKNOWN_ZONE]:
                decision = cft.evaluate(subject, g, zone=z, directory=directory, at=NOW)
                out[(tid, g, "zone", z)] = decision.allowed
        for g in ACCOUNT_GROUPS:
            for a in [ACCT, ACCT2, ACCT3, UNKNOWN_ACCOUNT]:
                decision = cft.evaluate(subject, g, account=a, directory=directory, at=NOW)
                out[(tid, g, "account", a)] = decision.allowed
        for g in USER_GROUPS:
            out[(tid, g, "user", USER)] = cft.evaluate(subject, g, user=USER, at=NOW).allowed
    return out


# the inner loop audits 80 random tokens of one seed; the full run 250 of three seeds
@pytest.mark.parametrize(
    ("seed", "n_tokens"),
    [
        *(pytest.param(s, 250, id=str(s), marks=pytest.mark.slow) for s in (1, 2, 3)),
        pytest.param(1, 80, id="1-small"),
    ],
)
def test_expand_who_can_and_matrix_agree_with_evaluate_on_wildcards_and_denies(
    seed: int, n_tokens: int
) -> None:
    """On random allow/deny mixes of flat, nested and wildcard zone and account grants, every
    concrete answer (expand by zone, by account, by token, in full; who_can; both matrices)
    is exactly the set of (token, group, resource) the engine allows."""
    tokens = _random_inventory(seed, n_tokens)
    audit = _audit(tokens)
    engine = _engine(tokens)
    allowed = {key for key, ok in engine.items() if ok}
    assert allowed  # the mixes do reach things

    full = audit.access.expand()
    got = {
        (t, g, k, r)
        for t, g, k, r in zip(
            full["token_id"], full["group"], full["resource_kind"], full["resource_id"], strict=True
        )
    }
    # the engine was asked about these resources only
    asked = {(k, r) for (_t, _g, k, r) in engine}
    assert {x for x in got if (x[2], x[3]) in asked} == allowed
    assert not full.duplicated(["token_id", "group_id", "resource_kind", "resource_id"]).any()

    for z in [ZONE, ZONE2, ZONE3, ZONE4, UNKNOWN_ZONE]:
        e = audit.access.expand(zone=z)
        assert set(e["resource_id"]) <= {z}
        want = {(t, g) for (t, g, k, r) in allowed if k == "zone" and r == z}
        assert set(zip(e["token_id"], e["group"], strict=True)) == want, z
        for g in ZONE_GROUPS:
            who = audit.who_can(g, zone=z)
            assert set(who["token_id"]) == {t for (t, gg) in want if gg == g}, (g, z)
    for a in [ACCT, ACCT2, ACCT3, UNKNOWN_ACCOUNT]:
        e = audit.access.expand(account=a)
        on_account = e[e["resource_kind"] == "account"]
        want = {(t, g) for (t, g, k, r) in allowed if k == "account" and r == a}
        assert set(zip(on_account["token_id"], on_account["group"], strict=True)) == want
        zones_there = {z["id"] for z in DIR_ZONES if z["account"]["id"] == a}
        assert set(e.loc[e["resource_kind"] == "zone", "resource_id"]) <= zones_there
        for g in ACCOUNT_GROUPS:
            who = audit.who_can(g, account=a)
            assert set(who["token_id"]) == {t for (t, gg) in want if gg == g}, (g, a)
    who = audit.who_can("API Tokens Read")
    assert set(who["token_id"]) == {t for (t, g, k, _r) in allowed if k == "user"}

    some = [t["id"] for t in tokens[:20]]
    by_token = audit.access.expand(token=some)
    assert set(by_token["token_id"]) <= set(some)
    assert len(by_token) == int(full["token_id"].isin(some).sum())

    zone_names = {z["id"]: z["name"] for z in DIR_ZONES}
    zone_names[UNKNOWN_ZONE] = UNKNOWN_ZONE
    matrix = audit.access_matrix(by="token_id", limit=None)
    for (t, z), count in matrix.stack().items():
        zid = next(k for k, v in zone_names.items() if v == z)
        assert count == sum(engine[(t, g, "zone", zid)] for g in ZONE_GROUPS), (t, z)
    reaching = {(t, zone_names[r]) for (t, _g, k, r) in allowed if k == "zone"}
    assert {(t, z) for (t, z), c in matrix.stack().items() if c} == reaching

    names = {a["id"]: a["name"] for a in ACCOUNTS} | {
        ACCT3: ACCT3,
        UNKNOWN_ACCOUNT: UNKNOWN_ACCOUNT,
    }
    by_account = audit.access_matrix(by="token_id", columns="account", limit=None)
    cells = {
        (t, label): int(count)
        for label, column in by_account.to_dict().items()
        for t, count in column.items()
    }
    owner = {z["id"]: z["account"]["id"] for z in DIR_ZONES}
    allowed_of: dict[str, list[tuple[str, str, str]]] = {}  # each token's (group, kind, id)
    for tt, g, k, r in allowed:
        allowed_of.setdefault(tt, []).append((g, k, r))
    for t in {p["id"] for p in tokens}:
        mine = allowed_of.get(t, [])
        for a, label in names.items():
            groups = {g for (g, k, r) in mine if k == "account" and r == a}
            groups |= {g for (g, k, r) in mine if k == "zone" and owner.get(r) == a}
            assert cells.get((t, label), 0) == len(groups), (t, a)


def test_access_grows_with_grants_not_zones() -> None:
    """A token on all zones is one row of audit.access however many zones exist; expand()
    gives the concrete rows only for the zones asked."""
    acct = "d1" * 16
    zones = [
        {"id": f"{i:032x}", "name": f"z{i}.example", "account": {"id": acct}} for i in range(3000)
    ]
    tokens = [
        token("everything", allow(["DNS Write", "Zone Read"], ALL_ZONES)),
        token("one account", allow(["DNS Write"], zones_of(acct))),
        token("one zone", allow(["DNS Write"], zone(zones[5]["id"]))),
    ]
    audit = Audit.from_records(
        tokens=tokens, accounts=[{"id": acct, "name": "Big"}], zones=zones, now=NOW
    )
    access = audit.access
    assert len(access) == 4
    everything = access[access["token_name"] == "everything"]
    assert set(everything["scope"].astype(str)) == {"all zones"}
    assert set(everything["n_resources"]) == {3000}
    assert everything["resource_id"].isna().all()
    one = access[access["token_name"] == "one account"]
    assert list(one["scope"].astype(str)) == ["all zones of account"]
    assert list(one["account_id"]) == [acct] and list(one["resource_name"]) == [
        "all zones of account Big"
    ]
    e = access.expand(zone="z5.example")
    assert sorted(zip(e["token_name"], e["group"], strict=True)) == [
        ("everything", "DNS Write"),
        ("everything", "Zone Read"),
        ("one account", "DNS Write"),
        ("one zone", "DNS Write"),
    ]
    assert len(access.expand(zone=["z1.example", "z2.example"])) == 6


def test_access_matrix_draws_at_most_limit_columns_and_notes_the_rest() -> None:
    """access_matrix draws the most-reached zones up to limit and says how many it left out."""
    acct = "d1" * 16
    zones = [
        {"id": f"{i:032x}", "name": f"z{i:03}.example", "account": {"id": acct}} for i in range(100)
    ]
    tokens = [token("wide", allow(["DNS Write"], ALL_ZONES))] + [
        token(f"t{i}", allow(["DNS Write"], zone(zones[i]["id"]))) for i in range(5)
    ]
    audit = Audit.from_records(
        tokens=tokens, accounts=[{"id": acct, "name": "Big"}], zones=zones, now=NOW
    )
    matrix = audit.access_matrix(limit=10)
    assert matrix.shape[1] == 10
    # the five zones two tokens reach come first, then by name
    assert list(matrix.columns[:5]) == [f"z{i:03}.example" for i in range(5)]
    assert matrix.attrs["columns_total"] == 100 and matrix.attrs["columns_shown"] == 10
    assert "90 more not drawn" in matrix.attrs["note"]
    assert audit.access_matrix(limit=None).shape == (6, 100)
    assert audit.access_matrix(columns="account").loc["wide", "Big"] == 1
    with pytest.raises(InvalidInput, match="limit"):
        audit.access_matrix(limit=0)
    with pytest.raises(InvalidInput, match="columns"):
        audit.access_matrix(columns="zones")


def test_expand_rejects_unknown_names_and_filtered_copies_are_plain_frames() -> None:
    """expand() names what to give when a zone or account name is unknown; a filtered view
    is an ordinary DataFrame."""
    audit = run(token("t", allow(["DNS Write"], zones_of(ACCT)), deny(["DNS Write"], zone(ZONE))))
    with pytest.raises(InvalidInput, match=r"example\.com"):
        audit.access.expand(zone="nope.example")
    with pytest.raises(InvalidInput, match="Acme"):
        audit.access.expand(account="Nope Inc")
    row = audit.access.iloc[0]
    assert bool(row["narrowed"]) and "denies zone example.com" in str(row["denied"])
    assert list(audit.access.expand(account="Acme Production")["resource_name"]) == [
        "shop.example.com"
    ]
    assert not hasattr(audit.access[audit.access["live"]], "expand")


def test_diff_sees_a_wildcard_widen_without_a_full_expansion() -> None:
    """Going from one zone to all zones of its account is 'widened' (concrete access grew)."""
    before = run(token("t", allow(["DNS Write"], zone(ZONE2)), token_id="1" * 32))
    after = run(token("t", allow(["DNS Write"], zones_of(ACCT)), token_id="1" * 32))
    d = after.diff(before).set_index("token_id")
    assert d.loc["1" * 32, "change"] == "widened"
    assert "example.com" in d.loc["1" * 32, "gained"]
