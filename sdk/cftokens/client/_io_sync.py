"""What the sync client does differently from the async one, on purpose (hand-written).

The twin of ``_io_async``, called by ``_sync.py`` (generated from ``_async.py`` by
``scripts/unasync.py``) where the async client calls ``_io_async``. Same names and
signatures, minus ``concurrency``: a sync client sends one request at a time, so

- :class:`Lister` fetches a listing's pages one after the other, as the reader asks for
  them, and :func:`gather` is each listing in turn (the first error stops the rest);
- :func:`both` is the two results, made in order;
- :func:`new_http` makes the ``httpx.Client`` (httpx's default pool, its connections
  bounded by the attempt's deadline: ``_deadline_backend``);
- :class:`Attempt` is one request attempt's overall deadline: a blocking read cannot be
  cancelled, so every socket operation of httpx's transport waits at most what is left.

Nothing here imports httpx or asyncio at import time: ``import cftokens`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from ._base import Pager, http_timeout, tls_context
from ._deadline import Deadline, current
from ._paging import CursorWalker, PageWalker
from ._protocol import Call

if TYPE_CHECKING:
    from contextvars import Token

    import httpx

    from ._sync import Client

__all__ = ["Attempt", "Lister", "both", "call_pager", "cursor_pager", "gather", "new_http"]

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


def close_idle(http: httpx.Client) -> None:
    """Nothing to close: a sync client's pooled connections belong to no event loop, so they
    stay for its next request (the async client's counterpart closes those of an ending
    loop)."""


def new_http(
    transport: httpx.BaseTransport | None, timeout: float | httpx.Timeout | None
) -> httpx.Client:
    """The ``httpx.Client`` of a :class:`~cftokens.Client` (httpx imported here, with the
    first request)."""
    import httpx

    http = httpx.Client(
        transport=transport,
        # one TLS context per process, not one per client (a transport brings its own)
        verify=tls_context() if transport is None else True,
        timeout=http_timeout(timeout),
    )
    if transport is None or isinstance(transport, httpx.HTTPTransport):
        # an httpx.HTTPTransport of the caller's is httpx's own pool too, guarded as well;
        # lazy on purpose: it imports httpcore, which neither `import cftokens` nor a client
        # with an in-process transport (the sandbox's) loads
        from ._deadline_backend import guard

        guard(http)
    return http


class Attempt(Deadline):
    """One request attempt's overall deadline (``with attempt:`` around sending it and
    reading its answer). httpx's own transport bounds each socket operation by what is left
    (``_deadline_backend``), an ``httpx.HTTPTransport`` of the caller's too; any other
    transport of the caller's is checked between body chunks."""

    __slots__ = ("_token",)

    def __init__(self, seconds: float | None) -> None:
        super().__init__(seconds)
        self._token: Token[Deadline | None] | None = None

    def __enter__(self) -> Attempt:
        self.start()
        self._token = current().set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._token is not None:
            current().reset(self._token)
            self._token = None
        if exc_type is not None:
            self.settle()


def both(first: A, second: B) -> tuple[A, B]:
    """The results of two calls (already made, in order)."""
    return first, second


def gather(results: list[T]) -> list[T]:
    """The results of several calls (already made, in order)."""
    return results


class Lister:
    """Fetches the pages of listings of ``client``, one request at a time."""

    def __init__(self, client: Client):
        self._client = client

    def pages(self, walker: PageWalker[T]) -> Pager[T]:
        """A lazy pager over every item of ``walker``'s listing: each page is fetched when the
        reader reaches it."""
        send = self._client._send

        def items() -> Iterator[T]:
            page: int | None = 1
            while page is not None:
                envelope = send(walker.call(page))
                yield from walker.accept(page, envelope)
                page = walker.next_page()

        return Pager(items(), walker.what, walker.unreadable)


def cursor_pager(client: Client, walker: CursorWalker[T]) -> Pager[T]:
    """A lazy pager over a cursor listing (one batch after the other)."""

    def items() -> Iterator[T]:
        while not walker.done:
            yield from walker.accept(client._send(walker.call()))

    return Pager(items(), walker.what, walker.unreadable)


def call_pager(client: Client, call: Call[list[T]], what: str) -> Pager[T]:
    """A lazy pager over the list one call returns (sent on the first iteration)."""

    def items() -> Iterator[T]:
        yield from client._execute(call)

    return Pager(items(), what)
