"""E(T) of tokens with deny policies, computed for all of them at once, against the engine.

``build_inventory`` hands a token with a deny policy to :func:`cftokens.effective_grants`
(``_engine_effective``) only when the bulk path did not read it or it names an R2 bucket or an
unreadable resource; the others get the engine's answer from array arithmetic on their rows
(``_denies_applied``). The token reader (``bulk=False``) always asks the engine, so the two
inventories must agree row for row on every deny shape: flat, nested and wildcard zones,
zones whose account the directory does or does not know, accounts, all accounts, the user,
denies of other groups or scopes, account-owned tokens' "all zones" (read as their own
account's zones, compared as written), and tokens the engine refuses (their allows stay).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from test_bulk_inventory import assert_same

import cftokens as cft
from cftokens.audit import _inventory
from cftokens.audit._inventory import TokenRecord, build_inventory

A1, A2, A3 = "a1" * 16, "a2" * 16, "a3" * 16  # A3: not in the directory
Z1, Z2, Z3, Z4 = "b1" * 16, "b2" * 16, "b3" * 16, "b4" * 16  # Z4: account unknown
USER = "c1" * 16
ZONE_ACCOUNT = {Z1: A1, Z2: A1, Z3: A2}
GROUPS = [
    cft.permission_groups.get(name).id
    for name in (
        "DNS Write",
        "Zone Read",
        "Account Settings Read",
        "Workers Scripts Write",
        "API Tokens Write",
        "Workers R2 Storage Bucket Item Write",
    )
]
ZONE_KEY = "com.cloudflare.api.account.zone."
ACCOUNT_KEY = "com.cloudflare.api.account."


def _resources(rng: random.Random) -> dict[str, Any]:
    choices: list[tuple[str, Any]] = [
        *((f"{ZONE_KEY}{z}", "*") for z in (Z1, Z2, Z3, Z4)),
        *((f"{ACCOUNT_KEY}{a}", {f"{ZONE_KEY}{z}": "*"}) for a in (A1, A2, A3) for z in (Z1, Z3)),
        *((f"{ACCOUNT_KEY}{a}", {f"{ZONE_KEY}*": "*"}) for a in (A1, A2, A3)),
        (f"{ACCOUNT_KEY}{A1}", {f"{ZONE_KEY}{Z1}": "*", f"{ZONE_KEY}{Z4}": "*"}),
        (f"{ZONE_KEY}*", "*"),
        *((f"{ACCOUNT_KEY}{a}", "*") for a in (A1, A2, A3)),
        (f"{ACCOUNT_KEY}*", "*"),
        (f"com.cloudflare.api.user.{USER}", "*"),
    ]
    if rng.random() < 0.05:  # left to the engine
        choices.append((f"com.cloudflare.edge.r2.bucket.{A1}_default_logs", "*"))
    picked = rng.sample(choices, rng.randint(1, 3))
    out: dict[str, Any] = {}
    for key, value in picked:
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            value = {**out[key], **value}
        out[key] = value
    return out


def _token(rng: random.Random, i: int) -> dict[str, Any]:
    policies = [
        {
            "id": f"{rng.getrandbits(128):032x}",
            "effect": "deny" if p and rng.random() < 0.6 else "allow",
            "permission_groups": [{"id": g} for g in rng.sample(GROUPS[:5], rng.randint(1, 3))],
            "resources": _resources(rng),
        }
        for p in range(rng.randint(2, 5))
    ]
    if all(p["effect"] == "allow" for p in policies):
        policies[-1]["effect"] = "deny"
    token: dict[str, Any] = {"id": f"{i:032x}", "name": f"t{i}", "policies": policies}
    if rng.random() < 0.05:
        token["expires_on"] = "soon"  # the bulk path reads it; the engine refuses the token
    return token


def assert_same_in_bulk(records: list[TokenRecord], monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk path reads ``records`` as the token reader does, and its arithmetic (not the
    engine) answered at least a quarter of them (100 of 400) among their deny tokens."""
    handled: list[int] = []
    real = _inventory._denies_applied

    def spy(inv: Any, tokens: Any, *rest: Any) -> list[int]:
        left = real(inv, tokens, *rest)
        handled.append(len(tokens) - len(left))
        return left

    monkeypatch.setattr(_inventory, "_denies_applied", spy)
    assert_same(records, ZONE_ACCOUNT)
    assert handled and handled[0] >= len(records) // 4


def _sizes(seeds: range | tuple[int, ...], n_tokens: int, small: int) -> list[Any]:
    """The full run's seeds (``n_tokens`` tokens each, read in chunks of 97 and 500), and the
    inner loop's: the first seed on ``small`` tokens (in chunks of 1 and 3)."""
    return [
        *(pytest.param(s, n_tokens, id=str(s), marks=pytest.mark.slow) for s in seeds),
        pytest.param(seeds[0], small, id=f"{seeds[0]}-small"),
    ]


@pytest.mark.parametrize(("seed", "n_tokens"), _sizes(range(6), 400, small=100))
def test_denies_applied_in_bulk_agree_with_the_engine(
    seed: int, n_tokens: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    records = [
        TokenRecord(
            _token(rng, i),
            *rng.choice([("user", USER, "me"), ("account", A1, "one"), ("account", A2, "two")]),
        )
        for i in range(n_tokens)
    ]
    assert_same_in_bulk(records, monkeypatch)
    inv = build_inventory(records, ZONE_ACCOUNT)
    effective, narrowed = inv.arrays["g_effective"], inv.arrays["g_narrowed"]
    deny = inv.arrays["g_deny"]
    # every outcome occurs: removed, narrowed and untouched allows
    allow_ok = ~deny & inv.arrays["g_scope_ok"]
    assert (allow_ok & ~effective).any() and narrowed.any() and (effective & ~narrowed).any()


def test_no_deny_token_leaves_the_engine_unasked(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty inventory and one without denies: nothing to compute."""
    assert_same([], ZONE_ACCOUNT)
    plain = {
        "id": "f" * 32,
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": GROUPS[0]}],
                "resources": {f"{ZONE_KEY}{Z1}": "*"},
            }
        ],
    }
    assert_same([TokenRecord(plain, "user", USER, "me")], ZONE_ACCOUNT)


UNKNOWN_GROUP = "f0" * 16  # in no catalogue: the engine grants nothing through it


def _hostile_token(rng: random.Random, i: int) -> dict[str, Any]:
    """A token whose policies repeat groups across allow and deny (a few in one policy, or
    name an unknown group), name zones of other accounts and of no known account, deny all
    users, all zones or all accounts where allows name one, and put denies before allows."""
    by_scope: dict[int, list[str]] = {
        0: [f"{ZONE_KEY}{z}" for z in (Z1, Z2, Z3, Z4)] + [f"{ZONE_KEY}*"],  # zone groups
        1: [f"{ACCOUNT_KEY}{a}" for a in (A1, A2, A3)] + [f"{ACCOUNT_KEY}*"],  # account
        2: [f"com.cloudflare.api.user.{USER}", "com.cloudflare.api.user.*"],  # user
    }
    scope_of = {GROUPS[0]: 0, GROUPS[1]: 0, GROUPS[2]: 1, GROUPS[3]: 1, GROUPS[4]: 2}
    nested: list[tuple[str, Any]] = [
        (f"{ACCOUNT_KEY}{A2}", {f"{ZONE_KEY}{Z1}": "*"}),  # Z1 named under another account
        (f"{ACCOUNT_KEY}{A3}", {f"{ZONE_KEY}*": "*"}),
        (f"{ACCOUNT_KEY}{A1}", {f"{ZONE_KEY}*": "*", f"{ZONE_KEY}{Z3}": "*"}),
    ]
    policies = []
    for _ in range(rng.randint(2, 6)):
        groups = rng.sample(GROUPS[:5], rng.randint(1, 3))  # repeated across policies
        keys = list(by_scope[scope_of[groups[0]]])
        picked = rng.sample(keys, rng.randint(1, min(3, len(keys))))
        if rng.random() < 0.2:  # a key of another scope beside them
            picked.append(rng.choice(by_scope[rng.randrange(3)]))
        resources: dict[str, Any] = dict.fromkeys(picked, "*")
        if rng.random() < 0.03:  # left to the token reader (and the engine)
            groups.append(rng.choice([UNKNOWN_GROUP, groups[0]]))
        if rng.random() < 0.03:
            resources.update([rng.choice(nested)])
        policies.append(
            {
                "id": f"{rng.getrandbits(128):032x}",
                "effect": rng.choice(["allow", "deny"]),
                "permission_groups": [{"id": g} for g in groups],
                "resources": resources,
            }
        )
    policies[rng.randrange(len(policies))]["effect"] = "deny"
    return {"id": f"{i:032x}", "name": f"h{i}", "policies": policies}


@pytest.mark.parametrize(("seed", "n_tokens"), _sizes(range(4), 300, small=60))
def test_denies_applied_in_bulk_agree_with_the_engine_on_hostile_shapes(
    seed: int, n_tokens: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(100 + seed)
    records = [
        TokenRecord(
            _hostile_token(rng, i),
            *rng.choice([("user", USER, "me"), ("account", A1, "one"), ("account", A3, "x")]),
        )
        for i in range(n_tokens)
    ]
    assert_same_in_bulk(records, monkeypatch)
