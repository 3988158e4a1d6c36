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

__all__ = ["NOW", "synthetic_inventory"]

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
        group = permission_groups.get(name, scope=scope)
        out.append({"id": group.id, "name": group.name})
    return out


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
