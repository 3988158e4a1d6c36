"""The HTTP face: a plain ASGI app around the engine (served by uvicorn).

The engine does all the routing (with the operations catalogue), so the app stays thin and
answers everything itself: every method (TRACE gets a 405 envelope, HEAD answers as GET
without a body), every path (``/zones/a%0Ab`` too: the engine routes on the raw,
percent-encoded path, never the decoded one). Handlers run directly on the event loop (they
are fast SQLite work): no threadpool hop.

The client IP is the TCP peer's address (uvicorn's own proxy-header handling is off: it would
trust ``X-Forwarded-For`` from any loopback client, so anyone on the machine could claim any
address and pass any IP condition). ``X-Forwarded-For`` counts only when the trainer serves
behind a proxy and names it (``trusted_proxies``, ``--trusted-proxy CIDR``), and only on
requests whose peer is one of those proxies: the client is then the right-most address of
the header that is not itself a trusted proxy.

Injected latency is an ``asyncio.sleep``; a dropped connection sends the response start and
then aborts, which closes the connection without a complete answer. A failure outside the
engine still answers a JSON 500 with a ``cf-ray`` id, logged with that id on the
``cftokens.sandbox`` logger.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, TypeAlias
from urllib.parse import quote

from ..errors import InvalidInput, redact_uri
from .context import Request, header_map
from .engine import Engine
from .validate import MAX_BODY_BYTES

# The ASGI interface, as Starlette spells it (messages are dicts of the ASGI specification).
Scope: TypeAlias = "MutableMapping[str, Any]"
Message: TypeAlias = "MutableMapping[str, Any]"
Receive: TypeAlias = "Callable[[], Awaitable[Message]]"
Send: TypeAlias = "Callable[[Message], Awaitable[None]]"

__all__ = ["DroppedConnection", "SandboxApp", "create_app", "parse_proxies"]

log = logging.getLogger("cftokens.sandbox")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class DroppedConnection(Exception):
    """Raised inside the ASGI app to make the server drop the connection (fault injection)."""


_FAILURE = json.dumps(
    {
        "success": False,
        "errors": [{"code": 10001, "message": "Internal Server Error (sandbox)"}],
        "messages": [],
        "result": None,
    },
    separators=(",", ":"),
).encode()


def parse_proxies(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Trusted proxy addresses or CIDRs (``InvalidInput`` naming a bad one)."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise InvalidInput(
                f"trusted proxy {value!r} is not an IP address or CIDR; give the address of "
                "the proxy in front of the sandbox, e.g. 10.0.0.5 or 10.0.0.0/24"
            ) from None
    return tuple(networks)


class SandboxApp:
    """The ASGI application serving an engine under ``/client/v4`` (``engine`` attribute).

    ``trusted_proxies``: addresses/CIDRs of reverse proxies whose ``X-Forwarded-For`` is
    believed (none by default: the client is the TCP peer)."""

    def __init__(self, engine: Engine, *, trusted_proxies: Iterable[str] = ()):
        self.engine = engine
        self.trusted_proxies = parse_proxies(trusted_proxies)

    def client_ip(self, peer: str, forwarded: str | None) -> str:
        """The address the sandbox sees: the peer, or behind a trusted proxy the right-most
        ``X-Forwarded-For`` entry that is not a trusted proxy."""
        if not self.trusted_proxies or forwarded is None or not self._trusted(peer):
            return peer
        for item in reversed([part.strip() for part in forwarded.split(",")]):
            try:
                address = ipaddress.ip_address(item)
            except ValueError:
                return peer  # a garbled header: keep the address we know
            if not any(address in network for network in self.trusted_proxies):
                return str(address)
        return peer

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # pragma: no cover - served with lifespan="off"
            while True:
                kind = (await receive())["type"]
                if kind == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif kind == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":  # websockets: refuse the handshake
            await send({"type": "websocket.close", "code": 1003})
            return
        try:
            await self._http(scope, receive, send)
        except DroppedConnection:
            raise
        except Exception:
            ray = secrets.token_hex(8) + "-SBX"  # the engine's own 500s carry one too
            log.exception(
                "sandbox: unexpected error serving %s %s (answered 500, cf-ray %s)",
                scope.get("method"),
                redact_uri(str(scope.get("path"))),
                ray,
            )
            headers = [(b"content-type", b"application/json"), (b"cf-ray", ray.encode())]
            await _send(send, 500, headers, _FAILURE, True)

    async def _http(self, scope: Any, receive: Any, send: Any) -> None:
        # Keep at most one byte more than the limit (enough for the engine's 413), counting
        # and draining the rest: an oversized body never sits in memory, and the 413 still
        # reports its real size.
        cap = MAX_BODY_BYTES + 1
        chunks: list[bytes] = []
        kept = size = 0
        more = True
        while more:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if kept < cap:
                chunks.append(chunk[: cap - kept])
                kept += len(chunks[-1])
            more = message.get("more_body", False)
        raw = scope.get("raw_path")
        if raw:
            path = bytes(raw).split(b"?", 1)[0].decode("latin-1")
        else:
            path = quote(scope["path"], safe="/%!$&'()*+,;=:@~")
        headers = header_map(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
        )
        peer = scope["client"][0] if scope.get("client") else "127.0.0.1"
        request = Request(
            scope["method"],
            path,
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(chunks),
            ip=self.client_ip(peer, headers.get("x-forwarded-for")),
            size=size,
        )
        answer = self.engine.handle(request)
        if answer.latency:
            import asyncio  # only injected latency needs it; importing the sandbox stays fast

            await asyncio.sleep(answer.latency)
        if answer.drop:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise DroppedConnection("fault injection: connection dropped")
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        await _send(send, answer.status, raw_headers, answer.body, request.method != "HEAD")


async def _send(
    send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes, with_body: bool
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body if with_body else b""})


def create_app(engine: Engine, *, trusted_proxies: Iterable[str] = ()) -> SandboxApp:
    """The ASGI app serving ``engine`` under ``/client/v4``."""
    return SandboxApp(engine, trusted_proxies=trusted_proxies)
