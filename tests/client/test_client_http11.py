"""The async client's own HTTP/1.1 transport (``cftokens.client._http11``) against scripted
loopback servers: keep-alive, stale connections, broken answers, timeouts, the pool's bound,
TLS verification and cancellation."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_fakes import USER_TOKEN

import cftokens as cft
from cftokens.client._base import tls_context
from cftokens.client._http11 import AsyncHTTP11Transport

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback server running ``handler`` per connection; counts the connections."""

    def __init__(self, handler: Handler):
        self.handler = handler
        self.connections = 0
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"


@asynccontextmanager
async def serving(
    handler: Handler, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Server]:
    server = Server(handler)
    listener = await asyncio.start_server(server._serve, "127.0.0.1", 0, ssl=ssl_context)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()


def answer(result: Any, *, close: bool = False, info: dict[str, Any] | None = None) -> bytes:
    body = json.dumps(
        {"success": True, "errors": [], "messages": [], "result": result, "result_info": info}
    ).encode()
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    if close:
        head += "connection: close\r\n"
    return head.encode() + b"\r\n" + body


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def keep_alive(result: Any = None, **kwargs: Any) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(answer(result if result is not None else {"id": "u"}, **kwargs))
            await writer.drain()
            if kwargs.get("close"):
                return

    return handler


def client(server: Server, **kwargs: Any) -> cft.AsyncClient:
    kwargs.setdefault("max_retries", 0)
    return cft.AsyncClient(token=USER_TOKEN, base_url=server.url, **kwargs)


async def test_the_default_async_client_sends_through_it_and_keeps_connections_alive() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            seen.append(await read_request(reader))
            writer.write(answer({"id": "u"}))
            await writer.drain()

    async with serving(handler) as server, client(server) as c:
        for _ in range(5):
            assert await c.request("GET", "/user") == {"id": "u"}
        assert isinstance(c._http._transport, AsyncHTTP11Transport)
    assert server.connections == 1
    assert len(seen) == 5
    assert seen[0].startswith(b"GET /client/v4/user HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer " + USER_TOKEN.encode() + b"\r\n" in seen[0]
    assert b"\r\nHost: 127.0.0.1:" in seen[0]


async def test_a_configured_proxy_keeps_httpx_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    async with cft.AsyncClient(token=USER_TOKEN) as c:
        assert not isinstance(c._http._transport, AsyncHTTP11Transport)
        assert c._http._mounts  # httpx mounted the proxy
    monkeypatch.delenv("HTTPS_PROXY")
    async with cft.AsyncClient(
        token=USER_TOKEN, transport=httpx.MockTransport(lambda r: httpx.Response(200))
    ) as c:
        assert isinstance(c._http._transport, httpx.MockTransport)  # the caller's, as given


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer({"id": "u"}))  # keep-alive announced, then closed
        await writer.drain()

    async with serving(handler) as server, client(server) as c:
        assert await c.request("GET", "/user") == {"id": "u"}
        await asyncio.sleep(0.05)  # the server's FIN arrives while the connection is idle
        assert await c.request("GET", "/user") == {"id": "u"}
    assert server.connections == 2


async def test_connection_close_and_expiry_open_a_new_connection() -> None:
    async with serving(keep_alive(close=True)) as server, client(server) as c:
        for _ in range(3):
            assert await c.request("GET", "/user") == {"id": "u"}
    assert server.connections == 3
    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=4, max_keepalive_connections=4,
        keepalive_expiry=0.01,
    )  # fmt: skip
    async with serving(keep_alive()) as server, httpx.AsyncClient(transport=transport) as http:
        for _ in range(2):
            assert (await http.get(server.url)).status_code == 200
            await asyncio.sleep(0.05)
    assert server.connections == 2


async def test_unsolicited_bytes_on_an_idle_connection_retire_it() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(answer({"id": "u"}) + b"HTTP/1.1 200 OK\r\n\r\n")  # one answer too many
            await writer.drain()

    async with serving(handler) as server, client(server) as c:
        assert await c.request("GET", "/user") == {"id": "u"}
        await asyncio.sleep(0.05)
        assert await c.request("GET", "/user") == {"id": "u"}
    assert server.connections == 2


@pytest.mark.parametrize(
    ("reply", "phrase"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "dropped before a full response"),
        (b"", "dropped before a full response"),
        (b'HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{"success": tr', "dropped"),
        (b"HTTP/1.1 200 OK\r\n" + b"x-big: " + b"a" * 200_000 + b"\r\n\r\n", "dropped"),
        (b"HTTP/1.1 102 Processing\r\n\r\n" * 1000, "interim"),
        (b"HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n", "dropped"),
    ],
    ids=["not-http", "closed-without-answer", "cut-off-body", "huge-head", "endless-1xx", "101"],
)
async def test_broken_answers_are_connect_errors_and_the_connection_is_dropped(
    reply: bytes, phrase: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()

    async with serving(handler) as server, client(server) as c:
        with pytest.raises(cft.ConnectError, match=phrase) as caught:
            await c.request("GET", "/user")
        assert USER_TOKEN not in str(caught.value)
        assert not c._http._transport._idle  # type: ignore[attr-defined]
        assert c._http._transport._active == 0  # type: ignore[attr-defined]


async def test_a_server_that_never_answers_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async with serving(handler) as server, client(server, timeout=0.1) as c:
        with pytest.raises(cft.RequestTimedOut, match="ReadTimeout"):
            await c.request("GET", "/user")


async def test_a_refused_connection_is_unsent() -> None:
    async with serving(keep_alive()) as server:
        url = server.url
    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=4, max_keepalive_connections=4
    )
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(url)
    async with cft.AsyncClient(token=USER_TOKEN, base_url=url, max_retries=0) as c:
        with pytest.raises(cft.ConnectError, match="could not be made"):
            await c.request("GET", "/user")


async def test_an_endless_body_stops_at_the_cap_and_closes_its_connection() -> None:
    sent = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = b"a" * 65536
        while sent < 50_000_000:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            await writer.drain()

    async with serving(handler) as server, client(server, max_response_bytes=1_000_000) as c:
        with pytest.raises(cft.UnexpectedResponse, match="max_response_bytes"):
            await c.request("GET", "/user")
        assert not c._http._transport._idle  # type: ignore[attr-defined]
    assert sent < 10_000_000


async def test_the_pool_bounds_requests_in_flight_and_times_out_waiting() -> None:
    in_flight = peak = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, peak
        while True:
            await read_request(reader)
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.02)  # longer than the pool timeout below
            in_flight -= 1
            writer.write(answer({"id": "u"}))
            await writer.drain()

    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=2, max_keepalive_connections=2
    )
    async with serving(handler) as server, httpx.AsyncClient(transport=transport) as http:
        answers = await asyncio.gather(*(http.get(server.url) for _ in range(8)))
        assert [a.status_code for a in answers] == [200] * 8
        assert peak == 2
        assert server.connections == 2
        with pytest.raises(httpx.PoolTimeout):
            await asyncio.gather(
                *(http.get(server.url, timeout=httpx.Timeout(5, pool=0.01)) for _ in range(3))
            )
        deadline = asyncio.get_running_loop().time() + 5  # the two sent finish in ~0.02 s
        while transport._active and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert transport._active == 0
        assert (await http.get(server.url)).status_code == 200


async def test_a_cancelled_request_frees_its_slot() -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            await release.wait()
            writer.write(answer({"id": "u"}))
            await writer.drain()

    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=1, max_keepalive_connections=1
    )
    async with serving(handler) as server, httpx.AsyncClient(transport=transport) as http:
        first = asyncio.ensure_future(http.get(server.url))
        queued = asyncio.ensure_future(http.get(server.url))
        await asyncio.sleep(0.05)
        first.cancel()
        queued.cancel()
        await asyncio.gather(first, queued, return_exceptions=True)
        assert transport._active == 0 and not transport._waiters
        release.set()
        assert (await http.get(server.url)).status_code == 200


def test_a_transport_serves_one_event_loop_after_another() -> None:
    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=2, max_keepalive_connections=2
    )

    async def once() -> int:
        async with serving(keep_alive()) as server:
            http = httpx.AsyncClient(transport=transport)
            return (await http.get(server.url)).status_code

    assert asyncio.run(once()) == 200
    assert asyncio.run(once()) == 200


async def test_tls_verification_fails_closed(tmp_path: Path) -> None:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    async with serving(keep_alive(), server_tls) as server:
        https = f"https://localhost:{server.port}/client/v4"
        # an untrusted (self-signed) certificate: refused, nothing sent
        async with cft.AsyncClient(token=USER_TOKEN, base_url=https, max_retries=0) as c:
            with pytest.raises(cft.ConnectError, match=r"could not be made.*CERTIFICATE_VERIFY"):
                await c.request("GET", "/user")
        assert server.connections == 0  # the handshake failed: no request reached it
        # trusted, but for another name: refused too (the hostname is checked)
        trusting = ssl.create_default_context(cafile=str(cert_file))
        transport = AsyncHTTP11Transport(
            ssl_context=trusting, max_connections=1, max_keepalive_connections=1
        )
        async with httpx.AsyncClient(transport=transport) as http:
            assert (await http.get(https)).status_code == 200
            with pytest.raises(httpx.ConnectError, match=r"match|mismatch"):
                await http.get(f"https://127.0.0.1:{server.port}/client/v4")


async def test_body_chunks_are_at_most_64_kib_as_httpcore_reads_them() -> None:
    """httpx decompresses each chunk the transport yields in one piece before the client's
    cap is checked: a gzip body inflates ~1000 times, so a chunk of everything buffered (up to
    ~512 KiB while the reader is busy) made a 500 MB spike where httpcore's 64 KiB reads make
    64 MB. The transport hands the body over in httpcore's read size."""
    body = b"a" * 1_000_000

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        await asyncio.sleep(1)

    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=1, max_keepalive_connections=1
    )
    sizes: list[int] = []
    async with (
        serving(handler) as server,
        httpx.AsyncClient(transport=transport) as http,
        http.stream("GET", server.url) as response,
    ):
        async for chunk in response.aiter_raw():
            sizes.append(len(chunk))
            await asyncio.sleep(0.005)  # a busy reader: the socket's bytes pile up
    assert sum(sizes) == len(body)
    assert max(sizes) <= 64 * 1024


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
async def test_a_server_that_drops_the_request_is_reported_as_httpcore_does(reset: bool) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if reset:  # RST instead of FIN
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=1, max_keepalive_connections=1
    )
    async with serving(handler) as server, httpx.AsyncClient(transport=transport) as http:
        if reset:
            with pytest.raises(httpx.ReadError):
                await http.get(server.url)
        else:
            message = "Server disconnected without sending a response."
            with pytest.raises(httpx.RemoteProtocolError, match=re.escape(message)):
                await http.get(server.url)
        assert transport._active == 0 and not transport._idle


@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", b"200 OK"), ("GET", b"204 No Content"), ("GET", b"304 Not Modified")],
)
async def test_a_body_sent_where_none_may_be_is_not_read_as_the_next_answer(
    method: str, status: bytes
) -> None:
    """A HEAD, 204 or 304 answer has no body: bytes a server sends after one would be read
    as the next request's answer on that connection (httpcore's pool does so). Here they
    retire the connection, and each request gets its own answer."""
    count = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        while True:
            await read_request(reader)
            count += 1
            forged = b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged"
            writer.write(b"HTTP/1.1 %s\r\ncontent-length: %d\r\n\r\n" % (status, len(forged)))
            writer.write(forged)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nreal%d" % (count % 10))
            await writer.drain()

    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=1, max_keepalive_connections=1
    )
    async with serving(handler) as server, httpx.AsyncClient(transport=transport) as http:
        first = await http.request(method, server.url)
        await asyncio.sleep(0.05)
        second = await http.request(method, server.url)
    assert first.content == second.content == b""
    assert server.connections == 2


async def test_a_close_delimited_body_cut_by_a_reset_is_an_error_not_its_end() -> None:
    """An HTTP/1.0 body ends when the server closes: a reset (or a TLS alert) is not that
    close, and the bytes before it are not the whole body (httpcore: ReadError too)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b'HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{"partial": tr')
        await writer.drain()
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    transport = AsyncHTTP11Transport(
        ssl_context=tls_context(), max_connections=1, max_keepalive_connections=1
    )
    async with serving(handler) as server, httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx.ReadError):
            await http.get(server.url)
