"""The sync client's deadline inside httpx's transport (imported with the first request).

A blocking socket read cannot be cancelled from outside, so the sync
:class:`~cftokens.Client` bounds its attempts from inside httpx's own transport: its
connection pool gets a network backend whose every operation (connect, TLS handshake, read,
write) waits at most what is left of the attempt being sent (``_deadline.current()``), and
fails as that operation's httpcore timeout once nothing is left (httpx raises it as
``ConnectTimeout``/``ReadTimeout``/``WriteTimeout``). Outside an attempt (or without a
deadline) it behaves exactly as the backend it wraps.

Not bounded by the deadline: the DNS lookup inside ``connect_tcp`` (``socket.create_connection``
calls a blocking ``getaddrinfo`` before the connect its timeout bounds; only a thread could
abandon it), and httpcore's wait for a free pooled connection (bounded by the request's own
pool timeout, ``timeout=``'s ``pool``). The async client bounds both (its deadline is an
``asyncio`` timeout around the whole attempt).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ._deadline import current

__all__ = ["DeadlineBackend", "guard"]


def _timeout(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current attempt; ``error`` once nothing
    is left."""
    attempt = current().get()
    if attempt is None:
        return timeout
    try:
        return attempt.clamp(timeout)
    except TimeoutError as exc:
        raise error(str(exc)) from None


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose operations end by the current attempt's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            self._stream.start_tls(
                ssl_context, server_hostname, _timeout(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, its connections bounded by the current attempt."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            self._backend.connect_tcp(
                host,
                port,
                _timeout(timeout, httpcore.ConnectTimeout),
                local_address,
                socket_options,
            )
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            self._backend.connect_unix_socket(
                path, _timeout(timeout, httpcore.ConnectTimeout), socket_options
            )
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def guard(http: httpx.Client) -> int:
    """Bound the connections of ``http``'s httpx transports (its default one or the caller's
    ``httpx.HTTPTransport``, and those of the proxies it mounts from the environment) by the
    current attempt's deadline; return how many pools were guarded (0 for another kind of
    transport, which is left as it is). Outside an attempt a guarded pool behaves as before,
    so a transport the caller shares with other clients is unchanged for them."""
    guarded = 0
    transports = [http._transport, *http._mounts.values()]
    for transport in transports:
        if not isinstance(transport, httpx.HTTPTransport):
            continue
        pool = transport._pool
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(
            backend, DeadlineBackend
        ):
            pool._network_backend = DeadlineBackend(backend)
            guarded += 1
    return guarded
