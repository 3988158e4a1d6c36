"""Resources of the sync client on MockTransport: paths, bodies, typed results, lifecycle."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from client_fakes import (
    ACCOUNT,
    ACCOUNT_TOKEN,
    DNS_WRITE,
    USER_TOKEN,
    ZONE,
    FakeCloudflare,
    envelope,
    error,
    token_payload,
)

import cftokens as cft
from cftokens.client import AuditLogRecord, DnsRecord

TOKEN_ID = f"{1:032x}"


def ok(result: Any, **info: Any) -> httpx.Response:
    return httpx.Response(200, json=envelope(result, result_info=info or None))


class Recorder:
    """A handler answering from a route table and recording requests."""

    def __init__(self, routes: dict[tuple[str, str], Any]):
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/client/v4")
        answer = self.routes.get((request.method, path))
        if answer is None:
            return error(404, 7003, "No route for that URI")
        return answer(request) if callable(answer) else answer

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


# -- verify ---------------------------------------------------------------------------------


VERIFY = ok({"id": "c" * 32, "status": "active"})


@pytest.mark.parametrize(
    ("token", "account_id", "path"),
    [
        (USER_TOKEN, None, "/user/tokens/verify"),
        (USER_TOKEN, ACCOUNT, "/user/tokens/verify"),
        (ACCOUNT_TOKEN, ACCOUNT, f"/accounts/{ACCOUNT}/tokens/verify"),
        ("L" * 40, None, "/user/tokens/verify"),
        ("L" * 40, ACCOUNT, f"/accounts/{ACCOUNT}/tokens/verify"),
    ],
)
def test_verify_picks_the_path_for_the_token(make_client, token, account_id, path):
    """cfat_ tokens (or legacy tokens with an account id) verify on the account path."""
    handler = Recorder({("GET", path): VERIFY})
    client = make_client(handler, token=token, account_id=account_id)
    result = client.tokens.verify()
    assert isinstance(result, cft.VerifyResult) and result.active
    assert handler.last.url.path.endswith(path)


def test_verify_of_an_account_token_without_account_id_says_how_to_fix(make_client):
    """A cfat_ token with no account id raises InvalidInput naming both fixes, sending nothing."""
    handler = Recorder({})
    client = make_client(handler, token=ACCOUNT_TOKEN)
    with pytest.raises(cft.InvalidInput) as info:
        client.tokens.verify()
    assert "account_id=" in str(info.value)
    assert "client.account(account_id).tokens.verify()" in str(info.value)
    assert handler.requests == []


def test_account_scope_verifies_on_its_account(make_client):
    """client.account(a).tokens.verify() always uses /accounts/a/tokens/verify."""
    handler = Recorder({("GET", f"/accounts/{ACCOUNT}/tokens/verify"): VERIFY})
    client = make_client(handler, token=ACCOUNT_TOKEN)
    assert client.account(ACCOUNT).tokens.verify().id == "c" * 32


def test_verify_with_a_global_api_key_is_refused(make_client):
    """A Global API Key is not a token: verify() says so instead of calling the API."""
    client = make_client(Recorder({}), token=None, api_key="k" * 37, email="a@example.com")
    with pytest.raises(cft.InvalidInput, match="Global API Key"):
        client.tokens.verify()


# -- tokens ---------------------------------------------------------------------------------


def test_token_lifecycle_on_user_and_account_paths(make_client):
    """create, get, list, update, roll and delete hit /user/tokens or /accounts/a/tokens."""
    cloudflare = FakeCloudflare()
    client = make_client(cloudflare)
    spec = cft.TokenSpec(
        name="ci-dns",
        policies=[cft.Policy.allow(["DNS Write"], zones=[ZONE])],
        allow_ips=["203.0.113.0/24"],
    )
    for tokens, prefix in (
        (client.tokens, "/user/tokens"),
        (client.account(ACCOUNT).tokens, f"/accounts/{ACCOUNT}/tokens"),
    ):
        cloudflare.requests.clear()
        created = tokens.create(spec)
        assert isinstance(created, cft.CreatedToken) and isinstance(created.secret, cft.Secret)
        assert tokens.get(created.id).name == "ci-dns"
        assert created.id in [t.id for t in tokens.list()]
        assert tokens.update(created.id, name="ci-dns-2").name == "ci-dns-2"
        assert isinstance(tokens.roll(created.id), cft.Secret)
        tokens.delete(created.id)
        assert {
            r.url.path.removeprefix("/client/v4").split("?")[0][: len(prefix)]
            for r in cloudflare.requests
        } == {prefix}
    assert cloudflare.tokens == {}


def test_update_with_changes_keeps_everything_else(make_client):
    """update(id, name=...) reads the token and PUTs it whole: policies and IPs are kept."""
    cloudflare = FakeCloudflare(tokens=1)
    before = cloudflare.tokens[TOKEN_ID]
    client = make_client(cloudflare)
    after = client.tokens.update(TOKEN_ID, name="renamed")
    put = cloudflare.bodies[-1]
    assert put["name"] == "renamed"
    assert (
        put["policies"][0]["permission_groups"][0]["id"]
        == before["policies"][0]["permission_groups"][0]["id"]
    )
    assert put["policies"][0]["resources"] == before["policies"][0]["resources"]
    assert put["condition"] == {"request.ip": {"in": ["203.0.113.0/24"]}}
    assert after.policies[0].resources == cft.Token.from_api(before).policies[0].resources
    assert [r.method for r in cloudflare.requests] == ["GET", "PUT"]


def test_update_accepts_a_mapping_and_status(make_client):
    """Changes may come as a dict; status='disabled' disables the token."""
    cloudflare = FakeCloudflare(tokens=1)
    client = make_client(cloudflare)
    token = client.tokens.update(TOKEN_ID, {"status": "disabled"})
    assert token.status is cft.TokenStatus.DISABLED


def test_update_with_a_spec_replaces_without_reading(make_client):
    """update(id, spec) PUTs the spec as the whole token with no GET first."""
    cloudflare = FakeCloudflare(tokens=1)
    client = make_client(cloudflare)
    spec = cft.TokenSpec(name="new", policies=[cft.Policy.allow(["DNS Write"], zones=[ZONE])])
    client.tokens.update(TOKEN_ID, spec, expires_on=datetime(2030, 1, 1, tzinfo=UTC))
    assert [r.method for r in cloudflare.requests] == ["PUT"]
    assert cloudflare.bodies[-1]["policies"][0]["permission_groups"][0]["id"] == DNS_WRITE
    assert cloudflare.bodies[-1]["expires_on"] == "2030-01-01T00:00:00Z"


def test_update_accepts_a_whole_token_body_as_the_api_writes_it(make_client):
    """A whole body (a GET result, an audit fix's put_body: wire policies, condition, string
    dates) replaces the token with no GET first, exactly as given."""
    cloudflare = FakeCloudflare(tokens=1)
    client = make_client(cloudflare)
    body = {
        "name": "narrowed",
        "status": "active",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE, "name": "DNS Write"}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
        "condition": {"request.ip": {"in": ["198.51.100.7/32"]}},
        "expires_on": "2030-01-01T00:00:00Z",
    }
    token = client.tokens.update(TOKEN_ID, body)
    assert [r.method for r in cloudflare.requests] == ["PUT"]
    put = cloudflare.bodies[-1]
    assert put["condition"] == body["condition"] and put["expires_on"] == body["expires_on"]
    assert put["policies"][0]["resources"] == body["policies"][0]["resources"]
    assert token.name == "narrowed"


@pytest.mark.parametrize(
    ("args", "kwargs", "phrase"),
    [
        ((), {"colour": "red"}, "cannot change colour"),
        ((), {}, "needs changes"),
        ((42,), {}, "takes a TokenSpec"),
    ],
)
def test_bad_updates_fail_before_any_request(make_client, args, kwargs, phrase):
    """Unknown fields, no changes or a wrong argument raise InvalidInput and send nothing."""
    cloudflare = FakeCloudflare(tokens=1)
    client = make_client(cloudflare)
    with pytest.raises(cft.InvalidInput, match=phrase):
        client.tokens.update(TOKEN_ID, *args, **kwargs)
    assert cloudflare.requests == []


def test_bad_ids_and_specs_fail_before_any_request(make_client):
    """Malformed ids and non-spec creates raise InvalidInput without a request."""
    cloudflare = FakeCloudflare()
    client = make_client(cloudflare)
    with pytest.raises(cft.InvalidInput, match="32 lower-case hex"):
        client.tokens.get("../../zones")
    with pytest.raises(cft.InvalidInput, match="takes a TokenSpec"):
        client.tokens.create({"name": "x"})  # type: ignore[arg-type]
    with pytest.raises(cft.InvalidInput):
        client.account("acme")
    assert cloudflare.requests == []


def test_permission_groups_are_catalogue_entries(make_client):
    """permission_groups.list() yields PermissionGroup objects usable in Policy.allow."""
    groups = [
        {"id": DNS_WRITE, "name": "DNS Write", "scopes": ["com.cloudflare.api.account.zone"]},
        {"id": "a" * 32, "name": "Brand New Write", "scopes": ["com.cloudflare.api.account"]},
        {"id": "b" * 32, "name": "Odd", "scopes": ["com.cloudflare.api.something"]},
    ]
    handler = Recorder({("GET", "/user/tokens/permission_groups"): ok(groups)})
    client = make_client(handler)
    result = client.permission_groups.list(scope="zone").collect()
    assert [g.name for g in result] == ["DNS Write", "Brand New Write"]
    assert result[0].scope is cft.Scope.ZONE and result[1].is_write
    assert handler.last.url.params["scope"] == "com.cloudflare.api.account.zone"
    policy = cft.Policy.allow([result[0]], zones=[ZONE])
    assert policy.group_ids() == (DNS_WRITE,)


# -- user, accounts, zones, directory ---------------------------------------------------------


def test_user_accounts_zones_and_directory(make_client):
    """user.get, accounts.list/get, zones.list/get and directory() return typed models."""
    account = {"id": ACCOUNT, "name": "Acme", "type": "standard"}
    zone = {
        "id": ZONE,
        "name": "example.com",
        "status": "active",
        "account": {"id": ACCOUNT, "name": "Acme"},
    }
    info = {"page": 1, "per_page": 50, "count": 1, "total_count": 1}
    handler = Recorder(
        {
            ("GET", "/user"): ok({"id": "9" * 32, "email": "ana@example.com"}),
            ("GET", "/accounts"): ok([account], **info),
            ("GET", f"/accounts/{ACCOUNT}"): ok(account),
            ("GET", "/zones"): ok([zone], **info),
            ("GET", f"/zones/{ZONE}"): ok(zone),
        }
    )
    client = make_client(handler)
    assert client.user.get().email == "ana@example.com"
    assert client.accounts.get(ACCOUNT).name == "Acme"
    assert client.account(ACCOUNT).get().name == "Acme"
    assert client.zones.get(ZONE).account_id == ACCOUNT
    zones = client.zones.list(name="example.com", account_id=ACCOUNT, status="active").collect()
    params = handler.last.url.params
    assert (params["name"], params["account.id"], params["status"]) == (
        "example.com",
        ACCOUNT,
        "active",
    )
    assert zones[0].name == "example.com"
    directory = client.directory()
    assert isinstance(directory, cft.Directory)
    assert directory.zone("example.com").id == ZONE
    assert directory.zone_account(ZONE) == ACCOUNT


def test_tokens_by_account_lists_each_account(make_client):
    """tokens_by_account() gathers the tokens of every visible account, skipping denied ones."""
    other = "1" * 32
    accounts = [{"id": ACCOUNT, "name": "A"}, {"id": other, "name": "B"}]
    info = {"page": 1, "per_page": 50, "count": 1, "total_count": 1}
    handler = Recorder(
        {
            ("GET", "/accounts"): ok(accounts, page=1, per_page=50, count=2, total_count=2),
            ("GET", f"/accounts/{ACCOUNT}/tokens"): ok([token_payload(1)], **info),
            ("GET", f"/accounts/{other}/tokens"): error(403, 10000, "Authentication error"),
        }
    )
    client = make_client(handler)
    with pytest.raises(cft.PermissionDenied):
        client.tokens_by_account()
    result = client.tokens_by_account(skip_denied=True)
    assert list(result) == [ACCOUNT]
    assert result[ACCOUNT][0].id == TOKEN_ID


# -- DNS records ------------------------------------------------------------------------------


def test_dns_record_crud(make_client):
    """dns_records create/list/get/update/delete send the right bodies and return DnsRecord."""
    record = {
        "id": "r1",
        "type": "A",
        "name": "www.example.com",
        "content": "192.0.2.1",
        "ttl": 1,
        "proxied": True,
        "proxiable": True,
        "zone_id": ZONE,
        "created_on": "2025-01-01T00:00:00Z",
        "meta": {"auto_added": False},
        "settings": {"ipv4_only": True},
    }
    base = f"/zones/{ZONE}/dns_records"

    def put(request: httpx.Request) -> httpx.Response:
        return ok({**record, **json.loads(request.content)})

    handler = Recorder(
        {
            ("POST", base): lambda r: ok({**record, **json.loads(r.content)}),
            ("GET", base): ok([record], page=1, per_page=100, count=1, total_count=1),
            ("GET", f"{base}/r1"): ok(record),
            ("PUT", f"{base}/r1"): put,
            ("DELETE", f"{base}/r1"): ok({"id": "r1"}),
        }
    )
    client = make_client(handler)
    created = client.dns_records.create(
        ZONE, type="a", name="www.example.com", content="192.0.2.1", proxied=True
    )
    assert json.loads(handler.last.content) == {
        "type": "A",
        "name": "www.example.com",
        "ttl": 1,
        "content": "192.0.2.1",
        "proxied": True,
    }
    assert isinstance(created, DnsRecord) and created.proxied is True
    assert created.extra["meta"] == {"auto_added": False}
    assert client.dns_records.list(ZONE, type="A").collect()[0].name == "www.example.com"
    assert handler.last.url.params["type"] == "A"
    updated = client.dns_records.update(ZONE, "r1", content="192.0.2.9")
    body = json.loads(handler.last.content)
    assert body["content"] == "192.0.2.9" and body["proxied"] is True and "zone_id" not in body
    assert updated.content == "192.0.2.9"
    client.dns_records.delete(ZONE, "r1")
    assert handler.last.method == "DELETE"
    with pytest.raises(cft.InvalidInput, match="ttl must be 1"):
        client.dns_records.create(ZONE, type="A", name="x", content="192.0.2.1", ttl=5)
    with pytest.raises(cft.InvalidInput, match="cannot change"):
        client.dns_records.update(ZONE, "r1", colour="red")


def test_dns_create_is_never_retried_after_an_ambiguous_failure(make_client):
    """A DNS create answered by a 502 raises MaybeCreated naming the record, after one POST."""
    handler = Recorder({("POST", f"/zones/{ZONE}/dns_records"): error(502, 0, "bad gateway")})
    client = make_client(handler)
    with pytest.raises(cft.MaybeCreated) as info:
        client.dns_records.create(ZONE, type="A", name="www.example.com", content="192.0.2.1")
    assert info.value.name == "www.example.com"
    assert len(handler.requests) == 1


# -- audit logs -------------------------------------------------------------------------------


def audit_row(n: int) -> dict[str, Any]:
    return {
        "id": f"log-{n}",
        "account": {"id": ACCOUNT, "name": "Acme"},
        "action": {
            "description": "Create token",
            "result": "success",
            "time": "2026-01-02T03:04:05Z",
            "type": "create",
        },
        "actor": {
            "context": "api_token",
            "email": "ana@example.com",
            "ip_address": "203.0.113.7",
            "token_id": "t" * 32,
            "token_name": "ci",
            "type": "user",
            "id": "u1",
        },
        "raw": {
            "cf_ray_id": "8f-LHR",
            "method": "POST",
            "status_code": 200,
            "uri": "/client/v4/user/tokens",
            "user_agent": "curl/8",
        },
        "resource": {
            "id": "r" * 32,
            "product": "api_tokens",
            "type": "token",
            "response": {"value": USER_TOKEN, "name": "ci"},
        },
        "zone": {"id": ZONE, "name": "example.com"},
        "novel": 1,
    }


def test_audit_logs_follow_cursors_and_flatten_records(make_client):
    """audit_logs.list follows result_info.cursor to the end and yields flat, redacted records."""
    pages = {
        None: ([audit_row(1), audit_row(2)], "c1"),
        "c1": ([audit_row(3)], "c2"),
        "c2": ([], None),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        items, cursor = pages[request.url.params.get("cursor")]
        return ok(items, count=len(items), cursor=cursor)

    recorder = Recorder({("GET", f"/accounts/{ACCOUNT}/logs/audit"): handler})
    client = make_client(recorder)
    records = (
        client.account(ACCOUNT)
        .audit_logs.list(since=datetime(2026, 1, 1, tzinfo=UTC), actor_context="api_token")
        .collect()
    )
    assert [r.id for r in records] == ["log-1", "log-2", "log-3"]
    first = records[0]
    assert isinstance(first, AuditLogRecord)
    assert (first.actor_token_id, first.raw_method, first.raw_status_code, first.zone_name) == (
        "t" * 32,
        "POST",
        200,
        "example.com",
    )
    assert first.time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert first.extra["novel"] == 1
    assert USER_TOKEN not in repr(first.extra) and USER_TOKEN not in json.dumps(first.to_api())
    params = recorder.requests[0].url.params
    assert params["since"] == "2026-01-01T00:00:00Z" and params["actor_context"] == "api_token"
    assert "before" in params
    assert len(recorder.requests) == 3


def test_audit_logs_refuse_a_repeated_cursor_and_unknown_filters(make_client):
    """The same cursor twice raises UnexpectedResponse; an unknown filter raises InvalidInput."""
    recorder = Recorder(
        {("GET", f"/accounts/{ACCOUNT}/logs/audit"): ok([audit_row(1)], cursor="same")}
    )
    client = make_client(recorder)
    logs = client.account(ACCOUNT).audit_logs
    with pytest.raises(cft.UnexpectedResponse, match="cursor 'same' twice"):
        logs.list(since="2026-01-01").collect()
    with pytest.raises(cft.InvalidInput, match="no filter colour"):
        logs.list(since="2026-01-01", colour="red")
    with pytest.raises(cft.InvalidInput, match="timezone-aware"):
        logs.list(since=datetime(2026, 1, 1))


# -- request, construction, lifecycle -----------------------------------------------------------


def test_request_returns_the_envelope_result(make_client):
    """client.request() returns the result of any envelope endpoint, with params."""
    handler = Recorder({("GET", f"/zones/{ZONE}/firewall/rules"): ok([{"id": "f1"}])})
    client = make_client(handler)
    assert client.request("get", f"/zones/{ZONE}/firewall/rules", params={"paused": False}) == [
        {"id": "f1"}
    ]
    assert handler.last.url.params["paused"] == "false"
    with pytest.raises(cft.InvalidInput, match="start with '/'"):
        client.request("GET", "https://evil.example/zones")
    client.request("GET", f"/zones/{ZONE}/firewall/rules", params={"id": ["a", "b"], "x": None})
    assert (
        handler.last.url.params.get_list("id") == ["a", "b"] and "x" not in handler.last.url.params
    )
    with pytest.raises(cft.InvalidInput, match="not JSON-serialisable"):
        client.request("POST", f"/zones/{ZONE}/firewall/rules", json={"when": object()})


def test_token_string_is_wrapped_in_a_secret_and_sent_as_bearer(make_client):
    """A str token becomes a Secret at once and is sent only in the Authorization header."""
    handler = Recorder({("GET", "/user"): ok({"id": "9" * 32})})
    client = make_client(handler)
    client.user.get()
    assert handler.last.headers["authorization"] == "Bearer " + USER_TOKEN
    assert USER_TOKEN not in repr(client)
    assert repr(client).startswith(
        "Client(base_url='https://api.cloudflare.com/client/v4', token=Secret('cfut_…')"
    )


def test_legacy_api_key_headers(make_client):
    """api_key + email send X-Auth-Email and X-Auth-Key, and no Authorization header."""
    handler = Recorder({("GET", "/user"): ok({"id": "9" * 32})})
    client = make_client(handler, token=None, api_key="k" * 37, email="ana@example.com")
    client.user.get()
    assert handler.last.headers["x-auth-email"] == "ana@example.com"
    assert handler.last.headers["x-auth-key"] == "k" * 37
    assert "authorization" not in handler.last.headers


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"token": USER_TOKEN, "api_key": "k" * 37, "email": "a@b.c"}, "not both"),
        ({"api_key": "k" * 37}, "needs both api_key= and email="),
        ({"token": USER_TOKEN, "base_url": "api.cloudflare.com"}, "http(s) URL"),
        ({"token": USER_TOKEN, "account_id": "acme"}, "account_id must be"),
        ({"token": " padded "}, "surrounding whitespace"),
        ({"token": USER_TOKEN, "timeout": -1}, "timeout must be"),
    ],
)
def test_constructor_refuses_bad_arguments(kwargs, phrase):
    """Bad constructor arguments raise InvalidInput that says what to pass."""
    with pytest.raises(cft.InvalidInput, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        cft.Client(**kwargs)


def test_closed_clients_cannot_be_reused(make_client):
    """After close() or leaving `with`, every call (and a pending pager) raises ClientClosed."""
    cloudflare = FakeCloudflare(tokens=120)
    client = make_client(cloudflare)
    pager = client.tokens.list()
    next(pager)
    with client:
        client.tokens.get(TOKEN_ID)
    assert client.closed
    with pytest.raises(cft.ClientClosed, match="create a new Client"):
        client.tokens.get(TOKEN_ID)
    with pytest.raises(cft.ClientClosed):
        pager.collect()
    with pytest.raises(cft.ClientClosed), client:
        pass


def test_a_long_server_pause_refuses_calls_instead_of_hanging(make_client, fake_time):
    """After a 429 asking to wait an hour, the next call raises RateLimited without sending."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(lambda r: error(429, 971, "Please wait", **{"retry-after": "3600"}))
    client = make_client(cloudflare)
    with pytest.raises(cft.RateLimited):
        client.tokens.get(TOKEN_ID)
    with pytest.raises(cft.RateLimited, match="was not sent"):
        client.user.get()
    assert len(cloudflare.requests) == 1
    assert fake_time.sleeps == []


# -- from_env -----------------------------------------------------------------------------------


def _credentials(
    make: Callable[[httpx.MockTransport], cft.Client | cft.AsyncClient],
) -> dict[str, str]:
    """The credential headers a client made by ``make(transport)`` sends with a request."""
    handler = Recorder({("GET", "/user"): ok({"id": "9" * 32})})
    client = make(httpx.MockTransport(handler))
    if isinstance(client, cft.AsyncClient):

        async def call(client: cft.AsyncClient) -> None:
            async with client:
                await client.user.get()

        asyncio.run(call(client))
    else:
        with client:
            client.user.get()
    names = ("authorization", "x-auth-key", "x-auth-email")
    return {k: v for k, v in handler.last.headers.items() if k in names}


def test_from_env_reads_token_base_url_and_account():
    """from_env() reads CLOUDFLARE_API_TOKEN, CLOUDFLARE_BASE_URL and CLOUDFLARE_ACCOUNT_ID."""
    env = {
        "CLOUDFLARE_API_TOKEN": USER_TOKEN + "\n",
        "CLOUDFLARE_BASE_URL": "http://127.0.0.1:8787/client/v4/",
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
    }
    with cft.Client.from_env(environ=env) as client:
        assert client.base_url == "http://127.0.0.1:8787/client/v4"
        assert client.account_id == ACCOUNT
    sent = _credentials(lambda transport: cft.Client.from_env(environ=env, transport=transport))
    assert sent == {"authorization": "Bearer " + USER_TOKEN}


def test_from_env_token_wins_over_global_key_with_a_warning(caplog):
    """With a token and a key+email set, the token is used and a warning says so."""
    env = {
        "CLOUDFLARE_API_TOKEN": USER_TOKEN,
        "CLOUDFLARE_API_KEY": "k" * 37,
        "CLOUDFLARE_EMAIL": "a@b.c",
    }
    with pytest.warns(UserWarning, match="using the API token"):
        sent = _credentials(
            lambda transport: cft.AsyncClient.from_env(environ=env, transport=transport)
        )
    assert sent == {"authorization": "Bearer " + USER_TOKEN}


def test_from_env_uses_the_global_key_only_without_a_token():
    """Key + e-mail are used when no token is set; half of the pair or nothing is an error."""
    env = {"CLOUDFLARE_API_KEY": "k" * 37, "CLOUDFLARE_EMAIL": "a@b.c"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sent = _credentials(lambda transport: cft.Client.from_env(environ=env, transport=transport))
    assert sent == {"x-auth-key": "k" * 37, "x-auth-email": "a@b.c"}
    with pytest.raises(cft.InvalidInput, match="must be set together"):
        cft.Client.from_env(environ={"CLOUDFLARE_EMAIL": "a@b.c"})
    with pytest.raises(cft.InvalidInput, match="set CLOUDFLARE_API_TOKEN"):
        cft.Client.from_env(environ={})


def test_from_env_keyword_arguments_win():
    """Arguments passed to from_env() override the environment (e.g. a transport or token)."""
    env = {"CLOUDFLARE_API_TOKEN": USER_TOKEN}
    sent = _credentials(
        lambda transport: cft.Client.from_env(environ=env, token=ACCOUNT_TOKEN, transport=transport)
    )
    assert sent == {"authorization": "Bearer " + ACCOUNT_TOKEN}


def test_audit_log_filters_repeat_and_exclude(make_client):
    """A list filter is sent repeated (any of them) and ``.not`` filters pass through."""
    recorder = Recorder({("GET", f"/accounts/{ACCOUNT}/logs/audit"): ok([], cursor=None)})
    client = make_client(recorder)
    client.account(ACCOUNT).audit_logs.list(
        since="2026-01-01",
        before="2026-02-01",
        raw_method=["POST", "PUT"],
        **{"actor_context.not": "dash"},
    ).collect()
    params = recorder.last.url.params
    assert params.get_list("raw_method") == ["POST", "PUT"]
    assert params["actor_context.not"] == "dash"
    assert (params["since"], params["before"], params["limit"]) == (
        "2026-01-01",
        "2026-02-01",
        "100",
    )


def test_request_keeps_a_query_written_in_the_path(make_client):
    """A query written in request()'s path is sent (merged with params=, which win)."""
    handler = Recorder({("GET", "/zones"): ok([])})
    client = make_client(handler)
    client.request("GET", "/zones?name=example.com&status=active", params={"status": "pending"})
    assert handler.last.url.params["name"] == "example.com"
    assert handler.last.url.params.get_list("status") == ["pending"]


def test_request_refuses_the_clients_own_secret_in_the_url(make_client, caplog):
    """A path or parameter holding the client's own secret is refused before any log or send."""
    handler = Recorder({})
    client = make_client(handler)
    caplog.set_level("DEBUG", logger="cftokens")
    for path, params in ((f"/user/tokens/{USER_TOKEN}", None), ("/zones", {"name": USER_TOKEN})):
        with pytest.raises(cft.InvalidInput, match="never put a secret in a URL") as info:
            client.request("GET", path, params=params)
        assert USER_TOKEN not in str(info.value)
    assert handler.requests == []
    assert USER_TOKEN not in caplog.text


def test_updating_an_expired_token_does_not_send_its_computed_status(make_client):
    """update(id, expires_on=…) on an expired token PUTs no status (expired cannot be set)."""
    expired = {**token_payload(1), "status": "expired"}
    handler = Recorder(
        {
            ("GET", f"/user/tokens/{TOKEN_ID}"): ok(expired),
            ("PUT", f"/user/tokens/{TOKEN_ID}"): lambda r: ok(
                {**json.loads(r.content), "id": TOKEN_ID, "status": "active"}
            ),
        }
    )
    client = make_client(handler)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    client.tokens.update(TOKEN_ID, expires_on=later)
    body = json.loads(handler.last.content)
    assert "status" not in body and body["expires_on"] == "2030-01-01T00:00:00Z"
    client.tokens.update(TOKEN_ID, status="disabled")
    assert json.loads(handler.last.content)["status"] == "disabled"


def test_from_env_warning_is_printed_once_without_logging_configured() -> None:
    """With token and key both set, an unconfigured program sees the precedence warning once
    (the cftokens logger has a NullHandler, so no second copy through logging's last resort)."""
    import os
    import subprocess
    import sys

    code = "import cftokens\ncftokens.Client.from_env()\n"
    env = dict(os.environ, CLOUDFLARE_API_TOKEN="t" * 40, CLOUDFLARE_API_KEY="k" * 37,
               CLOUDFLARE_EMAIL="a@example.com")  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stderr.count("CLOUDFLARE_API_TOKEN") == 1, result.stderr
    assert "k" * 37 not in result.stderr
