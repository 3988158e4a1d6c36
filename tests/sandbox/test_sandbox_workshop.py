"""The workshop server against hostile attendees: spoofed client addresses, other attendees'
audit logs, percent-encoded paths, out-of-range values, odd methods and headers, and the
files the server writes."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import (
    API_TOKENS_READ,
    Api,
    error_codes,
    loopback_client,
    loopback_get,
    loopback_put,
    token_body,
)

from cftokens.cli import main
from cftokens.model._util import format_datetime
from cftokens.sandbox import Attendee, Sandbox
from cftokens.sandbox.server import BackgroundServer

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def user_policy(sb: Sandbox) -> dict[str, Any]:
    return {
        "effect": "allow",
        "permission_groups": [{"id": API_TOKENS_READ}],
        "resources": {f"com.cloudflare.api.user.{sb.user_id}": "*"},
    }


def ip_bound_token(sb: Sandbox) -> str:
    """A token usable only from 203.0.113.0/24."""
    created = sb.create_token(
        {
            "name": "office-only",
            "policies": [user_policy(sb)],
            "condition": {"request.ip": {"in": ["203.0.113.0/24"]}},
        }
    )
    return created.secret.reveal()


def admin(sb: Sandbox) -> Api:
    """Raw access with the main user's Global API Key (their full rights)."""
    client = Api(sb)
    client.http.headers.update(
        {"X-Auth-Email": sb.user.email or "", "X-Auth-Key": sb.global_api_key.reveal()}
    )
    return client


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, BackgroundServer]]:
    sb = Sandbox(rate_limit=None)
    with BackgroundServer(sb) as server:
        yield sb, server


# -- the client address --------------------------------------------------------------------


def test_x_forwarded_for_from_a_local_client_does_not_pass_an_ip_condition(
    served: tuple[Sandbox, BackgroundServer],
) -> None:
    """A loopback client claiming 203.0.113.9 in X-Forwarded-For is still 127.0.0.1: refused
    by the IP condition (9109), and the journal records the real peer."""
    sb, server = served
    secret = ip_bound_token(sb)
    r = loopback_get(
        server.base_url + "/user/tokens/verify",
        headers={"Authorization": f"Bearer {secret}", "X-Forwarded-For": "203.0.113.9"},
    )
    assert r.status_code == 403 and error_codes(r) == [9109]
    assert "127.0.0.1" in r.json()["errors"][0]["message"]
    assert sb.journal["ip"].iloc[-1] == "127.0.0.1"


def test_x_forwarded_for_counts_behind_a_trusted_proxy() -> None:
    """With the proxy named (trusted_proxies / --trusted-proxy), its X-Forwarded-For gives
    the client address: the right-most entry that is not a trusted proxy."""
    sb = Sandbox(rate_limit=None)
    secret = ip_bound_token(sb)
    with BackgroundServer(sb, trusted_proxies=["127.0.0.0/8"]) as server:
        r = loopback_get(
            server.base_url + "/user/tokens/verify",
            headers={
                "Authorization": f"Bearer {secret}",
                "X-Forwarded-For": "198.51.100.1, 203.0.113.9, 127.0.0.5",
            },
        )
    assert r.status_code == 200, r.text
    assert sb.journal["ip"].iloc[-1] == "203.0.113.9"


def test_a_bad_trusted_proxy_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--trusted-proxy that is not an address or CIDR exits 2 naming the flag."""
    assert main(["sandbox", "serve", "--trusted-proxy", "proxy.example"]) == 2
    assert "--trusted-proxy" in capsys.readouterr().err


# -- audit logs belong to the actor's account ----------------------------------------------


def test_refused_requests_of_another_attendee_stay_out_of_my_audit_log(
    two_attendees: tuple[Sandbox, list[Attendee]],
) -> None:
    """Attendee A probing attendee B's zone leaves nothing in B's Audit Logs (not A's email,
    user id, token, address or User-Agent); B's own requests are there."""
    sb, (a, b) = two_attendees
    b_zone = sb.directory(user=b.user_id).zones[0]
    b_account = b_zone.account.id if b_zone.account else ""
    b_key = sb.issue_api_key(b.user_id)
    prober = Api(sb, a.token, ip="198.51.100.66")
    probe = prober.get(f"/zones/{b_zone.id}/dns_records", headers={"User-Agent": "probe-agent/1"})
    assert probe.status_code == 403
    owner = Api(sb)
    headers = {"X-Auth-Email": b.email, "X-Auth-Key": b_key.reveal()}
    owner.get(f"/zones/{b_zone.id}/dns_records", headers=headers)
    logs = owner.get(
        f"/accounts/{b_account}/logs/audit",
        params={  # the whole 30 days Audit Logs v2 keeps
            "since": (sb.clock.now() - timedelta(days=30)).strftime("%Y-%m-%d"),
            "before": "2100-01-01",
            "limit": 1000,
        },
        headers=headers,
    )
    assert logs.status_code == 200, logs.text
    text = logs.text
    for leaked in (a.email, a.user_id, "198.51.100.66", "probe-agent/1"):
        assert leaked not in text
    assert b.email in text


# -- paths are routed as sent --------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["%3Fjunk", "%23frag", "%2F"])
def test_an_encoded_character_in_a_token_id_makes_an_unknown_id(sb: Sandbox, suffix: str) -> None:
    """DELETE …/tokens/<id>%3Fjunk (or %23, %2F) is 404 7003 and deletes nothing."""
    api = Api(sb, sb.bootstrap_token)
    victim = api.post("/user/tokens", json=token_body(sb.directory().zones[0].id)).json()
    token_id = victim["result"]["id"]
    r = api.delete(f"/user/tokens/{token_id}{suffix}")
    assert r.status_code == 404 and error_codes(r) == [7003]
    assert api.get(f"/user/tokens/{token_id}").status_code == 200


def test_an_encoded_slash_is_not_a_roll(served: tuple[Sandbox, BackgroundServer]) -> None:
    """PUT …/tokens/<id>%2Fvalue over HTTP is 404 7003: the old secret keeps working."""
    sb, server = served
    created = sb.create_token(token_body(sb.directory().zones[0].id, "victim"))
    headers = {"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"}
    r = loopback_put(
        f"{server.base_url}/user/tokens/{created.id}%2Fvalue", headers=headers, json={}
    )
    assert r.status_code == 404 and error_codes(r) == [7003]
    verify = loopback_get(
        server.base_url + "/user/tokens/verify",
        headers={"Authorization": f"Bearer {created.secret.reveal()}"},
    )
    assert verify.status_code == 200


# -- bodies and values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw_value"),
    [
        ("name", "9" * 5000),
        ("expires_on", '"9999-12-31T23:59:59-14:00"'),
        ("not_before", '"0001-01-01T00:00:00+14:00"'),
    ],
)
def test_out_of_range_values_are_400s_naming_the_field(
    sb: Sandbox, api: Api, field: str, raw_value: str
) -> None:
    """A 5,000-digit integer and times that leave years 1-9999 in UTC are 400s (code 1004)
    naming the field, not 500s."""
    body = token_body(sb.directory().zones[0].id)
    body[field] = "PLACEHOLDER"
    raw = json.dumps(body).replace('"PLACEHOLDER"', raw_value)
    r = api.post("/user/tokens", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["message"].startswith(f"{field}:")
    assert error_codes(r) == [1004]


def test_a_huge_integer_ttl_is_a_400_naming_ttl(sb: Sandbox) -> None:
    """A DNS body with a 5,000-digit ttl is refused naming ttl."""
    zone = sb.directory().zones[0].id
    raw = '{"type": "A", "name": "x", "content": "192.0.2.1", "ttl": ' + "9" * 5000 + "}"
    r = admin(sb).post(f"/zones/{zone}/dns_records", content=raw)
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith("ttl:")


def test_a_year_below_1000_is_stored_and_written_with_four_digits(sb: Sandbox, api: Api) -> None:
    """not_before 0999-01-01 is accepted, written back as 0999-…, and the token keeps
    working (it was stored as 999-… and every later request answered 500)."""
    body = token_body(sb.directory().zones[0].id, not_before="0999-01-01T00:00:00Z")
    created = api.post("/user/tokens", json=body)
    assert created.status_code == 200, created.text
    result = created.json()["result"]
    assert result["not_before"] == "0999-01-01T00:00:00Z"
    verify = Api(sb, result["value"]).get("/user/tokens/verify")
    assert verify.status_code == 200 and verify.json()["result"]["not_before"].startswith("0999")
    assert api.get("/user/tokens").status_code == 200
    assert format_datetime(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00Z"


# -- every answer is an envelope -----------------------------------------------------------


def test_odd_paths_and_methods_answer_json_envelopes(
    served: tuple[Sandbox, BackgroundServer],
) -> None:
    """Over HTTP: /zones/a%0Ab, TRACE (405, code 7001) and unknown paths answer Cloudflare's
    envelope; HEAD answers like GET without a body."""
    sb, server = served
    headers = {"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"}
    with loopback_client(base_url=server.base_url, headers=headers) as http:
        for method, path in (
            ("GET", "/zones/a%0Ab"),
            ("GET", "/zones/a%0Ab/dns_records"),
            ("TRACE", "/user/tokens"),
            ("GET", "/no/such/path%00"),
        ):
            r = http.request(method, path)
            body = r.json()
            assert r.headers["content-type"] == "application/json"
            assert body["success"] is False and body["errors"], (method, path, r.text)
        assert http.request("TRACE", "/user/tokens").status_code == 405
        get = http.get("/user/tokens/verify")
        head = http.head("/user/tokens/verify")
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == "application/json"
    assert int(head.headers["content-length"]) == len(get.content)


def test_head_in_process_answers_like_get_without_a_body(sb: Sandbox, api: Api) -> None:
    """HEAD through the in-process transport: GET's status, no body."""
    r = api.head("/user/tokens/verify")
    assert r.status_code == 200 and r.content == b""


def test_two_authorization_headers_are_refused(
    sb: Sandbox, served: tuple[Sandbox, BackgroundServer]
) -> None:
    """Two Authorization headers answer 400 (6003/6111), in process and over HTTP."""
    secret = f"Bearer {sb.bootstrap_token.reveal()}"
    headers = [("Authorization", secret), ("Authorization", secret)]
    r = Api(sb).get("/user/tokens/verify", headers=headers)
    assert r.status_code == 400 and error_codes(r) == [6003, 6111]
    other, server = served
    twice = [("Authorization", f"Bearer {other.bootstrap_token.reveal()}")] * 2
    r = loopback_get(server.base_url + "/user/tokens/verify", headers=twice)
    assert r.status_code == 400 and error_codes(r) == [6003, 6111]


def test_a_500_is_logged_with_its_request_id(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler bug answers a 500 envelope and logs the traceback with the request id the
    client got in cf-ray."""
    from cftokens.sandbox import routes

    def broken(call: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(routes.ROUTES[("GET", "/user")], "handler", broken)
    with caplog.at_level(logging.ERROR, logger="cftokens.sandbox"):
        r = admin(sb).get("/user")
    assert r.status_code == 500 and r.json()["success"] is False
    [record] = [rec for rec in caplog.records if rec.name == "cftokens.sandbox"]
    assert r.headers["cf-ray"] in record.getMessage()
    assert record.exc_info is not None


def test_a_failure_outside_the_engine_is_logged_with_the_request_id_it_answered(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The ASGI layer's own 500 (the engine itself failed) also carries a cf-ray id, and the
    log line names it: an attendee's "I got a 500" can be matched with the traceback."""
    import asyncio

    app = sb.asgi_app()

    def broken(request: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.engine, "handle", broken)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "GET", "path": "/client/v4/user", "raw_path": b"/client/v4/user",
        "query_string": b"", "headers": [], "client": ("127.0.0.1", 5000),
    }  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="cftokens.sandbox"):
        asyncio.run(app(scope, receive, send))
        asyncio.run(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [500, 500]
    rays = [dict(m["headers"])[b"cf-ray"].decode() for m in starts]
    assert rays[0] != rays[1] and all(re.fullmatch(r"[0-9a-f]{16}-SBX", ray) for ray in rays)
    logged = [rec for rec in caplog.records if rec.name == "cftokens.sandbox"]
    assert [ray in rec.getMessage() for rec, ray in zip(logged, rays, strict=True)] == [True] * 2
    assert all(rec.exc_info is not None for rec in logged)


def test_a_413_states_the_real_size(sb: Sandbox, api: Api) -> None:
    """A 100,000-byte body is refused with 413 saying 100000 bytes and the 64 KiB limit."""
    r = api.post("/user/tokens", content=b" " * 100_000)
    assert r.status_code == 413
    message = r.json()["errors"][0]["message"]
    assert "100000 bytes" in message and "64 KiB" in message


# -- files ---------------------------------------------------------------------------------


def test_the_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    """--db FILE, FILE-wal and FILE-shm are created 0600 whatever the umask."""
    old = os.umask(0o022)
    try:
        path = tmp_path / "workshop.db"
        sb = Sandbox(db=path, rate_limit=None)
        sb.client().tokens.verify()
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
        sb.close()
    finally:
        os.umask(old)
    assert modes == {f.name: 0o600 for f in files}


def test_a_symlinked_database_path_is_refused(tmp_path: Path) -> None:
    """A symbolic link planted at the --db path is refused, its target untouched."""
    from cftokens.errors import InvalidInput

    target = tmp_path / "elsewhere"
    (tmp_path / "workshop.db").symlink_to(target)
    with pytest.raises(InvalidInput, match="symbolic link"):
        Sandbox(db=tmp_path / "workshop.db")
    assert not target.exists()


@pytest.mark.parametrize("flag", ["--token-file", "--attendee-file"])
def test_a_symlink_planted_at_an_output_file_is_refused(
    tmp_path: Path, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A symbolic link at --token-file/--attendee-file is refused before anything is made;
    the file it points at is neither written nor read."""
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    args = ["sandbox", "serve", flag, str(link), "--db", str(tmp_path / "s.db")]
    if flag == "--attendee-file":
        args += ["--attendees", "1"]
    assert main(args) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert target.read_text() == "precious\n" and not (tmp_path / "s.db").exists()


def test_private_files_replace_a_link_instead_of_following_it(tmp_path: Path) -> None:
    """The writer goes through mkstemp + os.replace: a link planted after the checks is
    replaced by a 0600 file, its target untouched; reading the attendee list refuses a
    link."""
    from cftokens.cli import UsageError
    from cftokens.cli.sandbox import _append_attendees, _write_private

    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    link = tmp_path / "token.txt"
    link.symlink_to(target)
    _write_private(str(link), "secret\n")
    assert not link.is_symlink() and link.read_text() == "secret\n"
    assert stat.S_IMODE(link.stat().st_mode) == 0o600
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token.txt", "victim.txt"]
    attendees = tmp_path / "attendees.csv"
    attendees.symlink_to(target)
    with pytest.raises(UsageError, match="symbolic link"):
        _append_attendees(str(attendees), [["1", "a@example.com", "u", "url", "t"]])
    assert target.read_text() == "precious\n"
