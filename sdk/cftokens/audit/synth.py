"""Synthetic token inventories with realistic shapes, for benchmarks and property tests.

Distributions (seeded, reproducible): 60% account-owned tokens spread over the accounts; 1–5
policies per token (mostly 1); 1–8 groups per policy drawn from a popularity-weighted list of
real catalogue groups (DNS, Zone Read, Workers, cache purge… dominate); resources: named zones
(most), all zones of an account (~15%), all zones (~5%), all accounts (~4% of account grants);
~6% of tokens carry a deny policy; ~45% an IP allowlist (some of them wide); ~45% an expiry;
ages log-normal (median ~200 days); ~20% never used; ~8% disabled or expired.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ..catalog import permission_groups

__all__ = ["NOW", "msp_inventory", "synthetic_inventory"]

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

_POPULAR_ZONE = [
    ("DNS Write", 30),
    ("DNS Read", 25),
    ("Zone Read", 40),
    ("Cache Purge", 12),
    ("Zone Settings Write", 6),
    ("Zone WAF Write", 4),
    ("Page Rules Write", 3),
    ("SSL and Certificates Write", 4),
    ("Analytics Read", 10),
    ("Workers Routes Write", 5),
    ("Firewall Services Write", 3),
]
_POPULAR_ACCOUNT = [
    ("Workers Scripts Write", 14),
    ("Workers KV Storage Write", 6),
    ("Workers R2 Storage Write", 4),
    ("Account Settings Read", 8),
    ("Account Analytics Read", 6),
    ("Pages Write", 4),
    ("D1 Write", 2),
    ("Cloudflare Tunnel Write", 2),
    ("Account API Tokens Write", 1),
    ("Logs Read", 2),
    ("Notifications Write", 1),
]


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _pick(
    rng: random.Random, table: list[tuple[str, int]], scope: str, k: int
) -> list[dict[str, str]]:
    names = [n for n, _ in table]
    weights = [w for _, w in table]
    chosen = dict.fromkeys(rng.choices(names, weights=weights, k=k))
    out = []
    for name in chosen:
        ref = _REFS.get((name, scope))
        if ref is None:
            group = permission_groups.get(name, scope=scope)
            ref = _REFS[(name, scope)] = (group.id, group.name)
        out.append({"id": ref[0], "name": ref[1]})
    return out


_REFS: dict[tuple[str, str], tuple[str, str]] = {}  # (name, scope) -> (id, catalogue name)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def synthetic_inventory(
    n_tokens: int,
    *,
    n_accounts: int = 50,
    n_zones: int = 2000,
    seed: int = 7,
    now: datetime = NOW,
) -> dict[str, Any]:
    """Keyword arguments for :meth:`Audit.from_records`: ``tokens``, ``account_tokens``,
    ``accounts``, ``zones``, ``user`` and ``now``."""
    rng = random.Random(seed)
    accounts: list[dict[str, str]] = [
        {"id": _hex(rng), "name": f"Account {i:03d}"} for i in range(n_accounts)
    ]
    zones: list[dict[str, Any]] = []
    for i in range(n_zones):
        home = accounts[min(int(rng.paretovariate(1.2)) - 1, n_accounts - 1)]
        zones.append(
            {"id": _hex(rng), "name": f"site{i:05d}.example", "account": {"id": home["id"]}}
        )
    zones_of: dict[str, list[str]] = {}
    for z in zones:
        zones_of.setdefault(z["account"]["id"], []).append(z["id"])
    user = {"id": _hex(rng), "email": "owner@example.com"}
    user_tokens: list[dict[str, Any]] = []
    account_tokens: dict[str, list[dict[str, Any]]] = {}
    api_tokens_write = permission_groups.get("API Tokens Write")
    for _ in range(n_tokens):
        owner_account = rng.choice(accounts)["id"]
        is_account = rng.random() < 0.6
        n_pol = min(int(rng.expovariate(1.6)) + 1, 5)
        policies = []
        for p in range(n_pol):
            zone_policy = rng.random() < 0.65
            k = min(int(rng.expovariate(0.45)) + 1, 8)
            if zone_policy:
                groups = _pick(rng, _POPULAR_ZONE, "zone", k)
                roll = rng.random()
                acct = owner_account if is_account else rng.choice(accounts)["id"]
                if roll < 0.05:
                    resources: dict[str, Any] = {"com.cloudflare.api.account.zone.*": "*"}
                elif roll < 0.20:
                    resources = {
                        f"com.cloudflare.api.account.{acct}": {
                            "com.cloudflare.api.account.zone.*": "*"
                        }
                    }
                else:
                    pool = zones_of.get(acct) or [z["id"] for z in zones[:50]]
                    resources = {
                        f"com.cloudflare.api.account.zone.{z}": "*"
                        for z in rng.sample(pool, min(len(pool), 1 + int(rng.expovariate(0.7))))
                    }
            else:
                groups = _pick(rng, _POPULAR_ACCOUNT, "account", k)
                acct = owner_account if is_account else rng.choice(accounts)["id"]
                resources = (
                    {"com.cloudflare.api.account.*": "*"}
                    if rng.random() < 0.04
                    else {f"com.cloudflare.api.account.{acct}": "*"}
                )
            effect = "deny" if p > 0 and rng.random() < 0.06 else "allow"
            policies.append(
                {
                    "id": _hex(rng),
                    "effect": effect,
                    "permission_groups": groups,
                    "resources": resources,
                }
            )
        if not is_account and rng.random() < 0.02:
            policies.append(
                {
                    "id": _hex(rng),
                    "effect": "allow",
                    "permission_groups": [
                        {"id": api_tokens_write.id, "name": api_tokens_write.name}
                    ],
                    "resources": {f"com.cloudflare.api.user.{user['id']}": "*"},
                }
            )
        token = _token(rng, now, policies)
        if is_account:
            account_tokens.setdefault(owner_account, []).append(token)
        else:
            user_tokens.append(token)
    return {
        "tokens": user_tokens,
        "account_tokens": account_tokens,
        "accounts": accounts,
        "zones": zones,
        "user": user,
        "now": now,
    }


def _token(rng: random.Random, now: datetime, policies: list[dict[str, Any]]) -> dict[str, Any]:
    """A token around ``policies``: status, dates, last use, expiry and IP allowlist drawn
    with the module's distributions."""
    age = min(rng.lognormvariate(5.3, 1.0), 2000)
    issued = now - timedelta(days=age)
    token: dict[str, Any] = {
        "id": _hex(rng),
        "name": f"token-{rng.getrandbits(24):06x}",
        "status": rng.choices(["active", "disabled", "expired"], weights=[92, 5, 3])[0],
        "issued_on": _iso(issued),
        "modified_on": _iso(issued + timedelta(days=rng.random() * age)),
        "policies": policies,
    }
    if rng.random() < 0.8:
        token["last_used_on"] = _iso(now - timedelta(days=rng.random() * min(age, 120)))
    if rng.random() < 0.45:
        token["expires_on"] = _iso(issued + timedelta(days=rng.choice([7, 30, 90, 365, 730])))
    if rng.random() < 0.45:
        prefix = rng.choices([24, 28, 32, 16, 20], weights=[40, 20, 20, 10, 10])[0]
        base = f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0"
        token["condition"] = {"request.ip": {"in": [f"{base}/{prefix}"]}}
    return token


USER_TOKEN_QUOTA = 50  # Cloudflare: user-owned tokens per user
ACCOUNT_TOKEN_QUOTA = 500  # Cloudflare: account-owned tokens per account


def msp_inventory(
    n_tokens: int = 100_000,
    *,
    n_accounts: int = 300,
    n_zones: int = 30_000,
    all_zones: float = 0.06,
    account_zones: float = 0.15,
    deny: float = 0.02,
    seed: int = 13,
    now: datetime = NOW,
) -> dict[str, Any]:
    """A managed-service provider's inventory (keyword arguments for
    :meth:`Audit.from_records`).

    Zones per account are heavy-tailed (Zipf, exponent 1.1: the largest client holds ~19% of
    the zones, the median one ~25); every account has at least one zone. A share
    ``all_zones`` of the tokens holds a zone policy on all zones: those are user-owned (an
    account-owned token reaches only its own account), the staff's tokens collected into one
    audit (at 50 user tokens per user, ~120 staff for 6,000 tokens), plus 50 more user tokens
    on named zones. The rest are account-owned, more in larger accounts (in proportion to the
    square root of their zone count), at most 500 per account (the quota); a share
    ``account_zones`` of all tokens holds all zones of its account, the others 1–6 named
    zones of it, nested under the account as Cloudflare requires. ~40% add an account-level
    policy on their account; a share ``deny`` carries a deny policy narrowing a wildcard.
    """
    n_all = round(n_tokens * all_zones)
    n_user = min(n_tokens, n_all + USER_TOKEN_QUOTA)
    n_account = n_tokens - n_user
    if n_account > ACCOUNT_TOKEN_QUOTA * n_accounts:
        raise ValueError(
            f"{n_account} account-owned tokens exceed the quota of {n_accounts} accounts "
            f"({ACCOUNT_TOKEN_QUOTA} each)"
        )
    rng = random.Random(seed)
    accounts = [{"id": _hex(rng), "name": f"Client {i:03d}"} for i in range(n_accounts)]
    weights = [1.0 / (i + 1) ** 1.1 for i in range(n_accounts)]
    homes = list(range(n_accounts)) + rng.choices(
        range(n_accounts), weights=weights, k=max(n_zones - n_accounts, 0)
    )
    zones: list[dict[str, Any]] = []
    zones_of: dict[str, list[str]] = {}
    for i, home in enumerate(homes[:n_zones]):
        zid = _hex(rng)
        acct = accounts[home]["id"]
        zones.append(
            {"id": zid, "name": f"site{i:05d}.client{home:03d}.example", "account": {"id": acct}}
        )
        zones_of.setdefault(acct, []).append(zid)
    # account tokens per account: ∝ sqrt(zones), capped at the quota (water-filling)
    left = n_account
    share = [len(zones_of.get(a["id"], ())) ** 0.5 for a in accounts]
    counts = [0] * n_accounts
    open_ = set(range(n_accounts))
    while left > 0 and open_:
        total = sum(share[i] for i in open_)
        given = 0
        for i in sorted(open_):
            want = max(1, round(left * share[i] / total))
            take = min(want, ACCOUNT_TOKEN_QUOTA - counts[i], left - given)
            counts[i] += take
            given += take
            if counts[i] >= ACCOUNT_TOKEN_QUOTA:
                open_.discard(i)
            if given >= left:
                break
        left -= given
    user = {"id": _hex(rng), "email": "msp-admin@example.com"}
    # (owning account or None for a user token, holds all zones)
    owners: list[tuple[int | None, bool]] = [(None, i < n_all) for i in range(n_user)]
    owners += [(i, False) for i, c in enumerate(counts) for _ in range(c)]
    p_account_zones = account_zones * n_tokens / max(n_account, 1)
    p_deny = deny / max(all_zones + account_zones, 1e-9)
    user_tokens: list[dict[str, Any]] = []
    account_tokens: dict[str, list[dict[str, Any]]] = {}
    for owner, everywhere in owners:
        acct_id = accounts[owner if owner is not None else rng.randrange(n_accounts)]["id"]
        wildcard = everywhere or (owner is not None and rng.random() < p_account_zones)
        if everywhere:
            resources: dict[str, Any] = {"com.cloudflare.api.account.zone.*": "*"}
        elif wildcard:
            resources = {
                f"com.cloudflare.api.account.{acct_id}": {"com.cloudflare.api.account.zone.*": "*"}
            }
        else:
            pool = zones_of[acct_id]
            picked = rng.sample(pool, min(len(pool), 1 + int(rng.expovariate(0.8))))[:6]
            named = {f"com.cloudflare.api.account.zone.{z}": "*" for z in picked}
            resources = named if owner is None else {f"com.cloudflare.api.account.{acct_id}": named}
        zone_groups = _pick(rng, _POPULAR_ZONE, "zone", min(int(rng.expovariate(0.45)) + 1, 8))
        policies: list[dict[str, Any]] = [
            {
                "id": _hex(rng),
                "effect": "allow",
                "permission_groups": zone_groups,
                "resources": resources,
            }
        ]
        if rng.random() < 0.4:
            policies.append(
                {
                    "id": _hex(rng),
                    "effect": "allow",
                    "permission_groups": _pick(
                        rng, _POPULAR_ACCOUNT, "account", 1 + int(rng.expovariate(0.8))
                    ),
                    "resources": {f"com.cloudflare.api.account.{acct_id}": "*"},
                }
            )
        if wildcard and rng.random() < p_deny:
            victim = rng.choice(zones_of[acct_id])
            policies.append(
                {
                    "id": _hex(rng),
                    "effect": "deny",
                    "permission_groups": zone_groups[:1],
                    "resources": {
                        f"com.cloudflare.api.account.{acct_id}": {
                            f"com.cloudflare.api.account.zone.{victim}": "*"
                        }
                    },
                }
            )
        token = _token(rng, now, policies)
        if owner is None:
            user_tokens.append(token)
        else:
            account_tokens.setdefault(acct_id, []).append(token)
    return {
        "tokens": user_tokens,
        "account_tokens": account_tokens,
        "accounts": accounts,
        "zones": zones,
        "user": user,
        "now": now,
    }
