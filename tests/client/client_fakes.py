"""Helpers for client tests: a fake clock (retries and rate limits never really wait) and a
small in-memory Cloudflare served through ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
import itertools
import json
import selectors
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

USER_TOKEN = "cfut_" + "A1b2C3d4E5" * 4 + "xyz"
ACCOUNT_TOKEN = "cfat_" + "Z9y8X7w6V5" * 4 + "qrs"
ACCOUNT = "0123456789abcdef0123456789abcdef"
ZONE = "fedcba9876543210fedcba9876543210"
DNS_READ = "82e64a83756745bbbb1c9c2701bf816b"  # DNS Read
DNS_WRITE = "4755a26eedb94da69e1066d98aa820be"  # DNS Write


class FakeTime:
    """A monotonic clock that only moves when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


class _JumpingSelector(selectors.DefaultSelector):
    """A selector that, when nothing is ready, jumps the loop's clock to its next timer
    instead of waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer: only I/O can wake the loop
            return super().select(None)
        self.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on virtual time: ``asyncio.sleep(0.05)`` takes exactly 0.05 s of the
    loop's clock and no real time, whatever the machine's load (a timer fires as soon as
    nothing else is ready). Pair it with :class:`LoopTime` as the client's clock."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        return self._jumping.now


class LoopTime:
    """A client clock reading the running loop's time (virtual on :class:`VirtualTimeLoop`)
    and sleeping on it."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    def sleep(self, seconds: float) -> None:  # pragma: no cover - async clients only
        raise AssertionError("LoopTime is for async clients")

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def envelope(
    result: Any = None,
    *,
    success: bool = True,
    errors: list[dict[str, Any]] | None = None,
    messages: list[Any] | None = None,
    result_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Cloudflare's envelope."""
    body: dict[str, Any] = {
        "success": success,
        "errors": errors or [],
        "messages": messages or [],
        "result": result,
    }
    if result_info is not None:
        body["result_info"] = result_info
    return body


def error(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    """An error response with one Cloudflare error."""
    return httpx.Response(
        status,
        json=envelope(success=False, errors=[{"code": code, "message": message}]),
        headers=headers,
    )


def token_payload(index: int, name: str | None = None) -> dict[str, Any]:
    """A realistic token object."""
    return {
        "id": f"{index:032x}",
        "name": name or f"token-{index}",
        "status": "active",
        "issued_on": "2025-01-01T00:00:00Z",
        "modified_on": "2025-01-02T00:00:00Z",
        "policies": [
            {
                "id": f"{index + 7:032x}",
                "effect": "allow",
                "permission_groups": [{"id": DNS_READ, "name": "DNS Read"}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
        "condition": {"request.ip": {"in": ["203.0.113.0/24"]}},
    }


Script = Callable[[httpx.Request], httpx.Response | None]


class FakeCloudflare:
    """Token endpoints backed by a dict, plus a queue of scripted answers for fault tests.

    ``script(fn)`` queues a function that may answer (return a response or raise) one request
    before the normal handling; returning None falls through to the normal handling.
    """

    def __init__(self, tokens: int = 0) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.bodies: list[Any] = []
        self._scripts: deque[Script] = deque()
        self._ids = itertools.count(10_000)
        for i in range(1, tokens + 1):
            payload = token_payload(i)
            self.tokens[payload["id"]] = payload

    def script(self, *answers: Script) -> None:
        self._scripts.extend(answers)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(json.loads(request.content) if request.content else None)
        if self._scripts:
            answer = self._scripts.popleft()(request)
            if answer is not None:
                return answer
        return self.route(request)

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/client/v4")
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["accounts"] and len(parts) >= 3:
            parts = parts[2:]  # account-owned tokens behave like user tokens here
        elif parts[:1] == ["user"]:
            parts = parts[1:]
        method = request.method
        if parts == ["tokens", "verify"]:
            return httpx.Response(
                200,
                json=envelope(
                    {"id": "c" * 32, "status": "active"},
                    messages=[{"code": 10000, "message": "This API Token is valid and active"}],
                ),
            )
        if parts == ["tokens"] and method == "GET":
            page = int(request.url.params.get("page", 1))
            per_page = int(request.url.params.get("per_page", 20))
            items = list(self.tokens.values())
            chunk = items[(page - 1) * per_page : page * per_page]
            info = {
                "page": page,
                "per_page": per_page,
                "count": len(chunk),
                "total_count": len(items),
            }
            return httpx.Response(200, json=envelope(chunk, result_info=info))
        if parts == ["tokens"] and method == "POST":
            body = json.loads(request.content)
            token_id = f"{next(self._ids):032x}"
            token = {"id": token_id, "status": "active", **body}
            self.tokens[token_id] = token
            return httpx.Response(
                200, json=envelope({**token, "value": "cfut_" + "n" * 40 + "xyz"})
            )
        if len(parts) >= 2 and parts[0] == "tokens":
            token = self.tokens.get(parts[1])
            if token is None:
                return error(404, 7000, "No token found")
            if len(parts) == 3 and parts[2] == "value" and method == "PUT":
                return httpx.Response(200, json=envelope("cfut_" + "r" * 40 + "xyz"))
            if method == "GET":
                return httpx.Response(200, json=envelope(token))
            if method == "PUT":
                body = json.loads(request.content)
                token = {"id": token["id"], **body}
                token.setdefault("status", "active")
                self.tokens[token["id"]] = token
                return httpx.Response(200, json=envelope(token))
            if method == "DELETE":
                del self.tokens[parts[1]]
                return httpx.Response(200, json=envelope({"id": parts[1]}))
        return error(404, 7003, "No route for that URI")
