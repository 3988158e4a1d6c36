"""The in-process face: an ``httpx.MockTransport`` that hands requests to the engine.

One transport object serves both ``httpx.Client`` and ``httpx.AsyncClient``. Injected latency
sleeps (``time.sleep`` / ``anyio.sleep``), dropped connections raise
``httpx.RemoteProtocolError`` as a real server closing the connection would.
"""

from __future__ import annotations

import time

import httpx

from .context import Request, Response, header_map
from .engine import Engine

__all__ = ["SandboxTransport"]


def _request(request: httpx.Request, ip: str) -> Request:
    # The path as sent (``raw_path`` without its query), never percent-decoded: the sandbox
    # routes on it as Cloudflare does, so ``…/tokens/<id>%2Fvalue`` is not a roll.
    raw_path = request.url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    return Request(
        request.method,
        raw_path,
        raw_query=request.url.query.decode("ascii", "replace"),
        headers=header_map(request.headers.multi_items()),
        body=request.content,
        ip=ip,
    )


def _response(answer: Response, request: httpx.Request) -> httpx.Response:
    if answer.drop:
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    body = b"" if request.method == "HEAD" else answer.body
    return httpx.Response(answer.status, headers=answer.headers, content=body, request=request)


class SandboxTransport(httpx.MockTransport):
    """Routes httpx requests into a sandbox. ``ip`` is the client address the sandbox sees."""

    def __init__(self, engine: Engine, *, ip: str = "127.0.0.1"):
        super().__init__(self._unused)
        self.engine = engine
        self.ip = ip

    def __repr__(self) -> str:
        return f"<SandboxTransport from {self.ip} to {self.engine!r}>"

    @staticmethod
    def _unused(request: httpx.Request) -> httpx.Response:  # pragma: no cover
        raise RuntimeError("SandboxTransport handles requests itself")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from a synchronous client."""
        request.read()
        answer = self.engine.handle(_request(request, self.ip))
        if answer.latency:
            time.sleep(answer.latency)
        return _response(answer, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from an asynchronous client."""
        await request.aread()
        answer = self.engine.handle(_request(request, self.ip))
        if answer.latency:
            import anyio

            await anyio.sleep(answer.latency)
        return _response(answer, request)
