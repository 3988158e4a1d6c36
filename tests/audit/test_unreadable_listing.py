"""One token the client cannot read never hides the others, in the client's listing and in the
audit's collection (a token with not_before 0001-01-01 echoed back as "1-01-01T00:00:00Z")."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import cftokens as cft
from cftokens.audit.collect import AuditGapWarning
from cftokens.client import UnreadableItemWarning


def _odd_token(sb: cft.Sandbox) -> str:
    """A DNS Write token whose not_before comes back as "1-01-01T00:00:00Z"."""
    zone = sb.directory().zones[0].id
    body = {
        "name": "zero-not-before",
        "not_before": "0001-01-01T00:00:00Z",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": cft.permission_groups.get("DNS Write").id}],
                "resources": {f"com.cloudflare.api.account.zone.{zone}": "*"},
            }
        ],
    }
    created: Any = sb.client().request("POST", "/user/tokens", json=body)
    assert created["not_before"] == "1-01-01T00:00:00Z"  # the echo this test is about
    return str(created["id"])


def test_the_client_listing_sets_an_unreadable_token_aside() -> None:
    """tokens.list() yields every readable token, warns about the odd one and keeps it in
    pager.unreadable (id, reason, payload) instead of failing the whole page."""
    sb = cft.Sandbox.demo()
    odd = _odd_token(sb)
    pager = sb.client().tokens.list()
    with pytest.warns(UnreadableItemWarning, match=odd):
        listed = list(pager)
    assert odd not in {t.id for t in listed} and len(listed) >= 2
    [unread] = pager.unreadable
    assert unread.id == odd and "not_before" in unread.reason
    assert unread.payload["name"] == "zero-not-before" and "value" not in unread.payload
    assert "payload" not in repr(unread)


def test_the_audit_reads_it_on_its_own() -> None:
    """The audit keeps the whole page: the odd token is audited (its grants judged, the date
    read as unknown), with one gap row naming it and one CFT-LN-04 finding; nothing is hidden,
    so the audit is as complete as without it."""
    sb = cft.Sandbox.demo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = cft.audit(sb, progress=False)
        odd = _odd_token(sb)
        after = cft.audit(sb, progress=False)
    assert len(after.tokens) == len(before.tokens) + 1
    assert odd in set(after.tokens["token_id"])
    gap = after.gaps[after.gaps["subject"] == odd]
    assert len(gap) == 1 and not gap["hides_tokens"].iloc[0]
    assert "not_before '1-01-01T00:00:00Z' is not a timestamp" in gap["reason"].iloc[0]
    ln04 = after.findings[
        (after.findings["rule_id"] == "CFT-LN-04") & (after.findings["token_id"] == odd)
    ]
    assert len(ln04) == 1
    rk = after.findings[
        (after.findings["rule_id"] == "CFT-LC-01") & (after.findings["token_id"] == odd)
    ]
    assert len(rk) == 1  # judged like any other token
    assert after.incomplete == before.incomplete


def test_no_token_at_all_is_an_incomplete_audit() -> None:
    """A server that lists no token, not even the auditing token itself, answers for a token
    that cannot see the inventory: "Audited 0 tokens" is a gap that hides tokens, never a pass."""
    import httpx

    def empty(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/user"):
            result: Any = {"id": "c1" * 16, "email": "someone@example.com"}
            return httpx.Response(200, json={"success": True, "errors": [], "result": result})
        info = {"page": 1, "per_page": 50, "count": 0, "total_count": 0}
        body = {"success": True, "errors": [], "messages": [], "result": [], "result_info": info}
        return httpx.Response(200, json=body)

    client = cft.Client(token="x" * 40, transport=httpx.MockTransport(empty))
    with pytest.warns(AuditGapWarning, match="not even the auditing token"):
        audit = cft.audit(client, progress=False)
    assert audit.tokens.empty and audit.incomplete and audit.gate("critical") == 3
    assert "not even the auditing token itself" in audit.not_seen()[0]
