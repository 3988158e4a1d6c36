"""The AsyncClient: same behaviour as Client, concurrent pages under a bound, gathering."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from client_fakes import (
    ACCOUNT,
    ACCOUNT_TOKEN,
    FakeCloudflare,
    LoopTime,
    VirtualTimeLoop,
    envelope,
    error,
    token_payload,
)

import cftokens as cft
from cftokens.client._adaptive import GROW_CEILING, AdaptiveBound, FixedBound
from cftokens.client._base import tls_context
from cftokens.client._limits import RateLimit, RateLimiter

TOKEN_ID = f"{1:032x}"

# anyio (installed with httpx) runs the coroutine tests on asyncio.
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    """The coroutine tests here run on virtual time: a handler's ``asyncio.sleep(0.05)`` is
    0.05 s of the loop's clock and no real time, so latencies are exact whatever the load."""
    return ("asyncio", {"loop_factory": VirtualTimeLoop})


class Concurrent:
    """An async handler over FakeCloudflare that takes time and measures requests in flight."""

    def __init__(self, cloudflare: FakeCloudflare, delay: float = 0.005):
        self.cloudflare = cloudflare
        self.delay = delay
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return self.cloudflare.handle(request)
        finally:
            self.in_flight -= 1


async def test_async_listing_fetches_pages_concurrently_and_in_order(make_async_client):
    """After page 1, the other pages are fetched at once (bounded); items keep page order."""
    cloudflare = FakeCloudflare(tokens=1000)
    handler = Concurrent(cloudflare)
    async with make_async_client(httpx.MockTransport(handler)) as client:
        tokens = await client.tokens.list(concurrency=6).collect()
    assert [t.id for t in tokens] == list(cloudflare.tokens)
    assert len(cloudflare.requests) == 20
    assert handler.peak == 6


async def test_breaking_out_early_does_not_fetch_every_remaining_page(make_async_client):
    """Pages are scheduled a bounded window ahead of the reader: leaving `async for` early
    (without aclose) leaves at most two windows of requests, not the whole listing."""
    cloudflare = FakeCloudflare(tokens=2500)
    async with make_async_client(httpx.MockTransport(Concurrent(cloudflare))) as client:
        pager = client.tokens.list(concurrency=4)  # held: not finalised on `break`
        async for token in pager:
            if token.name == "token-60":  # on page 2
                break
        await asyncio.sleep(0.1)  # what was scheduled has run by now
        assert len(cloudflare.requests) <= 2 + 2 * 4  # page 1, the window, the next one
        await pager.aclose()


async def test_async_and_sync_clients_agree(make_async_client, make_client):
    """The same listing through Client and AsyncClient yields the same tokens."""
    cloudflare = FakeCloudflare(tokens=137)
    sync_ids = [t.id for t in make_client(cloudflare).tokens.list(per_page=20)]
    async with make_async_client(cloudflare) as client:
        async_ids = [t.id async for t in client.tokens.list(per_page=20)]
    assert sync_ids == async_ids == list(cloudflare.tokens)


async def test_async_pages_are_retried(make_async_client, fake_time):
    """A 503 on a concurrently fetched page is retried; the listing still completes once."""
    cloudflare = FakeCloudflare(tokens=120)
    cloudflare.script(lambda r: None, lambda r: error(503, 0, "unavailable"))
    async with make_async_client(cloudflare) as client:
        tokens = await client.tokens.list().collect()
    assert len(tokens) == 120 == len({t.id for t in tokens})
    assert len(cloudflare.requests) == 4
    assert len(fake_time.sleeps) == 1


async def test_a_failing_page_cancels_the_rest(make_async_client):
    """A final error on one page raises it and cancels the pages still in flight."""
    cloudflare = FakeCloudflare(tokens=500)
    handler = Concurrent(cloudflare, delay=0.01)

    async def failing(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "3":
            return error(403, 10000, "Authentication error")
        return await handler(request)

    async with make_async_client(httpx.MockTransport(failing)) as client:
        with pytest.raises(cft.PermissionDenied):
            await client.tokens.list(concurrency=2).collect()
    await asyncio.sleep(0.05)
    assert handler.in_flight == 0
    assert len(cloudflare.requests) < 10


async def test_a_server_ignoring_page_raises_in_async_listing(make_async_client):
    """The async listing refuses a server that answers page 1 to every page."""
    items = [token_payload(i) for i in range(1, 51)]
    info = {"page": 1, "per_page": 50, "count": 50, "total_count": 150}
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, json=envelope(items, result_info=info))
    )
    async with make_async_client(transport) as client:
        with pytest.raises(cft.UnexpectedResponse, match="ignores `page`"):
            await client.tokens.list().collect()


async def test_tokens_by_account_gathers_under_one_bound(make_async_client):
    """tokens_by_account() lists many accounts concurrently, never above `concurrency`."""
    cloudflare = FakeCloudflare(tokens=120)
    handler = Concurrent(cloudflare)
    accounts = [f"{n:032x}" for n in range(1, 7)]
    async with make_async_client(httpx.MockTransport(handler), token=ACCOUNT_TOKEN) as client:
        result = await client.tokens_by_account(accounts, concurrency=5)
    assert list(result) == accounts
    assert all(len(tokens) == 120 for tokens in result.values())
    assert len(cloudflare.requests) == 6 * 3
    assert handler.peak == 5
    paths = {r.url.path for r in cloudflare.requests}
    assert paths == {f"/client/v4/accounts/{a}/tokens" for a in accounts}


async def test_async_lifecycle_and_closed_client(make_async_client):
    """create/get/update/roll/delete work awaited; a closed AsyncClient raises ClientClosed."""
    cloudflare = FakeCloudflare()
    client = make_async_client(cloudflare)
    tokens = client.account(ACCOUNT).tokens
    spec = cft.TokenSpec(name="bot", policies=[cft.Policy.allow(["DNS Read"], zones=["f" * 32])])
    async with client:
        created = await tokens.create(spec)
        assert (await tokens.get(created.id)).name == "bot"
        assert (await tokens.update(created.id, name="bot-2")).name == "bot-2"
        assert isinstance(await tokens.roll(created.id), cft.Secret)
        await tokens.delete(created.id)
        assert await tokens.list().collect() == []
    with pytest.raises(cft.ClientClosed, match="create a new AsyncClient"):
        await tokens.get(created.id)


async def test_async_create_is_not_retried_after_ambiguity(make_async_client):
    """The async create raises MaybeCreated after one POST on a 500."""
    cloudflare = FakeCloudflare()
    cloudflare.script(lambda r: error(500, 0, "internal"))
    async with make_async_client(cloudflare) as client:
        spec = cft.TokenSpec(
            name="bot", policies=[cft.Policy.allow(["DNS Read"], zones=["f" * 32])]
        )
        with pytest.raises(cft.MaybeCreated):
            await client.tokens.create(spec)
    assert len(cloudflare.requests) == 1


async def test_async_concurrency_is_checked(make_async_client):
    """A concurrency outside 1..64 raises InvalidInput."""
    async with make_async_client(FakeCloudflare()) as client:
        with pytest.raises(cft.InvalidInput, match="concurrency"):
            client.tokens.list(concurrency=0)


async def test_default_concurrency_grows_while_latency_stays_flat(make_async_client):
    """Without concurrency=, a listing starts at 8 in flight and raises the bound while the
    server answers as fast as at first: more than 8 at once, each page still fetched once."""
    cloudflare = FakeCloudflare(tokens=400)
    handler = Concurrent(cloudflare, delay=0.05)
    async with make_async_client(httpx.MockTransport(handler)) as client:
        client._time = LoopTime()  # the loop's virtual clock: every answer takes 50 ms
        # 80 pages of 5: the pages in flight are what is tested, not the tokens on them
        tokens = await client.tokens.list(per_page=5).collect()
    assert [t.id for t in tokens] == list(cloudflare.tokens)
    assert len(cloudflare.requests) == 80
    assert handler.peak > 8


async def test_default_concurrency_stops_growing_at_the_grow_ceiling(make_async_client):
    """On a server that never slows down, the adaptive bound grows to GROW_CEILING and no
    further: past it each request costs the client more CPU (httpx scans its pool) and the
    listing is no faster (bench/bench_client.py: 64 in flight listed slower than 16-24)."""
    cloudflare = FakeCloudflare(tokens=300)
    handler = Concurrent(cloudflare, delay=0.05)
    async with make_async_client(httpx.MockTransport(handler)) as client:
        client._time = LoopTime()
        # 60 pages: the ceiling is reached in the third round trip, then held for three more
        tokens = await client.tokens.list(per_page=5).collect()
    assert len(tokens) == 300 and len(cloudflare.requests) == 60
    assert handler.peak == GROW_CEILING  # reached, never passed


class Clock:
    """A clock the unit tests below set by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_adaptive_bound_backs_off_on_queueing_429_and_the_rate_window() -> None:
    """The adaptive bound drops by one when latency inflates, halves on a 429, and never
    exceeds what the rate limiter can still send in its window."""
    now = Clock()
    limiter = RateLimiter(RateLimit(requests=1000, per=300))
    bound = AdaptiveBound(limiter, start=8, clock=now)
    for _ in range(8):  # flat latency: +1 each
        bound.observe(now() - 0.05, True)
    assert bound.size == 16
    bound.observe(now() - 1.0, True)  # 20x slower: queueing
    assert bound.size == 15
    limiter.observe(429, {"retry-after": "0"}, now())
    bound.observe(now() - 0.05, True)
    assert bound.size == 7
    tight = RateLimiter(RateLimit(requests=10, per=300))
    for _ in range(7):
        tight.reserve(now())
    capped = AdaptiveBound(tight, start=8, clock=now)
    assert capped.size == 3


async def test_a_cancelled_waiter_passes_its_wake_up_on() -> None:
    """A release wakes only as many waiters as may enter; one cancelled after being woken
    hands its turn to the next (a listing cancelled early never stalls the others)."""
    bound = FixedBound(1)
    entered: list[str] = []

    async def wait_turn(name: str) -> None:
        async with bound:
            entered.append(name)

    async with bound:
        first = asyncio.ensure_future(wait_turn("first"))
        second = asyncio.ensure_future(wait_turn("second"))
        await asyncio.sleep(0.01)  # both wait
    first.cancel()  # woken by the release above, cancelled before it ran
    await asyncio.wait_for(second, timeout=2)
    assert entered == ["second"]
    assert first.cancelled()
    assert bound.held == 0


def test_adaptive_bound_is_lowered_once_per_round_trip() -> None:
    """Slow responses already in flight when the bound was lowered do not lower it again:
    one cut per round trip, so one slow round trip of 50 responses costs 1, not 50."""
    now = Clock()
    bound = AdaptiveBound(
        RateLimiter(RateLimit(requests=1000, per=300)), start=20, ceiling=64, clock=now
    )
    bound.observe(now(), True)  # answered at once: the baseline, +1
    assert bound.size == 21
    sent_before = now() - 1.0
    for _ in range(10):  # one slow round trip: ten answers sent before any cut
        bound.observe(sent_before, True)
    assert bound.size == 20
    now.now += 0.001
    sent_after = now()  # sent after the cut
    now.now += 0.03
    bound.observe(sent_after, True)  # slow, and sent after the cut: the next round trip
    assert bound.size == 19
    bound.observe(sent_before, False)  # a failure of the old round trip: no further cut
    assert bound.size == 19


def test_adaptive_bound_holds_when_a_few_requests_wait() -> None:
    """The bound grows while answers come back as fast as the fastest (nothing waits), holds
    while its estimate of the requests only waiting, bound x (1 - fastest/latency), stays
    between ALPHA and BETA, and drops past BETA: more in flight would list no faster and
    costs the client CPU per request."""
    now = Clock()
    bound = AdaptiveBound(
        RateLimiter(RateLimit(requests=1000, per=300)), start=20, ceiling=64, clock=now
    )
    bound.observe(now() - 0.050, True)  # the fastest answer: +1
    assert bound.size == 21
    for _ in range(5):  # 21 x (1 - 50/55) = 1.9 waiting (60 ms less 5 of noise): hold
        bound.observe(now() - 0.060, True)
    assert bound.size == 21
    bound.observe(now() - 0.100, True)  # 21 x (1 - 50/95) = 10 waiting: one cut
    assert bound.size == 20
    bound.observe(now() - 0.052, True)  # as fast as the fastest again: +1
    assert bound.size == 21


async def test_clients_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CA bundle is loaded once per process, not once per client (each load costs tens of
    milliseconds of CPU); a client with its own transport loads none."""
    made: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> object:
        made.append(None)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    tls_context.cache_clear()
    try:
        for _ in range(2):
            async with cft.AsyncClient(token="x" * 40) as client:
                _ = client._http  # the connection pool is made on first use
        with cft.Client(token="x" * 40) as sync_client:
            _ = sync_client._http
        assert len(made) == 1
        own = httpx.MockTransport(lambda request: httpx.Response(204))
        async with cft.AsyncClient(token="x" * 40, transport=own) as client:
            _ = client._http
        tls_context.cache_clear()
        async with cft.AsyncClient(token="x" * 40, transport=own) as client:
            _ = client._http
        assert len(made) == 1
    finally:
        tls_context.cache_clear()


async def test_gathering_sends_every_first_page_in_the_first_round_trip(make_async_client):
    """tokens_by_account() at the default bound sends each account's first page at once (12
    accounts: 12 in flight before any answer, beyond the usual start of 8), then adapts."""
    cloudflare = FakeCloudflare(tokens=120)

    class FirstRound(Concurrent):
        answered = 0
        before_any_answer = 0

        async def __call__(self, request: httpx.Request) -> httpx.Response:
            if self.answered == 0:
                self.before_any_answer = max(self.before_any_answer, self.in_flight + 1)
            try:
                return await super().__call__(request)
            finally:
                self.answered += 1

    handler = FirstRound(cloudflare, delay=0.05)
    accounts = [f"{n:032x}" for n in range(1, 13)]
    async with make_async_client(httpx.MockTransport(handler), token=ACCOUNT_TOKEN) as client:
        result = await client.tokens_by_account(accounts)
    assert all(len(tokens) == 120 for tokens in result.values())
    assert len(cloudflare.requests) == 12 * 3
    assert handler.before_any_answer == 12


async def test_default_concurrency_backs_off_when_the_server_slows_down(make_async_client):
    """The latency the adaptive bound reads is on the client's clock (the one its rate limiter
    reads): when answers go from 50 ms to 1 s after the first round trip, the bound, grown to
    its ceiling on the fast answers, is cut by one each slow round trip."""
    cloudflare = FakeCloudflare(tokens=500)
    handler = Concurrent(cloudflare, delay=0.05)
    in_flight: list[int] = []  # how many were in flight as each request arrived

    async def slowing(request: httpx.Request) -> httpx.Response:
        if len(in_flight) == 16:
            handler.delay = 1.0  # the server got busy
        in_flight.append(handler.in_flight + 1)
        return await handler(request)

    async with make_async_client(httpx.MockTransport(slowing)) as client:
        client._time = LoopTime()  # the loop's virtual clock
        tokens = await client.tokens.list(per_page=5).collect()  # 100 pages
    assert len(tokens) == 500 and len(cloudflare.requests) == 100
    assert max(in_flight[:32]) == GROW_CEILING  # grown on the fast answers
    # ~6 slow round trips later: a few cuts, one per round trip (not one per slow answer)
    assert GROW_CEILING - 5 <= max(in_flight[-12:]) <= GROW_CEILING - 3
