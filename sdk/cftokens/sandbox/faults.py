"""Seeded fault injection and the request rate limit.

Faults, for reliability tests: ``Sandbox(faults="rate=0.3,kinds=500+502+503+429+drop,
latency=50ms,seed=1")`` or ``cftokens sandbox serve --faults SPEC``. The SPEC is a comma-separated
list of ``key=value``:

==============  ===========================================================================
``rate=P``      probability (0-1) that a request gets a fault, drawn from a seeded RNG
``kinds=K+K``   which faults to draw from (uniformly): ``500``, ``502``, ``503``, ``429``,
                ``drop`` (the connection closes before the request is processed) and ``lost``
                (the request IS processed and committed, then the connection closes: the
                ambiguous failure behind MaybeCreated/MaybeRolled). Default
                ``500+502+503+429+drop``
``every=N``     a fault on every N-th request (kinds taken in turn), instead of or with rate
``schedule=S``  faults at given request numbers: ``schedule=1:503+4:drop+7:lost``
``latency=L``   added to every request: ``50ms``, ``0.2s``, or a range ``10ms-80ms``
``match=GLOB``  only requests whose path (after /client/v4) matches, e.g. ``/user/tokens*``
``retry_after`` seconds advertised by injected 429s (default 1)
``seed=N``      seed of the fault RNG (default 0): the same seed gives the same faults
==============  ===========================================================================

Requests are numbered from 1 in arrival order per sandbox. Injected 5xx and 429 answers carry
Cloudflare's failure envelope (429 with ``retry-after``); ``drop`` and ``lost`` raise
``httpx.RemoteProtocolError`` in-process and close the connection over HTTP.

Rate limit: ``RateLimit(limit=1200, period=300)`` (Cloudflare's default: 1,200 requests per
5 minutes per user; account-owned tokens count per account) in fixed windows. By default the
window follows the wall clock, so a client that sleeps ``retry-after`` gets through;
``clock="sandbox"`` follows the sandbox clock instead (``sb.clock.advance`` resets it, for
deterministic notebooks). ``"1200/5m"``/``"10/1s"`` parse with :meth:`RateLimit.parse`; ``None``
or ``"off"`` turns it off.
"""

from __future__ import annotations

import fnmatch
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import field, frozen

from ..errors import InvalidInput

__all__ = ["FAULT_KINDS", "Fault", "Faults", "RateLimit", "RateLimiter"]

FAULT_KINDS = ("500", "502", "503", "429", "drop", "lost")
_DEFAULT_KINDS = ("500", "502", "503", "429", "drop")


def _duration(text: str, what: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if m is None:
        raise InvalidInput(f"{what}: {text!r} is not a duration; write it like 50ms, 0.2s or 5m")
    value = float(m.group(1))
    unit = m.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def _kinds(values: Sequence[str]) -> tuple[str, ...]:
    kinds = tuple(str(v).strip().lower() for v in values)
    for kind in kinds:
        if kind not in FAULT_KINDS:
            raise InvalidInput(f"unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS)}")
    if not kinds:
        raise InvalidInput("kinds needs at least one fault kind")
    return kinds


def _schedule(value: Mapping[int, str]) -> dict[int, str]:
    result = {}
    for number, kind in value.items():
        if int(number) < 1:
            raise InvalidInput("schedule request numbers start at 1")
        result[int(number)] = _kinds([kind])[0]
    return result


def _latency(value: float | tuple[float, float] | None) -> tuple[float, float]:
    if value is None:
        return (0.0, 0.0)
    if isinstance(value, int | float):
        low = high = float(value)
    else:
        low, high = (float(v) for v in value)
    if low < 0 or high < low:
        raise InvalidInput("latency must be >= 0 seconds (a number or a (low, high) pair)")
    return (low, high)


@frozen(kw_only=True)
class Fault:
    """What happens to one request: a fault ``kind`` (or None) and added ``latency`` (s)."""

    kind: str | None
    latency: float = 0.0


def _schedule_spec(value: str) -> dict[int, str]:
    """A SPEC's ``schedule=3:503+5:drop``: request number -> fault kind."""
    schedule = {}
    for item in value.split("+"):
        number, colon, kind = item.partition(":")
        if not colon:
            raise InvalidInput(f"faults: schedule entry {item!r} is not NUMBER:KIND (e.g. 3:503)")
        schedule[int(number)] = kind
    return schedule


def _latency_spec(value: str) -> tuple[float, float]:
    """A SPEC's ``latency=50ms`` or ``latency=10ms-200ms``: (low, high) seconds."""
    low, dash, high = value.partition("-")
    first = _duration(low, "latency")
    return (first, _duration(high, "latency") if dash else first)


#: How a SPEC's value of each key is read (a ValueError: a bad value for that key).
_SPEC_KEYS: dict[str, Callable[[str], Any]] = {
    "rate": float,
    "kinds": lambda value: value.split("+"),
    "every": int,
    "schedule": _schedule_spec,
    "latency": _latency_spec,
    "match": str,
    "retry_after": int,
    "seed": int,
}


@frozen(kw_only=True)
class Faults:
    """A fault plan (see the module docstring). Parse a SPEC with :meth:`parse`."""

    rate: float = 0.0
    kinds: tuple[str, ...] = field(default=_DEFAULT_KINDS, converter=_kinds)
    every: int | None = None
    schedule: dict[int, str] = field(factory=dict, converter=_schedule)
    latency: tuple[float, float] = field(default=(0.0, 0.0), converter=_latency)
    match: str | None = None
    retry_after: int = 1
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise InvalidInput(f"rate must be between 0 and 1, got {self.rate}")
        if self.every is not None and self.every < 1:
            raise InvalidInput("every must be a positive number of requests")

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Read a SPEC such as ``rate=0.3,kinds=500+503+drop,latency=50ms,seed=1``."""
        values: dict[str, Any] = {}
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            value = value.strip()
            if not sep:
                raise InvalidInput(f"faults: {part!r} is not key=value (e.g. rate=0.3)")
            read = _SPEC_KEYS.get(key)
            if read is None:
                raise InvalidInput(
                    f"faults: unknown key {key!r}; use rate, kinds, every, schedule, latency, "
                    "match, retry_after or seed"
                )
            try:
                values[key] = read(value)
            except ValueError as exc:
                if isinstance(exc, InvalidInput):
                    raise
                raise InvalidInput(f"faults: bad value for {key}: {value!r}") from None
        return cls(**values)

    @classmethod
    def of(cls, value: Faults | str | Mapping[str, Any] | None) -> Faults | None:
        """Accept a Faults, a SPEC string, a dict of keyword arguments, or None."""
        if value is None or isinstance(value, Faults):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Mapping):
            try:
                return cls(**value)
            except TypeError as exc:
                raise InvalidInput(
                    f"faults: {exc}; the keys are rate (a number 0-1), kinds, every (an int), "
                    "schedule, latency, match, retry_after and seed"
                ) from None
        raise InvalidInput(f"faults must be a SPEC string or Faults, got {type(value).__name__}")


class FaultInjector:
    """Draws the fault of each request from a :class:`Faults` plan (thread-safe, seeded)."""

    def __init__(self, plan: Faults):
        self.plan = plan
        self._rng = random.Random(plan.seed)
        self._count = 0
        self._turn = 0
        self._lock = threading.Lock()

    def next(self, path: str) -> Fault:
        """The fault for the next request to ``path`` (relative to /client/v4)."""
        plan = self.plan
        with self._lock:
            self._count += 1
            number = self._count
            low, high = plan.latency
            latency = low if low == high else self._rng.uniform(low, high)
            if plan.match is not None and not fnmatch.fnmatchcase(path, plan.match):
                return Fault(kind=None, latency=latency)
            kind = plan.schedule.get(number)
            if kind is None and plan.every is not None and number % plan.every == 0:
                kind = plan.kinds[self._turn % len(plan.kinds)]
                self._turn += 1
            if kind is None and plan.rate > 0 and self._rng.random() < plan.rate:
                kind = plan.kinds[self._rng.randrange(len(plan.kinds))]
            return Fault(kind=kind, latency=latency)


@frozen(kw_only=True)
class RateLimit:
    """``limit`` requests per ``period`` seconds per user (see the module docstring)."""

    limit: int = 1200
    period: float = 300.0
    clock: str = "real"

    def __attrs_post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise InvalidInput("a rate limit needs limit >= 1 and a positive period")
        if self.clock not in ("real", "sandbox"):
            raise InvalidInput("rate limit clock must be 'real' or 'sandbox'")

    @classmethod
    def parse(cls, spec: str) -> RateLimit | None:
        """``1200/5m``, ``10/1s``, ``100/60s@sandbox``; ``off`` gives None."""
        text = spec.strip().lower()
        if text in ("off", "none", "0"):
            return None
        clock = "real"
        if "@" in text:
            text, clock = text.split("@", 1)
        count, slash, period = text.partition("/")
        if not slash:
            raise InvalidInput(f"rate limit {spec!r} is not COUNT/PERIOD (e.g. 1200/5m) or off")
        try:
            limit = int(count)
        except ValueError:
            raise InvalidInput(f"rate limit {spec!r}: {count!r} is not a whole number") from None
        return cls(limit=limit, period=_duration(period, "rate limit period"), clock=clock)

    @classmethod
    def of(cls, value: RateLimit | str | int | None) -> RateLimit | None:
        """Accept a RateLimit, a spec string, a bare request count (per 5 minutes) or None."""
        if value is None or isinstance(value, RateLimit):
            return value
        if isinstance(value, bool):
            return cls() if value else None
        if isinstance(value, int):
            return cls(limit=value)
        if isinstance(value, str):
            return cls.parse(value)
        raise InvalidInput(f"rate_limit must be a RateLimit, a spec or None, got {value!r}")


class RateLimiter:
    """Fixed-window request counts per key."""

    def __init__(self, config: RateLimit):
        self.config = config
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<RateLimiter of {self.config!r}>"

    def hit(self, key: str, sandbox_seconds: float) -> tuple[bool, int, int]:
        """Count one request: ``(allowed, remaining, reset_seconds)``, where ``reset_seconds``
        is how long until the window resets (the ``retry-after`` of a refusal)."""
        config = self.config
        now = time.time() if config.clock == "real" else sandbox_seconds
        window = int(now // config.period)
        reset = max(1, math.ceil((window + 1) * config.period - now))
        with self._lock:
            start, count = self._windows.get(key, (window, 0))
            if start != window:
                start, count = window, 0
            if count >= config.limit:
                return False, 0, reset
            count += 1
            self._windows[key] = (start, count)
            return True, config.limit - count, reset
