"""Fidelity over HTTP: the official ``cloudflare`` SDK runs the whole token lifecycle against
a served sandbox, curl gets the documented verify body, and injected drops close the
connection."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import (
    ACCOUNT_TOKENS_WRITE,
    DNS_READ,
    DNS_WRITE,
    loopback_client,
    loopback_get,
    official_sdk,
)

from cftokens.sandbox import Sandbox, _prompt_server
from cftokens.sandbox.server import BackgroundServer

# a socket left open is an error here (see _no_socket_left_open)
pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, BackgroundServer]]:
    sb = Sandbox(rate_limit=None)
    with BackgroundServer(sb) as server:
        yield sb, server


@pytest.fixture(autouse=True)
def _no_socket_left_open() -> Iterator[None]:
    """A loopback socket a test leaves open fails that test: the garbage collector runs at
    its end (an SDK client sits in reference cycles), and ResourceWarning is an error."""
    yield
    gc.collect()


@pytest.fixture
def sdk() -> Iterator[Callable[..., Any]]:
    """:func:`official_sdk`, each client closed (its pooled sockets) when the test ends."""
    with contextlib.ExitStack() as clients:
        yield lambda base_url, **credentials: clients.enter_context(
            official_sdk(base_url, **credentials)
        )


def policy(group: str, key: str) -> dict[str, Any]:
    return {"effect": "allow", "permission_groups": [{"id": group}], "resources": {key: "*"}}


def test_official_sdk_full_lifecycle(
    served: tuple[Sandbox, BackgroundServer], sdk: Callable[..., Any]
) -> None:
    """cloudflare.Cloudflare pointed at the server verifies, lists permission groups, creates,
    auto-paginates, gets, updates, rolls and deletes user- and account-owned tokens."""
    import cloudflare

    sb, server = served
    zone = sb.directory().zones[0].id
    account = sb.directory().accounts[0].id
    cf = sdk(server.base_url, api_token=sb.bootstrap_token.reveal())
    assert cf.user.tokens.verify().status == "active"
    groups = list(cf.user.tokens.permission_groups.list(name="DNS Write"))
    assert [g.id for g in groups] == [DNS_WRITE]
    zone_key = f"com.cloudflare.api.account.zone.{zone}"
    created = cf.user.tokens.create(name="sdk-dns", policies=[policy(DNS_WRITE, zone_key)])
    assert created is not None and created.value and created.value.startswith("cfut_")
    for i in range(11):
        cf.user.tokens.create(name=f"sdk-{i:02d}", policies=[policy(DNS_READ, zone_key)])
    names = [t.name for t in cf.user.tokens.list(per_page=5)]
    assert len(names) == 13 and names[1:3] == ["sdk-dns", "sdk-00"]
    fetched = cf.user.tokens.get(created.id)  # type: ignore[arg-type]
    assert fetched is not None and fetched.name == "sdk-dns"
    updated = cf.user.tokens.update(
        created.id,  # type: ignore[arg-type]
        name="sdk-dns-renamed",
        policies=[policy(DNS_READ, zone_key)],
        condition={"request_ip": {"in": ["127.0.0.0/8"]}},  # type: ignore[dict-item]
        status="active",
    )
    assert updated is not None and updated.name == "sdk-dns-renamed"
    new_value = cf.user.tokens.value.update(created.id)  # type: ignore[arg-type]
    assert new_value.startswith("cfut_") and new_value != created.value
    rolled = sdk(server.base_url, api_token=new_value)
    assert rolled.user.tokens.verify().id == created.id
    with pytest.raises(cloudflare.AuthenticationError):
        sdk(server.base_url, api_token=created.value).user.tokens.verify()
    deleted = cf.user.tokens.delete(created.id)  # type: ignore[arg-type]
    assert deleted is not None and deleted.id == created.id
    with pytest.raises(cloudflare.NotFoundError):
        cf.user.tokens.get(created.id)  # type: ignore[arg-type]

    admin = cf.user.tokens.create(
        name="sdk-account-admin",
        policies=[policy(ACCOUNT_TOKENS_WRITE, f"com.cloudflare.api.account.{account}")],
    )
    acf = sdk(server.base_url, api_token=admin.value)  # type: ignore[union-attr]
    nested = {
        "effect": "allow",
        "permission_groups": [{"id": DNS_READ}],
        "resources": {f"com.cloudflare.api.account.{account}": {zone_key: "*"}},
    }
    owned = acf.accounts.tokens.create(account_id=account, name="sdk-owned", policies=[nested])  # type: ignore[list-item]
    assert owned is not None and owned.value and owned.value.startswith("cfat_")
    assert [t.name for t in acf.accounts.tokens.list(account_id=account)] == ["sdk-owned"]
    assert acf.accounts.tokens.get(owned.id, account_id=account).name == "sdk-owned"  # type: ignore[arg-type, union-attr]
    acf.accounts.tokens.update(
        owned.id,
        account_id=account,
        name="sdk-owned-2",
        policies=[nested],  # type: ignore[list-item]
    )
    value = acf.accounts.tokens.value.update(owned.id, account_id=account)  # type: ignore[arg-type]
    own = sdk(server.base_url, api_token=value)
    assert own.accounts.tokens.verify(account_id=account).id == owned.id  # type: ignore[union-attr]
    groups = list(acf.accounts.tokens.permission_groups.list(account_id=account, name="DNS Read"))
    assert [g.id for g in groups] == [DNS_READ]
    acf.accounts.tokens.delete(owned.id, account_id=account)  # type: ignore[arg-type]
    assert list(acf.accounts.tokens.list(account_id=account)) == []
    with pytest.raises(cloudflare.PermissionDeniedError):
        cf.accounts.tokens.list(account_id=account).result  # noqa: B018


@pytest.mark.slow  # inner twin: test_zones_and_dns_over_http_with_the_global_api_key
def test_official_sdk_zones_and_dns(
    served: tuple[Sandbox, BackgroundServer], sdk: Callable[..., Any]
) -> None:
    """The SDK lists zones and manages DNS records with the Global API Key. (Slow: the SDK's
    DNS resources and their models take about 0.4 s of CPU to load; the inner loop sends the
    same requests itself, below, and runs the SDK's token lifecycle above.)"""
    sb, server = served
    cf = sdk(server.base_url, api_email="analyst@example.com", api_key=sb.global_api_key.reveal())
    zone = next(iter(cf.zones.list()))
    assert zone.name == "example.com"
    record = cf.dns.records.create(
        zone_id=zone.id, type="A", name="sdk", content="192.0.2.5", ttl=1
    )
    assert record is not None and record.name == "sdk.example.com"
    assert "sdk.example.com" in [r.name for r in cf.dns.records.list(zone_id=zone.id)]
    cf.dns.records.delete(record.id, zone_id=zone.id)  # type: ignore[arg-type]
    assert cf.user.get() is not None


def test_zones_and_dns_over_http_with_the_global_api_key(
    served: tuple[Sandbox, BackgroundServer],
) -> None:
    """The requests the SDK sends above, over HTTP with the Global API Key's headers: the
    zones listed, a DNS record created, listed and deleted, the user read."""
    sb, server = served
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    with loopback_client(base_url=server.base_url, headers=key) as http:
        zones = http.get("/zones").json()["result"]
        assert [z["name"] for z in zones] == ["example.com"]
        body = {"type": "A", "name": "sdk", "content": "192.0.2.5", "ttl": 1}
        created = http.post(f"/zones/{zones[0]['id']}/dns_records", json=body)
        assert created.status_code == 200, created.text
        record = created.json()["result"]
        assert record["name"] == "sdk.example.com"
        listed = http.get(f"/zones/{zones[0]['id']}/dns_records").json()["result"]
        assert "sdk.example.com" in [r["name"] for r in listed]
        deleted = http.delete(f"/zones/{zones[0]['id']}/dns_records/{record['id']}")
        assert deleted.status_code == 200 and deleted.json()["result"] == {"id": record["id"]}
        listed = http.get(f"/zones/{zones[0]['id']}/dns_records").json()["result"]
        assert "sdk.example.com" not in [r["name"] for r in listed]
        assert http.get("/user").json()["result"]["email"] == "analyst@example.com"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_verify_returns_documented_body(served: tuple[Sandbox, BackgroundServer]) -> None:
    """curl with a Bearer token gets the documented verify body."""
    sb, server = served
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-H",
            f"Authorization: Bearer {sb.bootstrap_token.reveal()}",
            f"{server.base_url}/user/tokens/verify",
        ],
        capture_output=True,
        check=True,
        timeout=20,
    )
    assert json.loads(out.stdout) == {
        "result": {"id": sb.bootstrap_token_id, "status": "active"},
        "success": True,
        "errors": [],
        "messages": [
            {"code": 10000, "message": "This API Token is valid and active", "type": None}
        ],
    }


def test_peer_address_is_the_client_ip(served: tuple[Sandbox, BackgroundServer]) -> None:
    """Over HTTP the journal records the peer address as the client IP."""
    sb, server = served
    loopback_get(f"{server.base_url}/user/tokens/verify")
    assert sb.journal.iloc[-1]["ip"] == "127.0.0.1"


def test_dropped_connection_over_http() -> None:
    """A drop fault closes the connection without an answer; the next request works."""
    sb = Sandbox(faults="schedule=1:drop", rate_limit=None)
    headers = {"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"}
    with (
        BackgroundServer(sb) as server,
        loopback_client(base_url=server.base_url, headers=headers) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/user/tokens/verify")
        assert http.get("/user/tokens/verify").status_code == 200


def test_background_server_disables_nagle(served: tuple[Sandbox, BackgroundServer]) -> None:
    """The listening socket sets TCP_NODELAY, so keep-alive requests do not stall ~40 ms on
    Nagle's algorithm meeting the client's delayed ACK."""
    import socket

    _sb, server = served
    assert server._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_an_oversized_body_is_refused_without_being_held_in_memory() -> None:
    """The ASGI app keeps at most one byte over the 64 KiB limit of a body, drains the rest,
    and answers 413 (code 1005) stating the body's real size."""
    import asyncio

    from cftokens.sandbox.asgi import SandboxApp
    from cftokens.sandbox.validate import MAX_BODY_BYTES

    sb = Sandbox(rate_limit=None)
    endpoint = SandboxApp(sb.engine)
    seen: list[int] = []
    handle = sb.engine.handle

    def spy(request: Any) -> Any:
        seen.append(len(request.body))
        return handle(request)

    sb.engine.handle = spy  # type: ignore[method-assign]
    chunk = b"x" * (1 << 20)
    messages = [{"body": chunk, "more_body": True} for _ in range(20)]
    messages.append({"body": b"", "more_body": False})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    token = sb.bootstrap_token.reveal()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/client/v4/user/tokens",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 5000),
    }
    asyncio.run(endpoint(scope, receive, send))
    assert messages == []  # the whole body was drained
    assert seen == [MAX_BODY_BYTES + 1]
    assert sent[0]["status"] == 413
    assert b"1005" in sent[1]["body"]
    assert f"request body is {20 << 20} bytes".encode() in sent[1]["body"]


def test_a_background_server_stops_at_once_after_answering_what_is_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """stop() wakes the server instead of waiting for uvicorn's ticks (its main loop looked at
    ``should_exit`` every 0.1 s; its shutdown slept 0.1 s, then polled the connections every
    0.1 s: 0.15-0.3 s per stop): with the main loop's tick at an hour, stop() returns at once
    and no sleep of 0.1 s is taken meanwhile. A request in flight still gets its answer (the
    server waits for it, as uvicorn's shutdown does); then the port is closed."""
    monkeypatch.setattr(_prompt_server, "TICK", 3600.0)
    latency = 0.15  # the request's injected latency (apart from uvicorn's 0.1 s)
    sleeps: list[float] = []
    sleep = asyncio.sleep

    async def recorded(delay: float, *args: Any) -> Any:
        sleeps.append(delay)
        return await sleep(delay, *args)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    sb = Sandbox(faults=f"latency={latency}s", rate_limit=None)
    headers = {"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"}
    server = BackgroundServer(sb).start()
    answers: list[int] = []
    with loopback_client(base_url=server.base_url, headers=headers) as http:
        in_flight = threading.Thread(
            target=lambda: answers.append(http.get("/user/tokens/verify").status_code)
        )
        in_flight.start()
        while sb.store.journal_length() == 0 and in_flight.is_alive():  # the request came in
            time.sleep(0.005)
        started = time.monotonic()
        server.stop()
        stopped = time.monotonic() - started
        in_flight.join(10)
    assert answers == [200]  # answered, not cut by the stop
    assert stopped < 5, stopped  # not the thread's 10 s join timeout: woken, not ticked
    # the request's latency aside, only short polls (while the answer was on its way)
    assert sleeps.count(latency) == 1 and max(d for d in sleeps if d != latency) < 0.1, sleeps
    with pytest.raises(httpx.ConnectError), loopback_client() as http:
        http.get(f"{server.base_url}/user/tokens/verify")
