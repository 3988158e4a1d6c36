"""Retry policy and client-side rate limiting: pure decisions, no sleeping and no I/O.

The clients ask :class:`RateLimiter` how long to wait before each request and
:class:`Retry` how long to back off after a transient failure; they do the waiting themselves
(``time.sleep`` or ``asyncio.sleep``), so both clients share the same decisions.
"""

from __future__ import annotations

import bisect
import email.utils
import math
import random
import threading
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime

from attrs import field, frozen

from ..errors import InvalidInput

__all__ = ["RateLimit", "RateLimiter", "Retry", "parse_retry_after"]


def _non_negative_int(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"max_retries must be a whole number >= 0, got {value!r}")
    return value


@frozen(kw_only=True)
class Retry:
    """How transient failures are retried (pass as ``max_retries=Retry(...)`` or an int).

    ``total`` retries at most after the first attempt. The n-th retry waits a random time in
    ``[0, min(max_backoff, backoff * 2**n)]`` ("full jitter"), or what the server's
    ``retry-after`` says. A ``retry-after`` longer than ``max_retry_after`` seconds is not
    waited for: the error is raised at once so a notebook never hangs for minutes.
    ``rng`` makes the jitter reproducible in tests.
    """

    total: int = field(default=4, converter=_non_negative_int)
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    rng: random.Random = field(factory=random.Random, eq=False, repr=False)

    def delay(self, retries_done: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retries_done + 1``."""
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.max_backoff, self.backoff * (2**retries_done))
        return self.rng.uniform(0.0, ceiling)

    @classmethod
    def of(cls, value: int | Retry) -> Retry:
        """Accept an int (the number of retries) or a :class:`Retry`."""
        if isinstance(value, Retry):
            return value
        return cls(total=value)


def _positive_int(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"a rate limit needs a whole number of requests > 0, got {value!r}")
    return value


def _positive_float(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidInput(f"a rate limit window must be a number of seconds > 0, got {value!r}")
    return float(value)


@frozen(kw_only=True)
class RateLimit:
    """At most ``requests`` requests per ``per`` seconds (Cloudflare: 1,200 per 300 s per user).

    Pass ``rate_limit=RateLimit(requests=600, per=300)`` to leave room for other tools using
    the same user, or ``rate_limit=None`` to turn the client-side limiter off.
    """

    requests: int = field(default=1200, converter=_positive_int)
    per: float = field(default=300.0, converter=_positive_float)

    @classmethod
    def of(cls, value: RateLimit | tuple[int, float] | None) -> RateLimit | None:
        """Accept a :class:`RateLimit`, a ``(requests, seconds)`` pair or None."""
        if value is None or isinstance(value, RateLimit):
            return value
        if isinstance(value, tuple) and len(value) == 2:
            return cls(requests=value[0], per=value[1])
        raise InvalidInput(
            f"rate_limit must be RateLimit(requests=..., per=...), a (requests, seconds) pair "
            f"or None, got {value!r}"
        )


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds from a ``retry-after`` header (delta seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    """A whole number from a rate-limit header; None when absent or not a usable number
    (``inf``, ``nan``, ``1e400``, text or more digits than any real header holds: these are
    hints, so a broken one is ignored rather than trusted or raised)."""
    value = headers.get(name)
    if value is None:
        return None
    text = value.strip()
    if len(text) > 32:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number)


class RateLimiter:
    """A sliding-window limiter shared by every call of one client (threads and tasks alike).

    :meth:`reserve` books a send time for one request and returns how long to wait for it.
    :meth:`observe` reads the server's ``x-ratelimit-remaining`` together with
    ``x-ratelimit-reset`` or ``retry-after`` (a remaining count without a reset time is
    ignored) so the client slows down before the server starts answering 429, and a 429
    pauses every call of the client until its ``retry-after`` has passed.
    """

    def __init__(self, limit: RateLimit | None):
        self.limit = limit
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._pause_until = 0.0
        self._server_budget: int | None = None
        self._server_reset_at = 0.0
        #: 429 answers seen (adaptive concurrency halves on each new one).
        self.throttled = 0

    def headroom(self, now: float) -> int | None:
        """Requests that can be sent now without waiting: what is left of the client's window
        and of the server's announced budget (None when neither limits)."""
        with self._lock:
            room: int | None = None
            limit = self.limit
            if limit is not None:
                # send times are booked in order: count those inside the window by bisection
                # (this runs on every admission decision of an async listing)
                sent = self._sent
                recent = len(sent) - bisect.bisect_right(sent, now - limit.per)
                room = max(0, limit.requests - recent)
            if self._server_budget is not None and now < self._server_reset_at:
                budget = max(0, self._server_budget)
                room = budget if room is None else min(room, budget)
            if now < self._pause_until:
                room = 0
            return room

    def reserve(self, now: float) -> float:
        """Book the next request's slot; return the seconds to wait before sending it."""
        with self._lock:
            at = max(now, self._pause_until)
            if self._server_budget is not None:
                if at >= self._server_reset_at:
                    self._server_budget = None
                elif self._server_budget <= 0:
                    # The server says the window is used up: hold every call until it resets.
                    self._pause_until = max(self._pause_until, self._server_reset_at)
                    at = self._server_reset_at
                    self._server_budget = None
                else:
                    self._server_budget -= 1
            limit = self.limit
            if limit is not None:
                sent = self._sent
                while sent and sent[0] <= now - limit.per:
                    sent.popleft()
                if len(sent) >= limit.requests:
                    at = max(at, sent[-limit.requests] + limit.per)
                if sent:
                    at = max(at, sent[-1])
                sent.append(at)
            return at - now

    def observe(self, status: int, headers: Mapping[str, str], now: float) -> None:
        """Take the server's view into account after a response."""
        retry_after = parse_retry_after(headers)
        reset = _header_int(headers, "x-ratelimit-reset")
        with self._lock:
            if status == 429:
                self.throttled += 1
                # Without retry-after the retry's own backoff decides; no global pause.
                if retry_after is not None:
                    self._pause_until = max(self._pause_until, now + retry_after)
                return
            remaining = _header_int(headers, "x-ratelimit-remaining")
            wait = reset if reset is not None else retry_after
            if remaining is None or wait is None:
                # Without knowing when the server's window resets, holding calls back could
                # stall the client for a whole window: send, and let a 429's retry-after decide.
                return
            self._server_budget = max(0, remaining)
            self._server_reset_at = now + wait

    def server_pause(self, now: float) -> float:
        """Seconds the server asked every call to wait from ``now`` (429 or no budget left)."""
        with self._lock:
            pause = self._pause_until - now
            if self._server_budget is not None and self._server_budget <= 0:
                pause = max(pause, self._server_reset_at - now)
            return max(0.0, pause)
