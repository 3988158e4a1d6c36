"""A secret that arrives percent-encoded in a path or query is redacted before the journal and
Audit Logs v2 (``raw.uri``) store it."""

from __future__ import annotations

import pytest
from sandbox_helpers import Api

from cftokens.errors import redact_uri
from cftokens.sandbox import Sandbox

LEAKED = "cfut_" + "aB3" * 14  # shaped like a user token secret
MARK = "aB3aB3aB3"


@pytest.mark.parametrize(
    "query",
    [
        "note=" + LEAKED.replace("_", "%5F"),
        "note=" + LEAKED.replace("_", "%255F"),  # encoded twice
        "note=" + "%63" + LEAKED[1:].replace("_", "%5f"),
        "auth=Bearer+" + "x" * 12,  # form encoding: '+' is a space
        LEAKED.replace("_", "%5F") + "=1",  # in a key
    ],
)
def test_encoded_secret_in_the_query_is_redacted_in_the_journal_and_audit_logs(
    sb: Sandbox, query: str
) -> None:
    """Whatever the encoding, the journal's query and the audit log's raw.uri hold
    ``[redacted]`` in its place; the rest of the query is kept as sent."""
    account = sb.directory().accounts[0].id
    zone = sb.directory().zones[0].id
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    client = Api(sb)
    client.post(
        f"/zones/{zone}/dns_records?{query}&page=1",
        json={"type": "A", "name": "a", "content": "192.0.2.1"},
        headers=key,
    )
    journal = sb.journal
    stored = journal["query"].dropna().iloc[-1]
    assert "[redacted]" in stored and stored.endswith("&page=1")
    assert MARK not in journal.to_string() and "x" * 12 not in stored
    body = client.get(
        f"/accounts/{account}/logs/audit",
        params={"since": "2026-11-01", "before": "2026-11-03T00:00:00Z"},
        headers=key,
    ).json()
    uris = [r["raw"]["uri"] for r in body["result"] if r["action"]["type"] == "create"]
    assert uris and all("[redacted]" in u and MARK not in u for u in uris)


def test_encoded_secret_in_the_path_is_redacted(sb: Sandbox) -> None:
    """A secret pasted as an id, percent-encoded, is not journaled either."""
    Api(sb, sb.bootstrap_token).get("/user/tokens/" + LEAKED.replace("_", "%5F"))
    assert MARK not in sb.journal.to_string()


def test_redact_uri_keeps_what_holds_no_secret() -> None:
    """Only the components holding a credential change; plain ones keep their encoding."""
    assert redact_uri("/zones/abc?name=a%20b&page=2") == "/zones/abc?name=a%20b&page=2"
    assert redact_uri("/x/" + LEAKED + "?q=1") == "/x/[redacted]?q=1"
    assert redact_uri("/x?100%25=done") == "/x?100%25=done"
