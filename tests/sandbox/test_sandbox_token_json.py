"""A token page's JSON (``TokenRow.to_json``, written without an encoder per token) is what
``json.dumps`` writes for the token: same text, same value as ``to_api``, for every shape of
row (optional times present or not, a condition, names that need escaping)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import cftokens as cft
from cftokens.sandbox import Sandbox
from cftokens.sandbox.store import TokenRow, ts

NAMES = [
    "plain",
    'quote " and backslash \\ and slash /',
    "tab\tnewline\ncontrol\x01",
    "unicode é ß 東京 🚀",
]


def reference(row: TokenRow, now: str) -> str:
    """The page text as the encoder writes it (the stored policies and condition spliced)."""
    head = json.dumps(row._scalars(now), separators=(",", ":"))
    tail = ',"policies":' + row.policies
    if row.condition is not None:
        tail += ',"condition":' + row.condition
    return head[:-1] + tail + "}"


def test_a_page_token_is_what_json_dumps_writes() -> None:
    sb = Sandbox(keep_secrets=False)
    account = sb.add_account("Acme", owner=sb.user_id).id
    zone = sb.add_zone("example.com", account=account).id
    now = datetime.now(UTC)
    for n, name in enumerate(NAMES):
        spec = cft.TokenSpec(
            name=name,
            policies=[cft.Policy.allow(["Zone Read"], zones=[zone])],
            allow_ips=["192.0.2.0/24"] if n % 2 else (),
            not_before=now - timedelta(days=1) if n % 3 == 0 else None,
            expires_on=now + timedelta(days=n + 1) if n % 2 == 0 else None,
        )
        sb.create_token(spec)
    sb.seed_tokens(account, 3)
    rows = sb.store.all_tokens()
    assert len(rows) >= len(NAMES) + 3
    with sb.store.transaction():
        sb.store.conn.execute(
            "UPDATE tokens SET last_used_on = ? WHERE id = ?",
            (ts(now.replace(microsecond=123456)), rows[0].id),
        )
    rows = sb.store.all_tokens()
    shapes = set()
    for when in (now, now + timedelta(days=30)):  # later: some have expired
        stamp = ts(when)
        for row in rows:
            text = row.to_json(stamp)
            assert text == reference(row, stamp)
            assert json.loads(text) == row.to_api(stamp)
            shapes.add(frozenset(json.loads(text)))
    assert any("last_used_on" in s for s in shapes) and any("condition" in s for s in shapes)
    assert any("not_before" in s for s in shapes) and any("expires_on" in s for s in shapes)
