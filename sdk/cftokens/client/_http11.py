"""The async client's own HTTP/1.1 transport: keep-alive connections on asyncio, h11 for HTTP.

:class:`AsyncHTTP11Transport` is what :class:`~cftokens.AsyncClient` sends through when it is
given no transport and no proxy is configured (an ``HTTP(S)_PROXY``/``ALL_PROXY`` variable
keeps httpx's own transport, which honours it). It is an ``httpx.AsyncBaseTransport``, so
httpx still builds every request and reads every response; only the sockets differ.

Why: a concurrent listing is bound by the client's CPU. httpx's default async transport
(httpcore on anyio) spent about 2 ms of CPU per request of a listing with 16 requests in
flight: its pool scans every connection (and polls each idle socket) each time a request
starts or ends, and each read and write opens an anyio cancel scope. Here each connection is
an ``asyncio.Protocol`` that buffers what the socket delivers, a request takes the most
recently used idle connection (or opens one), and h11 parses the answer as httpcore's HTTP/1.1
does: the same protocol checks on what an untrusted server sends. Measured with
``bench/bench_client.py``.

Behaviour kept from httpcore: at most ``max_connections`` requests in flight (others wait up
to the ``pool`` timeout, then ``httpx.PoolTimeout``); ``connect``/``read``/``write`` timeouts
raise ``httpx.ConnectTimeout``/``ReadTimeout``/``WriteTimeout``; a refused or failed
connection (TLS verification included) raises ``httpx.ConnectError`` (nothing was sent);
a server that closes or breaks the protocol raises ``httpx.RemoteProtocolError``,
``ReadError`` or ``WriteError``. An idle connection is reused only if the server has neither
closed it nor sent anything on it, and for at most ``keepalive_expiry`` seconds; a response
body not read to its end closes its connection. Bodies are streamed, in chunks of at most
64 KiB as httpcore reads them (httpx inflates a compressed chunk whole before the client's cap
is checked): the client stops reading at its own cap.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, NoReturn

import h11
import httpx

__all__ = ["AsyncHTTP11Transport", "env_proxies"]

#: The largest response head (status line and headers) read, as httpcore's.
MAX_HEAD_BYTES = 100 * 1024
#: The most interim (1xx) answers read before the response (a server sending them for ever
#: would hold a request for ever, however short the read timeout).
MAX_INTERIM = 16
#: Bytes buffered from a socket before its reading pauses (a body is read chunk by chunk).
READ_HIGH_WATER = 256 * 1024
#: The most bytes one read hands to h11, as httpcore's reads: a body chunk is at most this
#: long, and httpx inflates each chunk whole (a gzip chunk ~1000 times) before the client
#: checks its cap.
READ_CHUNK = 64 * 1024


def env_proxies() -> bool:
    """True when the environment names an HTTP(S) proxy (httpx honours it; this transport
    does not, so the client keeps httpx's transport then)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(key) for key in ("http", "https", "all"))


class _Connection(asyncio.Protocol):
    """One keep-alive connection: the socket's bytes buffered until HTTP asks for them."""

    def __init__(self, origin: tuple[bytes, bytes, int]) -> None:
        self.origin = origin
        self.http = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0
        self._inbox = bytearray()
        self._eof = False
        self._lost = False
        self._error: Exception | None = None  # why the connection was lost (a reset...)
        self._reading_paused = False
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._inbox += data
        if len(self._inbox) > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._error = exc
        self._eof = True
        self._wake_reader()
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("the connection was closed"))

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_reader(self) -> None:
        waiter, self._readable = self._readable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- used by the transport -------------------------------------------------------------
    def stale(self, now: float, expiry: float | None) -> bool:
        """True when this idle connection must not carry another request: the server closed
        it or sent something unasked, or it sat idle past ``expiry`` seconds."""
        return (
            self._eof
            or self._lost
            or bool(self._inbox)
            or bool(self.http.trailing_data[0])  # bytes that came after the last answer
            or self.transport is None
            or self.transport.is_closing()
            or (expiry is not None and now - self.idle_since > expiry)
        )

    async def write(self, data: bytes, timeout: float | None) -> None:
        if self._lost or self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("the connection was closed")
        self.transport.write(data)
        if self._writable is not None:
            async with asyncio.timeout(timeout):
                await self._writable

    async def read(self, timeout: float | None) -> bytes:
        """Up to ``READ_CHUNK`` bytes the socket delivered (b"" once the server closed it;
        the error, such as a reset, that broke it)."""
        if not self._inbox and not self._eof:
            self._readable = asyncio.get_running_loop().create_future()
            async with asyncio.timeout(timeout):
                await self._readable
        error = self._error
        if not self._inbox and error is not None:
            raise error if isinstance(error, OSError) else ConnectionError(repr(error))
        data = bytes(self._inbox[:READ_CHUNK])
        del self._inbox[:READ_CHUNK]
        if (
            self._reading_paused
            and len(self._inbox) <= READ_HIGH_WATER
            and self.transport is not None
        ):
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    def close(self) -> None:
        if self.transport is not None and not self._lost:
            self.transport.close()
        self._lost = True


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection as the reader asks; the connection goes back
    to the pool when the body ended cleanly, and is closed otherwise."""

    def __init__(
        self,
        transport: AsyncHTTP11Transport,
        connection: _Connection,
        request: httpx.Request,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._connection = connection
        self._request = request
        self._timeout = timeout
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._done:
            return
        connection = self._connection
        try:
            while True:
                event = await _next_event(connection, self._request, self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self._release(reuse=True)
                    return
                else:  # ConnectionClosed before the end: h11 raises for a cut-off body
                    _raise_remote(self._request, "the server closed the connection mid-body")
        except BaseException:
            self._release(reuse=False)
            raise

    async def aclose(self) -> None:
        self._release(reuse=False)

    def _release(self, *, reuse: bool) -> None:
        if not self._done:
            self._done = True
            self._transport._release(self._connection, reuse=reuse)


class AsyncHTTP11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio with a keep-alive pool (see the module docstring).

    ``ssl_context`` verifies ``https`` servers (``tls_context()``: httpx's defaults);
    ``max_connections`` bounds the requests in flight, ``max_keepalive_connections`` the idle
    connections kept, ``keepalive_expiry`` how long (seconds) one is kept idle.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int,
        max_keepalive_connections: int,
        keepalive_expiry: float | None = 5.0,
    ) -> None:
        self._ssl = ssl_context
        self._max = max_connections
        self._max_idle = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._idle: deque[_Connection] = deque()
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # -- the pool --------------------------------------------------------------------------
    def _bind(self) -> None:
        """Connections belong to one event loop: a client used again under a new loop (a
        second ``asyncio.run``) starts with a fresh pool."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            old = self._loop
            for connection in self._idle:
                if old is not None and not old.is_closed():
                    connection.close()
            self._idle.clear()
            self._waiters.clear()
            self._active = 0
            self._loop = loop

    async def _acquire(self, timeout: float | None, request: httpx.Request) -> None:
        if self._active < self._max and not self._waiters:
            self._active += 1
            return
        assert self._loop is not None
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter  # the releaser counted this request as active
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._free_slot()  # granted, but this request stops here
            else:
                waiter.cancel()
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise httpx.PoolTimeout(
                    "no connection became free within the pool timeout", request=request
                ) from None
            raise

    def _free_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes to it (self._active unchanged)
                return
        self._active = max(0, self._active - 1)

    def _release(self, connection: _Connection, *, reuse: bool) -> None:
        http = connection.http
        if (
            reuse
            and not self._closed
            and http.our_state is h11.DONE
            and http.their_state is h11.DONE
            and len(self._idle) < self._max_idle
        ):
            http.start_next_cycle()
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        self._free_slot()

    def _take_idle(self, origin: tuple[bytes, bytes, int]) -> _Connection | None:
        now = time.monotonic()
        keep: list[_Connection] = []
        found = None
        while self._idle:
            connection = self._idle.pop()  # the most recently used first
            if connection.stale(now, self._expiry):
                connection.close()
            elif connection.origin == origin:
                found = connection
                break
            else:
                keep.append(connection)
        self._idle.extend(reversed(keep))
        return found

    async def _connect(
        self, origin: tuple[bytes, bytes, int], timeout: float | None, request: httpx.Request
    ) -> _Connection:
        scheme, host, port = origin
        name = host.decode("ascii")
        loop = asyncio.get_running_loop()
        tls = scheme == b"https"
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(origin),
                    name,
                    port,
                    ssl=self._ssl if tls else None,
                    server_hostname=name if tls else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"connecting to {name}:{port} timed out", request=request
            ) from None
        except OSError as exc:  # refused, unreachable, DNS, TLS verification (ssl.SSLError)
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from None
        return connection

    # -- httpx.AsyncBaseTransport ----------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the transport is closed", request=request)
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"the URL has an unsupported protocol {url.scheme!r}", request=request
            )
        self._bind()
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
        await self._acquire(timeouts.get("pool"), request)
        connection: _Connection | None = None
        try:
            connection = self._take_idle(origin) or await self._connect(
                origin, timeouts.get("connect"), request
            )
            return await self._exchange(connection, request, timeouts)
        except BaseException:
            if connection is not None:
                connection.close()
            self._free_slot()
            raise

    async def _exchange(
        self,
        connection: _Connection,
        request: httpx.Request,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        http = connection.http
        write_timeout = timeouts.get("write")
        read_timeout = timeouts.get("read")
        try:
            head = http.send(
                h11.Request(
                    method=request.method, target=request.url.raw_path, headers=request.headers.raw
                )
            )
            assert head is not None
            async for chunk in request.stream:  # type: ignore[union-attr]
                head += http.send(h11.Data(data=chunk)) or b""
                if len(head) > 65536:
                    await connection.write(head, write_timeout)
                    head = b""
            head += http.send(h11.EndOfMessage()) or b""
            await connection.write(head, write_timeout)
        except TimeoutError:
            raise httpx.WriteTimeout("writing the request timed out", request=request) from None
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from None
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from None
        for _ in range(MAX_INTERIM):
            event = await _next_event(connection, request, read_timeout)
            if isinstance(event, h11.Response):
                break
            if isinstance(event, h11.ConnectionClosed):
                _raise_remote(request, "Server disconnected without sending a response.")
            if not isinstance(event, h11.InformationalResponse):  # e.g. a protocol switch
                _raise_remote(request, f"unexpected {type(event).__name__} instead of a response")
            # a 1xx: the real answer follows
        else:
            _raise_remote(request, f"more than {MAX_INTERIM} interim (1xx) answers, no response")
        return httpx.Response(
            event.status_code,
            headers=event.headers.raw_items(),
            stream=_Body(self, connection, request, read_timeout),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": bytes(event.reason)},
        )

    def close_idle(self) -> None:
        """Close the pooled connections waiting for a request (their event loop is about to
        end: under the next loop the pool starts afresh, see ``_bind``)."""
        while self._idle:
            self._idle.pop().close()

    async def aclose(self) -> None:
        self._closed = True
        self.close_idle()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()


async def _next_event(
    connection: _Connection, request: httpx.Request, timeout: float | None
) -> Any:
    """h11's next event of the answer, reading from the socket as it needs."""
    http = connection.http
    try:
        while True:
            event = http.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await connection.read(timeout)
            if not data and http.their_state is h11.SEND_RESPONSE:
                _raise_remote(request, "Server disconnected without sending a response.")
            http.receive_data(data)
    except TimeoutError:
        raise httpx.ReadTimeout("reading the response timed out", request=request) from None
    except h11.RemoteProtocolError as exc:
        _raise_remote(request, str(exc))
    except OSError as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from None


def _raise_remote(request: httpx.Request, message: str) -> NoReturn:
    raise httpx.RemoteProtocolError(message, request=request) from None
