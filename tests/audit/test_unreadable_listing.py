"""One token the client cannot read never hides the others, in the client's listing and in the
audit's collection (a token with not_before 0001-01-01 echoed back as "1-01-01T00:00:00Z")."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest

import cftokens as cft
from cftokens.audit.collect import AuditGapWarning
from cftokens.client import UnreadableItemWarning

USER = "c1" * 16
ZONE = "b1" * 16
DNS_WRITE = cft.permission_groups.get("DNS Write").id


def _token(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{n:032x}",
        "name": f"token-{n}",
        "status": "active",
        "policies": [
            {
                "id": f"{n + 100:032x}",
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE, "name": "DNS Write"}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
        **extra,
    }


ODD = _token(2, not_before="1-01-01T00:00:00Z")  # 0001-01-01 as a server once echoed it


def _server(tokens: list[dict[str, Any]]) -> httpx.MockTransport:
    """A Cloudflare that lists ``tokens`` as the user's (one page) and nothing else."""

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/user"):
            user = {"id": USER, "email": "owner@example.com"}
            return httpx.Response(200, json={"success": True, "errors": [], "result": user})
        items = tokens if path.endswith("/user/tokens") else []
        info = {"page": 1, "per_page": 50, "count": len(items), "total_count": len(items)}
        body = {"success": True, "errors": [], "messages": [], "result": items}
        return httpx.Response(200, json={**body, "result_info": info})

    return httpx.MockTransport(answer)


def test_the_client_listing_sets_an_unreadable_token_aside() -> None:
    """tokens.list() yields every readable token, warns about the odd one and keeps it in
    pager.unreadable (id, reason, payload) instead of failing the whole page."""
    client = cft.Client(token="x" * 40, transport=_server([_token(1), ODD, _token(3)]))
    pager = client.tokens.list()
    with pytest.warns(UnreadableItemWarning, match=ODD["id"]):
        listed = list(pager)
    assert [t.name for t in listed] == ["token-1", "token-3"]
    [unread] = pager.unreadable
    assert unread.id == ODD["id"] and "not_before" in unread.reason
    assert unread.payload["name"] == "token-2" and "value" not in unread.payload
    assert "payload" not in repr(unread)


def test_the_audit_reads_it_on_its_own() -> None:
    """The audit keeps the whole page: the odd token is audited (its grants judged, the date
    read as unknown, so it counts as live), with one gap row naming it and one CFT-LN-04
    finding; nothing is hidden, so the audit is complete."""
    client = cft.Client(token="x" * 40, transport=_server([_token(1), ODD, _token(3)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = cft.run_audit(client, progress=False)
    assert sorted(audit.tokens["name"]) == ["token-1", "token-2", "token-3"]
    gap = audit.gaps[audit.gaps["subject"] == ODD["id"]]
    assert len(gap) == 1 and not gap["hides_tokens"].iloc[0]
    assert "not_before '1-01-01T00:00:00Z' is not a timestamp" in gap["reason"].iloc[0]
    findings = audit.findings[audit.findings["token_id"] == ODD["id"]]
    assert set(findings["rule_id"].astype(str)) >= {"CFT-LN-04", "CFT-LC-01", "CFT-RK-01"}
    assert not audit.incomplete and audit.gate() == 0


def test_no_token_at_all_is_an_incomplete_audit() -> None:
    """A server that lists no token, not even the auditing token itself, answers for a token
    that cannot see the inventory: "Audited 0 tokens" is a gap that hides tokens, never a pass."""

    def empty(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/user"):
            result: Any = {"id": "c1" * 16, "email": "someone@example.com"}
            return httpx.Response(200, json={"success": True, "errors": [], "result": result})
        info = {"page": 1, "per_page": 50, "count": 0, "total_count": 0}
        body = {"success": True, "errors": [], "messages": [], "result": [], "result_info": info}
        return httpx.Response(200, json=body)

    client = cft.Client(token="x" * 40, transport=httpx.MockTransport(empty))
    with pytest.warns(AuditGapWarning, match="not even the auditing token"):
        audit = cft.run_audit(client, progress=False)
    assert audit.tokens.empty and audit.incomplete and audit.gate("critical") == 3
    assert "not even the auditing token itself" in audit.not_seen()[0]
