"""The overall deadline of one request attempt (``deadline=``): a loopback server that drips
its answer one byte at a time, each well within the read timeout, cannot hold a request (or
``cftokens audit``, a CI gate) longer than the deadline, with the sync and the async client
and every transport the clients send through (the async client's own HTTP/1.1 one and
httpx's, directly or through a proxy from the environment). The httpx transports the tests
make share the clients' TLS context (``tls_context``): loading the CA bundle for each cost
tens of milliseconds, and no test here speaks TLS."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from client_fakes import USER_TOKEN

import cftokens as cft
from cftokens.client import Retry
from cftokens.client._base import tls_context
from cftokens.client._deadline_backend import DeadlineBackend

#: The deadline the tests give (the read timeout is 1 s, each dripped byte comes in 20 ms: the
#: deadline passes after a few bytes, each well within the read timeout).
DEADLINE = 0.1
#: How the errors name it.
NAMED = f"deadline of {DEADLINE:g} s"
#: How long the dripping server keeps going before it gives up and closes: what a request
#: would take without a deadline (the tests check it ended long before; their bounds leave
#: room for a loaded machine).
DRIP_FOR = 5.0

VERIFIED = (
    b'{"success":true,"errors":[],"messages":[],"result":{"id":"'
    + b"a" * 32
    + (b'","status":"active"}}')
)
#: Headers dripped: the status line and a header that never ends before DRIP_FOR.
SLOW_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-drip: " + b"a" * 10_000
#: Headers at once, then a body dripped (padded JSON: the body is valid once it is whole).
SLOW_BODY = (
    (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        % (len(VERIFIED) + 10_000)
    )
    + VERIFIED
    + b" " * 10_000
)


class Dripper:
    """A loopback server answering every connection with ``answer``: the first ``at_once``
    bytes at once, then one byte every 20 ms, for at most ``drip_for`` seconds."""

    def __init__(self, answer: bytes, at_once: int = 0, drip_for: float = DRIP_FOR) -> None:
        self.answer = answer
        self.at_once = at_once
        self.drip_for = drip_for
        self.connections = 0
        #: Seconds each connection was held after its request came in (until the client hung
        #: up, or the drip ended).
        self.held: list[float] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._released = threading.Condition()
        self._done = 0  # connections let go
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            with conn:
                self._answer(conn)
        except OSError:
            pass
        finally:
            with self._released:
                self._done += 1
                self._released.notify_all()

    def _answer(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(65536)
            if not chunk:
                return
            request += chunk
        started = time.monotonic()
        try:
            conn.sendall(self.answer[: self.at_once])
            for index in range(self.at_once, len(self.answer)):
                if self._stop.is_set() or time.monotonic() > started + self.drip_for:
                    return
                conn.sendall(self.answer[index : index + 1])
                time.sleep(0.02)
        except OSError:
            return  # the client hung up: what the deadline does
        finally:
            self.held.append(time.monotonic() - started)

    def released(self) -> list[float]:
        """:attr:`held`, once every connection was let go: its thread notices a client's
        hang-up at its next byte, which may come after the client has returned (on a loaded
        machine, well after). Waits at most a little more than the drip's length (a connection
        no client hung up on is let go then, held as long)."""
        with self._released:
            self._released.wait_for(lambda: self._done >= self.connections, self.drip_for + 5)
            return list(self.held)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


@contextmanager
def dripping(answer: bytes, at_once: int = 0, drip_for: float = DRIP_FOR) -> Iterator[Dripper]:
    server = Dripper(answer, at_once, drip_for)
    try:
        yield server
    finally:
        server.close()


def options(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("max_retries", 0)
    return {"token": USER_TOKEN, "timeout": 1.0, "deadline": DEADLINE, "rate_limit": None} | kwargs


def check_deadline_error(exc: cft.RequestTimedOut, started: float) -> None:
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"the attempt ran {elapsed:.2f} s, past its {DEADLINE} s deadline"
    message = str(exc)
    assert NAMED in message and "Raise deadline=" in message, message
    assert USER_TOKEN not in message and USER_TOKEN not in repr(exc)


SLOW = [pytest.param(SLOW_HEAD, 0, id="headers"), pytest.param(SLOW_BODY, 80, id="body")]


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def via_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """``HTTP_PROXY`` names the dripping server set by the test (httpx's proxy transport)."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("answer", "at_once"), SLOW)
def test_the_sync_client_stops_a_dripping_answer_at_its_deadline(
    answer: bytes, at_once: int, no_proxy: None
) -> None:
    with dripping(answer, at_once) as server, cft.Client(**options(base_url=server.url)) as c:
        started = time.monotonic()
        with pytest.raises(cft.RequestTimedOut) as caught:
            c.tokens.verify()
    check_deadline_error(caught.value, started)


def test_the_sync_client_stops_a_dripping_answer_through_an_httpx_transport_of_yours(
    no_proxy: None,
) -> None:
    """An ``httpx.HTTPTransport`` of the caller's (for its retries, local address or TLS
    settings) is httpx's own pool too: its sockets are bounded as the client's own are, not
    only between body chunks (dripped headers held the attempt for the whole drip)."""
    transport = httpx.HTTPTransport(retries=1, verify=tls_context())
    with (
        dripping(SLOW_HEAD) as server,
        cft.Client(**options(base_url=server.url, transport=transport)) as c,
    ):
        started = time.monotonic()
        with pytest.raises(cft.RequestTimedOut) as caught:
            c.tokens.verify()
    check_deadline_error(caught.value, started)


def test_the_sync_client_stops_a_dripping_proxy_at_its_deadline(
    via_proxy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dripping(SLOW_HEAD) as server:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
        # requests go to the (loopback) proxy, which drips: nothing reaches the network
        with cft.Client(**options(base_url="http://api.example.invalid/client/v4")) as c:
            started = time.monotonic()
            with pytest.raises(cft.RequestTimedOut) as caught:
                c.tokens.verify()
    check_deadline_error(caught.value, started)
    assert server.connections == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("answer", "at_once"), SLOW)
@pytest.mark.parametrize("transport", ["own", "httpx"])
async def test_the_async_client_stops_a_dripping_answer_at_its_deadline(
    answer: bytes, at_once: int, transport: str, no_proxy: None
) -> None:
    extra: dict[str, Any] = {}
    if transport == "httpx":
        extra["transport"] = httpx.AsyncHTTPTransport(verify=tls_context())
    with dripping(answer, at_once) as server:
        async with cft.AsyncClient(**options(base_url=server.url, **extra)) as c:
            started = time.monotonic()
            with pytest.raises(cft.RequestTimedOut) as caught:
                await c.tokens.verify()
    check_deadline_error(caught.value, started)


@pytest.mark.anyio
async def test_the_async_client_stops_a_dripping_proxy_at_its_deadline(
    via_proxy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dripping(SLOW_HEAD) as server:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
        async with cft.AsyncClient(**options(base_url="http://api.example.invalid/client/v4")) as c:
            started = time.monotonic()
            with pytest.raises(cft.RequestTimedOut) as caught:
                await c.tokens.verify()
    check_deadline_error(caught.value, started)
    assert server.connections == 1


def test_a_missed_deadline_is_retried_like_a_timeout(no_proxy: None) -> None:
    retry = Retry(total=1, backoff=0.01)
    with (
        dripping(SLOW_HEAD) as server,
        cft.Client(**options(base_url=server.url, max_retries=retry)) as c,
    ):
        started = time.monotonic()
        with pytest.raises(cft.RequestTimedOut) as caught:
            c.tokens.verify()
        assert time.monotonic() - started < 2.5
    assert server.connections == 2  # the first attempt and one retry, each cut at DEADLINE
    assert NAMED in str(caught.value)


@pytest.mark.anyio
async def test_an_async_create_past_its_deadline_is_not_repeated(no_proxy: None) -> None:
    """A create cut by the deadline may have reached the server: not retried, MaybeCreated."""
    spec = cft.TokenSpec(name="ci", policies=[cft.Policy.allow(["DNS Read"], zones=["f" * 32])])
    with dripping(SLOW_HEAD) as server:
        async with cft.AsyncClient(**options(base_url=server.url, max_retries=3)) as c:
            with pytest.raises(cft.MaybeCreated) as caught:
                await c.tokens.create(spec)
    assert server.connections == 1
    assert USER_TOKEN not in str(caught.value)


@pytest.mark.parametrize("transport", ["own", "httpx"])
def test_a_sync_create_past_its_deadline_is_not_repeated(transport: str, no_proxy: None) -> None:
    """The sync client's deadline fires inside httpx's pool as a read timeout once the request
    is written: the create may have reached the server, so it is not retried (MaybeCreated),
    with the client's own transport and with an httpx.HTTPTransport of the caller's."""
    spec = cft.TokenSpec(name="ci", policies=[cft.Policy.allow(["DNS Read"], zones=["f" * 32])])
    extra: dict[str, Any] = {}
    if transport == "httpx":
        extra["transport"] = httpx.HTTPTransport(verify=tls_context())
    with (
        dripping(SLOW_HEAD) as server,
        cft.Client(**options(base_url=server.url, max_retries=3, **extra)) as c,
    ):
        started = time.monotonic()
        with pytest.raises(cft.MaybeCreated) as caught:
            c.tokens.create(spec)
        assert time.monotonic() - started < 2.5
    assert server.connections == 1
    assert USER_TOKEN not in str(caught.value)


def test_the_cli_audit_gate_fails_closed_on_a_dripping_api(
    no_proxy: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cftokens audit` (a CI gate) against an API that drips: exit 3 (incomplete) in well
    under a second with a short deadline, not a pass and not a hang."""
    # imported now, not while the audit's requests are in flight
    import pandas  # noqa: F401

    import cftokens.audit  # noqa: F401
    import cftokens.client as client_module
    from cftokens.cli import main

    class Short(cft.AsyncClient):
        """The CLI's client, with the tests' short deadline (the CLI uses the default)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs, deadline=DEADLINE, max_retries=0, timeout=1.0)

    monkeypatch.setattr(client_module, "AsyncClient", Short)
    with dripping(SLOW_HEAD, drip_for=4 * DRIP_FOR) as server:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", USER_TOKEN)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", server.url)
        started = time.monotonic()
        code = main(["audit", "--no-progress", "--fail-on", "critical"])
        elapsed = time.monotonic() - started
        held = server.released()
    out, err = capsys.readouterr()
    assert code == 3, (out, err)
    # every request the audit sent was cut at its deadline, long before the server's drip
    # ended (what a loaded machine adds to DEADLINE, the audit's own work aside, stays far below)
    assert held and max(held) < DRIP_FOR, (held, server.connections, out, err)
    assert elapsed < 2 * DRIP_FOR
    assert NAMED in out + err
    assert USER_TOKEN not in out + err


def test_the_default_deadline_is_derived_from_the_timeouts() -> None:
    assert cft.Client(token=USER_TOKEN).deadline == 120.0  # 4 x the default 30 s
    assert cft.Client(token=USER_TOKEN, timeout=5).deadline == 20.0
    split = httpx.Timeout(connect=2, read=10, write=3, pool=1)
    assert cft.AsyncClient(token=USER_TOKEN, timeout=split).deadline == 16.0
    assert cft.Client(token=USER_TOKEN, timeout=None).deadline is None
    assert cft.Client(token=USER_TOKEN, timeout=httpx.Timeout(5, read=None)).deadline is None
    assert cft.Client(token=USER_TOKEN, timeout=None, deadline=60).deadline == 60.0
    assert cft.AsyncClient(token=USER_TOKEN, deadline=None).deadline is None


def test_an_httpx_timeout_renamed_by_the_official_sdk_is_still_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Importing the official ``cloudflare`` SDK sets ``httpx.Timeout.__module__`` to
    "cloudflare" (it re-exports the class): an httpx.Timeout is accepted all the same, in a
    process that uses both SDKs (it was refused as "not an httpx.Timeout")."""
    monkeypatch.setattr(httpx.Timeout, "__module__", "cloudflare")
    split = httpx.Timeout(connect=2, read=10, write=3, pool=1)
    assert cft.Client(token=USER_TOKEN, timeout=split).deadline == 16.0
    assert cft.AsyncClient(token=USER_TOKEN, timeout=split).deadline == 16.0


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "soon", [1], USER_TOKEN])
def test_a_bad_deadline_is_refused_without_echoing_a_secret(bad: object) -> None:
    with pytest.raises(cft.InvalidInput, match="deadline must be a number of seconds") as caught:
        cft.Client(token=USER_TOKEN, deadline=bad)  # type: ignore[arg-type]
    assert USER_TOKEN not in str(caught.value)


def test_the_sync_clients_own_transport_is_guarded(
    via_proxy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync client's bound lives in httpx's pools (its default one and a proxy's): an
    httpx upgrade that moves them fails here rather than leaving the deadline unenforced."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with cft.Client(token=USER_TOKEN) as c:
        http = c._http
        pools = [http._transport, *(t for t in http._mounts.values() if t is not None)]
        assert len(pools) == 2
        for transport in pools:
            assert isinstance(transport, httpx.HTTPTransport)
            assert isinstance(transport._pool._network_backend, DeadlineBackend)
