"""The overall deadline of one request attempt: the client's ``deadline=`` option.

httpx's timeouts (``timeout=``) bound each *operation*: connecting, one write, one read, the
wait for a pooled connection. A server that drips its answer (one header byte, then another,
each just under the read timeout) passes every one of them and holds the attempt for as long
as it likes: an ``audit`` used as a CI gate would hang for hours. The deadline bounds the
whole attempt, from sending the request to the last byte of the body.

Each client enforces it its own way (``_io_async.Attempt``: the event loop cancels the
attempt; ``_io_sync.Attempt`` with ``_deadline_backend``: every socket operation of httpx's
transport waits at most what is left). This module holds what they share and imports
neither httpx nor asyncio.
"""

from __future__ import annotations

import functools
import math
import time
from typing import TYPE_CHECKING, Literal, Protocol

from ..errors import InvalidInput, shown

if TYPE_CHECKING:
    from contextvars import ContextVar

    import httpx

__all__ = [
    "AUTO",
    "Deadline",
    "DeadlineOption",
    "OverallLimit",
    "current",
    "derived",
    "overall",
    "resolve",
]

#: ``deadline="auto"`` (the default): derived from ``timeout=`` (see :func:`derived`).
AUTO: Literal["auto"] = "auto"

#: What ``deadline=`` accepts: seconds, None (no overall deadline) or ``"auto"``.
DeadlineOption = float | Literal["auto"] | None


def derived(timeout: float | httpx.Timeout | None) -> float | None:
    """The default deadline for a (checked) ``timeout=``: the sum of its connect, write, read
    and pool timeouts (4 x 30 = 120 s at the default ``timeout=30``), the time an attempt
    takes that uses each phase's whole allowance once. None when a phase has no timeout: an
    attempt allowed to wait for ever somewhere is not bounded as a whole either (pass
    ``deadline=`` to bound it)."""
    if timeout is None:
        return None
    if isinstance(timeout, int | float):
        return 4 * float(timeout)
    phases = (timeout.connect, timeout.write, timeout.read, timeout.pool)
    if any(phase is None for phase in phases):
        return None
    return float(sum(phase for phase in phases if phase is not None))


def resolve(value: object, timeout: float | httpx.Timeout | None) -> float | None:
    """The deadline in seconds (None: none) for a client's ``deadline=`` and checked
    ``timeout=``; a value that is not one raises :class:`~cftokens.InvalidInput`."""
    if value is None:
        return None
    if isinstance(value, str) and value == AUTO:
        return derived(timeout)
    if (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    ):
        return float(value)
    raise InvalidInput(
        "deadline must be a number of seconds > 0 (the most one request attempt may take, "
        "from sending it to the last byte of the answer), None (no overall deadline) or "
        f"'auto' (the sum of timeout='s connect, write, read and pool timeouts), got "
        f"{shown(value)}"
    )


class Deadline:
    """The deadline of one attempt, started when the attempt is: ``hit`` tells whether it is
    what stopped the attempt. The subclasses in ``_io_sync``/``_io_async`` enforce it."""

    __slots__ = ("at", "hit", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = math.inf
        self.hit = False

    def start(self) -> None:
        """The attempt starts now."""
        if self.seconds is not None:
            self.at = time.monotonic() + self.seconds

    def left(self) -> float:
        """Seconds left (``inf`` without a deadline; <= 0 once it has passed)."""
        return self.at - time.monotonic()

    def clamp(self, timeout: float | None) -> float | None:
        """``timeout`` (one operation's, None: for ever) shortened to what is left of the
        attempt; :class:`TimeoutError` once nothing is left."""
        left = self.left()
        if left <= 0:
            self.hit = True
            raise TimeoutError(f"the attempt's deadline of {self.seconds:g} s passed")
        if timeout is None or left < timeout:
            return left if left != math.inf else timeout
        return timeout

    def check(self) -> None:
        """Raise :class:`TimeoutError` when the deadline has passed (between two chunks of
        a body a transport of the caller's hands over)."""
        self.clamp(None)

    def settle(self) -> None:
        """The attempt failed: note whether its deadline had passed by then."""
        if self.left() <= 0:
            self.hit = True

    @property
    def missed(self) -> float | None:
        """The deadline's seconds when it is what stopped the attempt, else None."""
        return self.seconds if self.hit else None


@functools.cache
def current() -> ContextVar[Deadline | None]:
    """The attempt the current thread (or task) is sending: what ``_deadline_backend``
    clamps (made with the first attempt: ``import cftokens`` does not load contextvars)."""
    from contextvars import ContextVar

    return ContextVar("cftokens_attempt", default=None)


class OverallLimit(Protocol):
    """A limit over many requests (an audit's ``time_limit=``) a client keeps to in the
    thread or task that set it (:func:`overall`): checked before each attempt and each wait
    (a retry's, the rate limiter's), each attempt's deadline cut to what is left."""

    def left(self) -> float | None:
        """Seconds left (None: no limit)."""
        ...

    def check(self) -> None:
        """Raise once the limit has passed."""
        ...


@functools.cache
def overall() -> ContextVar[OverallLimit | None]:
    """The overall limit the current thread's (or task's) calls keep to (None: none)."""
    from contextvars import ContextVar

    return ContextVar("cftokens_overall_limit", default=None)
