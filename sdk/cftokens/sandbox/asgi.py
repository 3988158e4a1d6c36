"""The HTTP face: a Starlette ASGI app around the engine (served by uvicorn).

The whole API is one catch-all route: the engine does the routing (with the operations
catalogue), so the app stays thin. Handlers run directly on the event loop (they are fast,
in-memory SQLite work): no threadpool hop. The client IP is the peer address. Injected latency
is an ``asyncio.sleep``; a dropped connection sends the response start and then aborts, which
closes the connection without a complete answer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..errors import require_extra
from .context import Request
from .validate import MAX_BODY_BYTES

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .engine import Engine

__all__ = ["DroppedConnection", "create_app"]


class DroppedConnection(Exception):
    """Raised inside the ASGI app to make the server drop the connection (fault injection)."""


class _Endpoint:
    """The raw ASGI endpoint (an object, so Starlette passes scope/receive/send through)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Keep at most one byte more than the limit (enough for the engine's 413), draining
        # the rest: an oversized body never sits in memory.
        cap = MAX_BODY_BYTES + 1
        chunks: list[bytes] = []
        kept = 0
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            if kept < cap:
                chunks.append(chunk[: cap - kept])
                kept += len(chunks[-1])
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        request = Request(
            scope["method"],
            scope["path"],
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(chunks),
            ip=client[0] if client else "127.0.0.1",
        )
        answer = self.engine.handle(request)
        if answer.latency:
            await asyncio.sleep(answer.latency)
        if answer.drop:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise DroppedConnection("fault injection: connection dropped")
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        raw_headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": answer.body})


def create_app(engine: Engine) -> Starlette:
    """A Starlette app serving ``engine`` under ``/client/v4``."""
    require_extra("server", "the sandbox's ASGI app", "starlette")
    from starlette.applications import Starlette
    from starlette.routing import Route

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", _Endpoint(engine), methods=methods)])
    app.state.engine = engine
    return app
