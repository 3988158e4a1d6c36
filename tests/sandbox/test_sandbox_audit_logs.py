"""Audit Logs v2 served from the journal: shape, required window, filters, cursor paging,
permission."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import Api, error_codes

from cftokens.sandbox import Sandbox

# The whole 30 days Audit Logs v2 keeps, ending at the sandbox's (fixed) now, so the tests' own
# requests stay out of the window.
WINDOW = {"since": "2026-10-03", "before": "2026-11-02T09:00:00Z"}


def logs(demo: Sandbox, **params: Any) -> Any:
    production = demo.extras["accounts"]["production"]
    return Api(demo, demo.bootstrap_token).get(
        f"/accounts/{production}/logs/audit", params={**WINDOW, **params}
    )


def test_record_shape(demo: Sandbox) -> None:
    """Records carry Cloudflare's v2 fields: action, actor (with token), raw, resource, zone."""
    body = logs(demo, limit=50, actor_token_name="external-dns-prod").json()
    record = body["result"][0]
    assert set(record) >= {"id", "account", "action", "actor", "raw", "resource", "zone"}
    assert record["account"]["name"] == "Acme Production"
    assert record["action"]["result"] == "success"
    assert record["action"]["type"] in {"view", "create", "update"}
    assert record["actor"]["context"] == "api_token"
    assert record["actor"]["type"] == "account"
    assert record["actor"]["token_name"] == "external-dns-prod"
    assert record["raw"]["uri"].startswith("/client/v4/zones/")
    assert record["raw"]["user_agent"] == "ExternalDNS/v0.14.2"
    assert record["zone"]["name"] == "acme.example"
    assert record["resource"]["product"] == "dns"


def test_since_and_before_are_required(demo: Sandbox) -> None:
    """Without since or before the endpoint answers 400 naming the parameter."""
    production = demo.extras["accounts"]["production"]
    r = Api(demo, demo.bootstrap_token).get(f"/accounts/{production}/logs/audit")
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith("since:")


def test_cursor_paging_walks_every_record_once(demo: Sandbox) -> None:
    """Following result_info.cursor with limit=100 yields every record once, newest first,
    and the last page has no cursor."""
    total = logs(demo, limit=1000, since="2026-10-27").json()["result"]
    ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": 100, "since": "2026-10-27", **({"cursor": cursor} if cursor else {})}
        body = logs(demo, **params).json()
        ids += [r["id"] for r in body["result"]]
        cursor = body["result_info"].get("cursor")
        if cursor:
            assert body["result_info"]["cursors"] == {"after": cursor}
        else:
            break
    assert ids == [r["id"] for r in total] and len(set(ids)) == len(ids) > 300
    times = [r["action"]["time"] for r in total]
    assert times == sorted(times, reverse=True)


def test_filters_and_negation(demo: Sandbox) -> None:
    """Filters select by field (repeatable), .not excludes, unknown filters are 400."""
    api_key = logs(demo, actor_context="api_key", limit=1000).json()["result"]
    assert api_key and all(r["actor"]["context"] == "api_key" for r in api_key)
    assert all("token_id" not in r["actor"] for r in api_key)
    assert all(r["actor"]["email"] == "dana.okafor@acme.example" for r in api_key)
    window = {"since": "2026-10-20", "limit": 1000}
    api_key = logs(demo, actor_context="api_key", **window).json()["result"]
    rest = logs(demo, **{"actor_context.not": "api_key", **window}).json()["result"]
    everything = logs(demo, **window).json()["result"]
    assert len(everything) < 1000
    assert len(api_key) + len(rest) == len(everything)
    writes = logs(demo, action_type=["create", "update"], limit=1000).json()["result"]
    assert writes and {r["action"]["type"] for r in writes} == {"create", "update"}
    bad = logs(demo, colour="blue")
    assert bad.status_code == 400 and "colour" in bad.json()["errors"][0]["message"]


def test_needs_account_settings_read(demo: Sandbox) -> None:
    """A token without Account Settings Read on the account is refused with 10000."""
    colleague = demo.extras["colleague_token"]
    production = demo.extras["accounts"]["production"]
    r = Api(demo, colleague).get(f"/accounts/{production}/logs/audit", params=WINDOW)
    assert r.status_code == 403 and error_codes(r) == [10000]


def test_new_requests_appear_in_audit_logs(sb: Sandbox) -> None:
    """A request made now shows up with its token, IP and user agent."""
    account = sb.directory().accounts[0].id
    zone = sb.directory().zones[0].id
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    client = Api(sb, ip="198.51.100.7")
    client.post(
        f"/zones/{zone}/dns_records",
        json={"type": "A", "name": "a", "content": "192.0.2.1"},
        headers={**key, "User-Agent": "test-agent/1"},
    )
    body = client.get(
        f"/accounts/{account}/logs/audit",
        params={"since": "2026-11-01", "before": "2026-11-03T00:00:00Z"},
        headers=key,
    ).json()
    created = [r for r in body["result"] if r["action"]["type"] == "create"]
    assert len(created) == 1
    assert created[0]["actor"]["ip_address"] == "198.51.100.7"
    assert created[0]["raw"]["user_agent"] == "test-agent/1"
    assert created[0]["actor"]["context"] == "api_key"


@pytest.mark.parametrize(
    "since", ["2026-10-02", "2026-10-02T23:59:59Z", "2026-09-03T09:00:00Z", "2025-01-01"]
)
def test_since_older_than_the_30_days_kept_is_refused(demo: Sandbox, since: str) -> None:
    """Audit Logs v2 keeps 30 days: a since before that window is a 400 naming the oldest day."""
    r = logs(demo, since=since)
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["code"] == 1004
    assert error["message"].startswith("since: Audit Logs v2 keeps 30 days of history")
    assert "not be earlier than 2026-10-03" in error["message"]


def test_the_whole_30_days_are_served(demo: Sandbox) -> None:
    """since = now - 30 days (the audit's usage window) and midnight that day both answer 200."""
    for since in ("2026-10-03T09:00:00Z", "2026-10-03"):
        assert logs(demo, since=since, limit=1).status_code == 200


def test_a_token_filter_makes_records_of_that_tokens_entries_only(
    demo: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``actor_token_id`` filter (however spelled or cased, several values, beside other
    filters, negated, paged) answers what filtering every record answers, and makes records
    only of the entries it keeps, not of the account's whole log (a triage's question)."""
    from cftokens.sandbox import audit_logs

    made: list[int] = []
    record_of = audit_logs.record_of

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return record_of(*args, **kwargs)

    monkeypatch.setattr(audit_logs, "record_of", counted)
    window = {"since": "2026-10-30", "limit": 1000}  # ~200 entries of 26 tokens: one page
    body = logs(demo, **window).json()
    every = body["result"]
    assert "cursor" not in body["result_info"]
    tokens = sorted({r["actor"]["token_id"] for r in every if "token_id" in r["actor"]})
    assert len(tokens) > 3
    one, two = tokens[0], tokens[-1]
    queries: list[Any] = [
        {"actor_token_id": one},
        {"actor.token_id": one.upper()},
        {"actor_token_id": [one, two], "raw_method": "GET"},
        {"actor_token_id": two, "actor_token_id.not": two},
        {"actor_token_id.not": one},
        {"actor_token_id": "0" * 32},
    ]
    for params in queries:
        made.clear()
        filtered = logs(demo, **window, **params).json()["result"]
        kept = len(made)
        with monkeypatch.context() as patch:  # every entry made into a record, then filtered
            patch.setattr(audit_logs, "_actor_tokens", lambda call: None)
            assert filtered == logs(demo, **window, **params).json()["result"], params
        if "actor_token_id" in params or "actor.token_id" in params:
            asked = params.get("actor_token_id", params.get("actor.token_id"))
            asked = {a.lower() for a in ([asked] if isinstance(asked, str) else asked)}
            assert kept == sum(r["actor"].get("token_id") in asked for r in every), params
    # paged: the same records, a page at a time
    pages: list[Any] = []
    cursor = None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        body = logs(demo, since="2026-10-30", limit=3, actor_token_id=one, **extra).json()
        pages += body["result"]
        cursor = body["result_info"].get("cursor")
        if not cursor:
            break
    assert pages == [r for r in every if r["actor"].get("token_id") == one]
