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


@pytest.mark.parametrize(
    "path",
    [
        "/zones/{secret}",
        "/zones/{secret}/dns_records",
        "/accounts/{secret}/tokens",
        "/accounts/{secret}",
        "/zones/{encoded}/dns_records",
    ],
)
def test_secret_pasted_as_an_account_or_zone_id_is_in_no_journal_column(
    sb: Sandbox, path: str
) -> None:
    """The path was redacted, but the journal's account_id, zone_id and reason (the policy
    engine's sentence names the target) kept the secret; so did the Audit Logs built on it."""
    url = path.format(secret=LEAKED, encoded=LEAKED.replace("_", "%5F"))
    Api(sb, sb.bootstrap_token).get(url)
    journal = sb.journal
    last = journal.iloc[-1]
    assert "[redacted]" in last["path"]
    cells = [str(c) for c in journal.to_numpy().ravel()]
    assert not [c for c in cells if MARK in c]
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    for account in sb.directory().accounts:
        body = Api(sb).get(
            f"/accounts/{account.id}/logs/audit",
            params={"since": "2026-11-01", "before": "2026-11-03T00:00:00Z"},
            headers=key,
        )
        assert MARK not in body.text


def test_a_failure_outside_the_engine_logs_no_secret_from_the_path(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The ASGI layer's own 500 is logged on the server's console with the path redacted."""
    import asyncio
    import logging

    app = sb.asgi_app()

    def broken(request: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.engine, "handle", broken)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/client/v4/user/tokens/" + LEAKED,
        "raw_path": b"/client/v4/user/tokens/" + LEAKED.replace("_", "%5F").encode(),
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 5000),
    }
    with caplog.at_level(logging.ERROR, logger="cftokens.sandbox"):
        asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 500
    logged = [rec.getMessage() for rec in caplog.records if rec.name == "cftokens.sandbox"]
    assert logged and not [m for m in logged if MARK in m]


@pytest.mark.parametrize(
    "url",
    [
        "/user/tokens/{secret}",
        "/user/tokens/{encoded}",
        "/zones/{secret}",
        "/accounts/{secret}/tokens",
        "/zones/{zone}/dns_records?match={secret}",
        "/zones/{zone}/dns_records?per_page={secret}",
        "/zones/{zone}/dns_records?{secret}=1",
    ],
)
def test_error_answers_do_not_echo_a_secret_back(sb: Sandbox, url: str) -> None:
    """A 4xx message quotes the path or value it refuses; a credential pasted there comes back
    as [redacted], so another SDK that prints the error prints no secret."""
    zone = sb.directory().zones[0].id
    target = url.format(secret=LEAKED, encoded=LEAKED.replace("_", "%5F"), zone=zone)
    r = Api(sb, sb.bootstrap_token).get(target)
    assert r.status_code >= 400
    assert MARK not in r.text and LEAKED not in r.text
