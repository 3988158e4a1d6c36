"""How many requests one async listing keeps in flight: fixed, or adapted as it goes.

The adaptive bound (the default) starts at :data:`START` (or, gathering several listings, at
their number up to :data:`CEILING`: one first page each) and is a delay-based controller in
the spirit of TCP Vegas. From each answer's latency ``rtt`` and the fastest answer of the
listing so far ``base`` (no queueing anywhere), ``bound × (1 − base / rtt)`` estimates how many
of the requests in flight are only waiting (in the server's queue, or in the client's own
event loop once the client is the busy side):

- fewer than :data:`ALPHA` waiting: each answer raises the bound by one, so it doubles every
  round trip while latency stays flat (50 ms of latency and 200 pages: 8, 16 in flight
  within two round trips), up to :data:`GROW_CEILING`;
- more than :data:`BETA` waiting: the bound drops by one, not below :data:`FLOOR`, and only
  if the answer was sent after the last cut (the answers already on their way when it was
  lowered say nothing about the lower bound): one cut per round trip, not one per answer;
- in between, it holds. The bound settles near ``base × throughput + a few``: what keeps the
  busy side (server or client) working without queueing more. More in flight would not list
  any faster, and on a loaded machine the client's CPU is what paces a listing;
- a 429 halves it (and the client's rate limiter pauses every call for its ``retry-after``);
- it grows no further than :data:`GROW_CEILING`: with httpx's pool (still used behind a
  proxy), which scans its connections on every request, each request past it cost the client
  more CPU and a bound that grew to 24-64 listed slower than one held at 16; with the client's
  own transport (``_http11``) the CPU per request stays flat, but 32 or 64 in flight listed no
  faster either (bench/bench_client.py); the rate limit, not the bound, paces a long listing
  anyway;
- it never exceeds :data:`CEILING` (the connection pool) nor the requests the rate limiter
  can still send in its window (the client's budget, and the server's ``x-ratelimit-remaining``
  when it sends one), so a burst never spends more than the budget allows.

Nothing here sends more requests than the listing needs: it only decides when each one goes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

from ._limits import RateLimiter

__all__ = [
    "ALPHA",
    "BETA",
    "CEILING",
    "FLOOR",
    "GROW_CEILING",
    "START",
    "AdaptiveBound",
    "Bound",
    "FixedBound",
]

START = 8
FLOOR = 4
CEILING = 64
GROW_CEILING = 16  # the adaptive bound's own growth stops here (see the module docstring)
ALPHA = 1.0  # fewer requests than this waiting: grow
BETA = 3.0  # more than this waiting: shrink (one step per round trip)
NOISE = 0.005  # seconds of jitter never read as waiting


class Bound:
    """An async context manager admitting at most :attr:`size` holders at once.

    Entering returns when the holder got in, on ``clock`` (the client's monotonic clock,
    ``time.monotonic`` unless a test gives a virtual one): what :meth:`observe` takes back.
    """

    def __init__(self, size: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._clock = clock
        self._held = 0
        self._waiters: asyncio.Condition | None = None

    @property
    def size(self) -> int:
        """Requests allowed in flight now."""
        return self._size

    @property
    def held(self) -> int:
        """Requests in flight now."""
        return self._held

    def _cond(self) -> asyncio.Condition:
        if self._waiters is None:
            self._waiters = asyncio.Condition()
        return self._waiters

    async def __aenter__(self) -> float:
        cond = self._cond()
        async with cond:
            while self._held >= max(1, self.size):
                try:
                    await cond.wait()
                except asyncio.CancelledError:
                    # a wake-up this waiter took must not be lost with it
                    if self._held < max(1, self.size):
                        cond.notify(1)
                    raise
            self._held += 1
            # A release wakes as many waiters as there is room; pass on what is left
            # (the bound may have grown since).
            if self._held < self.size:
                cond.notify(1)
        return self._clock()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        cond = self._cond()
        async with cond:
            self._held -= 1
            # Wake only as many waiters as may enter now: waking them all (then sending most
            # back to sleep) costs more than the requests themselves with hundreds queued.
            cond.notify(max(1, self.size - self._held))

    def observe(self, started: float, ok: bool) -> None:
        """One request held since ``started`` finished (``ok``: it got an answer)."""


class FixedBound(Bound):
    """``concurrency=N``: exactly N in flight at most."""


class AdaptiveBound(Bound):
    """The default: see the module docstring."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        start: int = START,
        ceiling: int = GROW_CEILING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(start, clock=clock)
        self._limiter = limiter
        self._ceiling = ceiling
        self._limit = float(start)
        self._base = float("inf")  # the fastest answer of the listing
        self._throttled = limiter.throttled
        self._cut_at = float("-inf")  # when the bound was last lowered
        #: The largest bound reached (for logs and benchmarks).
        self.peak = start

    def widen(self, size: int) -> None:
        """Raise the bound to ``size`` (not past the pool's :data:`CEILING`) before the first
        answer, for that many requests known to start at once (the first page of each of
        several listings); after the first answer the measurements decide."""
        if self._base == float("inf"):
            self._limit = max(self._limit, float(min(size, CEILING)))
            self.peak = max(self.peak, int(self._limit))

    @property
    def size(self) -> int:
        limit = int(self._limit)
        room = self._limiter.headroom(self._clock())
        if room is not None:
            # never more in flight than the window can still send (at least one: the
            # limiter makes that one wait for its slot)
            limit = min(limit, max(1, room + self._held))
        return max(1, min(CEILING, limit))

    def observe(self, started: float, ok: bool) -> None:
        latency = self._clock() - started
        throttled = self._limiter.throttled
        if throttled != self._throttled:
            self._throttled = throttled
            self._limit = max(1.0, self._limit / 2)
            return
        if ok:
            self._base = base = min(self._base, latency)
            rtt = max(base, latency - NOISE)
            waiting = self._limit * (1 - base / rtt) if rtt > 0 else 0.0
            if waiting < ALPHA:
                if self._limit < self._ceiling:  # (a widened start above it stays put)
                    self._limit = min(float(self._ceiling), self._limit + 1)
                self.peak = max(self.peak, int(self._limit))
                return
            if waiting <= BETA:
                return
        if started > self._cut_at:  # sent after the last cut: one cut per round trip
            self._limit = max(min(float(FLOOR), self._limit), self._limit - 1)
            self._cut_at = self._clock()
