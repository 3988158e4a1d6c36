"""What the async client does differently from the sync one, on purpose (hand-written).

``_async.py`` is the source of ``_sync.py`` (``scripts/unasync.py`` generates it); where the
two clients must differ, ``_async.py`` calls this module and ``_sync.py`` calls its twin
``_io_sync`` (same names, same signatures apart from ``concurrency``):

- :class:`Lister` fetches a listing's page 1, then the other pages concurrently under one
  :class:`~._adaptive.Bound` (adaptive by default, ``concurrency=N`` fixes it), items in
  page order; :func:`gather` runs several listings at once under that bound;
- :func:`both` awaits two calls concurrently;
- :func:`new_http` makes the ``httpx.AsyncClient`` (a pool as large as the bound's ceiling);
- :class:`Attempt` is one request attempt's overall deadline: the event loop cancels the
  attempt when it passes, whatever the transport.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import InvalidInput
from ._adaptive import CEILING, AdaptiveBound, Bound, FixedBound
from ._base import AsyncPager, http_timeout, tls_context
from ._deadline import Deadline
from ._paging import CursorWalker, PageWalker
from ._protocol import Call, Envelope

if TYPE_CHECKING:
    import httpx

    from ._async import AsyncClient

__all__ = [
    "DEFAULT_CONCURRENCY",
    "Attempt",
    "Lister",
    "both",
    "call_pager",
    "cursor_pager",
    "gather",
    "new_http",
]

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

#: Requests in flight at once for one listing (or one ``tokens_by_account`` gathering):
#: None adapts to the latency and rate-limit headers observed (see ``_adaptive``).
DEFAULT_CONCURRENCY: int | None = None


def _concurrency(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= CEILING:
        raise InvalidInput(
            f"concurrency must be a whole number from 1 to {CEILING}, or None to adapt, "
            f"got {value!r}"
        )
    return value


def new_http(
    transport: httpx.AsyncBaseTransport | None, timeout: float | httpx.Timeout | None
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` of an :class:`~cftokens.AsyncClient` (httpx imported here,
    with the first request); its pool holds as many connections as a bound may use.

    Without a transport of the caller's, requests go through cftokens' own HTTP/1.1
    transport (``_http11``: a fraction of httpcore's CPU per request), unless the environment
    names a proxy: httpx's transport honours it."""
    import httpx

    # lazy on purpose: it imports httpx and h11, which `import cftokens` must not load
    from ._http11 import AsyncHTTP11Transport, env_proxies

    # one TLS context per process, not one per client (a transport brings its own)
    verify = tls_context() if transport is None else True
    if transport is None and not env_proxies():
        transport = AsyncHTTP11Transport(
            ssl_context=tls_context(),
            max_connections=CEILING,
            max_keepalive_connections=CEILING,
        )
    return httpx.AsyncClient(
        transport=transport,
        verify=verify,
        timeout=http_timeout(timeout),
        limits=httpx.Limits(max_connections=CEILING, max_keepalive_connections=CEILING),
    )


def close_idle(http: httpx.AsyncClient) -> None:
    """Close the idle pooled connections of cftokens' own transport (they belong to the
    event loop that is ending); another transport keeps its pool as it does."""
    # lazy on purpose: it imports h11, which `import cftokens` must not load (made already
    # with the client's first request, as new_http's transport is)
    from ._http11 import AsyncHTTP11Transport

    transport = http._transport
    if isinstance(transport, AsyncHTTP11Transport):
        transport.close_idle()


class Attempt(Deadline):
    """One request attempt's overall deadline (``async with attempt:`` around sending it
    and reading its answer): when it passes, the event loop cancels the attempt wherever it
    waits (connecting, writing, reading headers or body, with any transport) and
    :class:`TimeoutError` is raised, with :attr:`hit` set."""

    __slots__ = ("_scope",)

    def __init__(self, seconds: float | None) -> None:
        super().__init__(seconds)
        self._scope: asyncio.Timeout | None = None

    async def __aenter__(self) -> Attempt:
        self.start()
        if self.seconds is not None:
            self._scope = asyncio.timeout(self.seconds)
            await self._scope.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        scope, self._scope = self._scope, None
        if scope is None:
            return
        try:
            await scope.__aexit__(exc_type, exc, traceback)
        finally:
            if scope.expired():
                self.hit = True


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """The results of two calls, made concurrently."""
    one, two = await asyncio.gather(first, second)
    return one, two


async def gather(calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    """The results of ``calls``, run concurrently; the first error cancels the others (and
    is raised once they have stopped)."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Lister:
    """Fetches the pages of one or more listings of ``client`` under one bound on the
    requests in flight (adaptive when ``concurrency`` is None, else at most ``concurrency``).

    An invalid ``concurrency`` raises :class:`~cftokens.InvalidInput` here, before anything
    is sent.
    """

    def __init__(self, client: AsyncClient, concurrency: int | None = DEFAULT_CONCURRENCY):
        size = _concurrency(concurrency)
        self._client = client
        # the client's clock, which its rate limiter reads too
        clock = client._time.monotonic
        self._bound: Bound = (
            AdaptiveBound(client._limiter, clock=clock)
            if size is None
            else FixedBound(size, clock=clock)
        )

    def start_with(self, listings: int) -> None:
        """``listings`` listings are about to start at once, one first page each: an adaptive
        bound admits them all in its first round trip (up to its ceiling), as one task per
        listing would, then adapts; nothing is known about the server before that."""
        if isinstance(self._bound, AdaptiveBound):
            self._bound.widen(listings)

    def pages(self, walker: PageWalker[T]) -> AsyncPager[T]:
        """A lazy pager over every item of ``walker``'s listing."""
        return AsyncPager(self._iterate(walker), walker.what, walker.unreadable)

    async def _iterate(self, walker: PageWalker[T]) -> AsyncIterator[T]:
        """Page 1, then the other pages concurrently under the bound, items in page order.

        At most twice the bound's size of pages are scheduled ahead of the page being read,
        so a reader that stops early (even without ``aclose()``) leaves a few requests, not
        the whole listing.
        """
        bound = self._bound
        send = self._client._send

        async def fetch(page: int) -> Envelope:
            async with bound as started:
                try:
                    envelope = await send(walker.call(page))
                except BaseException:
                    bound.observe(started, False)
                    raise
                bound.observe(started, True)
                return envelope

        first = await fetch(1)
        for item in walker.accept(1, first):
            yield item
        total = walker.total_pages
        if total is None:
            page = walker.next_page()
            while page is not None:
                envelope = await fetch(page)
                for item in walker.accept(page, envelope):
                    yield item
                page = walker.next_page()
            return
        if walker.next_page() is None:
            return
        pages = iter(range(2, total + 1))
        ahead: deque[tuple[int, asyncio.Future[Envelope]]] = deque()

        def schedule() -> None:
            window = 2 * bound.size
            while len(ahead) < window:
                page = next(pages, None)
                if page is None:
                    return
                ahead.append((page, asyncio.ensure_future(fetch(page))))

        try:
            schedule()
            while ahead:
                page, task = ahead.popleft()
                envelope = await task
                schedule()
                for item in walker.accept(page, envelope):
                    yield item
                if walker.next_page() is None:
                    break
        finally:
            tasks = [task for _, task in ahead]
            for task in tasks:
                task.cancel()
            # Collect outcomes so no exception is left unretrieved.
            await asyncio.gather(*tasks, return_exceptions=True)


def cursor_pager(client: AsyncClient, walker: CursorWalker[T]) -> AsyncPager[T]:
    """A lazy pager over a cursor listing (one batch after the other: each needs the last
    one's cursor)."""

    async def items() -> AsyncIterator[T]:
        while not walker.done:
            for item in walker.accept(await client._send(walker.call())):
                yield item

    return AsyncPager(items(), walker.what, walker.unreadable)


def call_pager(client: AsyncClient, call: Call[list[T]], what: str) -> AsyncPager[T]:
    """A lazy pager over the list one call returns (sent on the first iteration)."""

    async def items() -> AsyncIterator[T]:
        for item in await client._execute(call):
            yield item

    return AsyncPager(items(), what)
