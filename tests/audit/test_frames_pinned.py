"""The tokens and grants frames of a generated inventory, pinned: every column of every row,
as the code produced them before the parse, the IP and date readings and the tokens frame
became columnar (with hand-written tokens for the rarer shapes: IPv6 and private ranges, deny
lists, fractional, offset and unreadable dates, deny policies, Terraform-style definitions).

The fixture (``data/frames_synth.json.gz``) was written by this module's ``__main__``;
regenerate it only for an intended change of the audit's output
(``python tests/audit/test_frames_pinned.py``), and say so in the commit.
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import cftokens as cft
from cftokens.audit import Audit
from cftokens.audit.synth import synthetic_inventory

FIXTURE = Path(__file__).parent / "data" / "frames_synth.json.gz"
N_TOKENS = 1500


def _extra(inventory: dict[str, Any]) -> list[dict[str, Any]]:
    """Tokens of rarer shapes, on the inventory's own zones."""
    zone = inventory["zones"][0]["id"]
    dns = cft.permission_groups.get("DNS Write").id
    conditions: list[dict[str, Any]] = [
        {"in": ["2001:db8::/32", "10.1.2.3/8"]},
        {"in": ["::ffff:10.0.0.1/120", "fe80::1/64"], "not_in": ["fe80::/10"]},
        {"in": ["0.0.0.0/0"], "not_in": ["192.0.2.0/24"]},
        {"not_in": ["198.51.100.0/24"]},
        {"in": ["203.0.113.7/32", "203.0.113.0/24"], "not_in": ["203.0.0.0/16"]},
        {"in": [" 34.120.1.0/24 ", "34.120.2.0/255.255.255.0", "127.0.0.1"]},
        {"in": ["2606:4700::/32"]},
        {"in": ["100.64.0.0/10", "169.254.1.0/24"]},
    ]
    dates: list[dict[str, Any]] = [
        {"issued_on": "2026-01-02T03:04:05.123456Z", "last_used_on": "2026-11-01T00:00:00+02:00"},
        {"issued_on": "not a date", "expires_on": "9999-12-31T23:59:59Z"},
        {"issued_on": "1900-01-01T00:00:00Z", "not_before": "2026-12-25T00:00:00Z"},
        {"modified_on": "2026-02-30T00:00:00Z", "expires_on": "2026-11-28T12:00:00.5Z"},
        {},
        {"issued_on": "2026-06-30 12:00:00Z"},
        {"issued_on": "", "last_used_on": None},
        {"issued_on": "2024-02-29T23:59:59Z", "expires_on": "2026-11-27T12:00:01Z"},
    ]
    out = []
    for i, (cond, when) in enumerate(zip(conditions, dates, strict=True)):
        token: dict[str, Any] = {
            "name": f"extra-{i}",
            "status": "active" if i % 3 else "disabled",
            "policies": [
                {
                    "effect": "allow",
                    "permission_groups": [{"id": dns}],
                    "resources": {"com.cloudflare.api.account.zone.*": "*"},
                },
                {
                    "effect": "deny",
                    "permission_groups": [{"id": dns}],
                    "resources": {f"com.cloudflare.api.account.zone.{zone}": "*"},
                },
            ][: 1 + i % 2],
            "condition": {"request.ip": cond},
            **when,
        }
        if i != 4:  # one definition not created yet: no id
            token["id"] = f"{0xE0 + i:032x}"
        out.append(token)
    return out


def _audit() -> Audit:
    inventory = synthetic_inventory(N_TOKENS, n_zones=300, seed=11)
    inventory["tokens"] = [*inventory["tokens"], *_extra(inventory)]
    now = inventory["now"]
    suppressions = [
        {
            "rule": "CFT-LC-*",
            "match": {"owner": [inventory["user"]["id"]]},
            "reason": "user tokens rotate by hand",
            "owner": "ops",
            "expires": (now + timedelta(days=10)).isoformat(),
        }
    ]
    return Audit.from_records(**inventory, suppressions=suppressions)


def _frame(frame: pd.DataFrame) -> dict[str, Any]:
    columns = {
        name: [None if v is None or v is na or v is pd.NaT else str(v) for v in values]
        for name, values, na in (
            (c, frame[c].astype(object).tolist(), frame[c].dtype.na_value) for c in frame.columns
        )
    }
    return {"dtypes": {c: str(t) for c, t in frame.dtypes.items()}, "columns": columns}


def _current(audit: Audit | None = None) -> dict[str, Any]:
    audit = _audit() if audit is None else audit
    return {"tokens": _frame(audit.tokens), "grants": _frame(audit.grants)}


@pytest.fixture(scope="module")
def audit() -> Audit:
    """The synthetic inventory's audit, made once for the module's tests (they only read it)."""
    return _audit()


@pytest.fixture(scope="module")
def current(audit: Audit) -> dict[str, Any]:
    return _current(audit)


@pytest.fixture(scope="module")
def pinned() -> dict[str, Any]:
    """The pinned frames, read once for the module's tests."""
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


@pytest.mark.parametrize("name", ["tokens", "grants"])
def test_frame_matches_the_pinned_one(
    current: dict[str, Any], pinned: dict[str, Any], name: str
) -> None:
    expected = pinned[name]
    got = current[name]
    assert got["dtypes"] == expected["dtypes"]
    assert list(got["columns"]) == list(expected["columns"])
    n = len(next(iter(expected["columns"].values())))
    assert n > (N_TOKENS if name == "tokens" else 3 * N_TOKENS)
    for column, values in expected["columns"].items():
        actual = got["columns"][column]
        assert len(actual) == n, column
        bad = [i for i in range(n) if actual[i] != values[i]]
        assert not bad, (
            f"{column}: {len(bad)} rows differ, first {bad[0]}: "
            f"{actual[bad[0]]!r} != {values[bad[0]]!r}"
        )


if __name__ == "__main__":
    with gzip.open(FIXTURE, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(_current(), fh, separators=(",", ":"))
    print(FIXTURE, FIXTURE.stat().st_size)


def test_dates_centuries_away_do_not_overflow() -> None:
    """0001-01-01 (read as 1677-09-22, the earliest nanoseconds hold) is ~349 years before
    the clock: more nanoseconds than 64 bits hold. The tokens frame and ``Ctx.days_since``
    count the token's age from the date read instead of failing or wrapping around."""
    from datetime import UTC, datetime

    from audit_helpers import NOW

    token = {
        "id": "e1" * 16,
        "name": "ancient",
        "status": "active",
        "issued_on": "0001-01-01T00:00:00Z",
        "last_used_on": "1000-06-01T00:00:00Z",
        "expires_on": "9999-12-31T23:59:59Z",
        "policies": [],
    }
    audit = Audit.from_records(tokens=[token], now=NOW)
    row = audit.tokens.iloc[0]
    assert row["age_days"] == (NOW - datetime(1677, 9, 22, tzinfo=UTC)).days
    assert row["days_since_used"] == (NOW - datetime(1677, 9, 22, tzinfo=UTC)).days
    assert audit._ctx.days_since("issued_on")[0] > 127_000
    assert audit._ctx.days_since("expires_on")[0] < -85_000


def test_grants_label_each_unrecognised_resource_by_its_own_key() -> None:
    """Two resource keys the audit cannot read are two resources in the grants frame (the
    labels were once cached by kind and id, so every such key showed the first one's)."""
    from audit_helpers import NOW

    dns = cft.permission_groups.get("DNS Write").id
    keys = ["com.cloudflare.api.account.zone.example.com", "com.example.other.thing"]
    token = {
        "id": "e2" * 16,
        "name": "odd keys",
        "status": "active",
        "policies": [
            {"effect": "allow", "permission_groups": [{"id": dns}], "resources": {k: "*"}}
            for k in keys
        ],
    }
    grants = Audit.from_records(tokens=[token], now=NOW).grants
    labels = dict(zip(grants["resource_key"], grants["resource"].astype(str), strict=True))
    assert set(labels) == set(keys)
    for key in keys:
        assert repr(key) in labels[key]


def test_group_counts_from_the_effective_pairs_agree_with_the_row_masks(audit: Audit) -> None:
    """``Ctx.count_groups`` (from E(T)'s distinct pairs, sorted once) against counting the
    distinct pairs of the grant rows themselves, for every group property the rules use."""
    ctx = audit._ctx
    assert ctx.n_groups.tolist() == ctx.count_groups_in(ctx.eff).tolist()
    assert ctx.n_write.tolist() == ctx.count_groups_in(ctx.write_row).tolist()
    assert ctx.n_write.max() > 1
    for scope in range(5):
        rows = ctx.eff & (ctx.row_scope == scope)
        assert ctx.count_groups(ctx.g_scope == scope).tolist() == ctx.count_groups_in(rows).tolist()
