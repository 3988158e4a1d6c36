"""The sandbox's clock: fixed by default, so notebook outputs are stable.

``Clock()`` reads 2026-11-02T09:00:00Z until told otherwise: ``clock.advance(timedelta(days=1))``
or ``clock.set(datetime(...))``. ``Clock(tick=timedelta(seconds=1))`` also moves it by ``tick``
on every API request. ``Clock.real()`` follows the wall clock in whole seconds (the HTTP
server's default), and ``advance``/``set`` shift it by an offset.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ..errors import InvalidInput

__all__ = ["DEFAULT_NOW", "Clock"]

DEFAULT_NOW = datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC)


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{what} must be timezone-aware, e.g. datetime(2026, 11, 2, tzinfo=timezone.utc)"
        )
    return value.astimezone(UTC)


class Clock:
    """The sandbox's notion of now (tz-aware UTC)."""

    def __init__(
        self, start: datetime | None = None, *, tick: timedelta = timedelta(0), real: bool = False
    ):
        if not isinstance(tick, timedelta) or tick < timedelta(0):
            raise InvalidInput("tick must be a non-negative timedelta")
        self._real = real
        self._tick = tick
        self._lock = threading.Lock()
        if real:
            base = datetime.now(UTC)
            start = base if start is None else _aware(start, "start")
            self._offset = start - base
            self._now = start
        else:
            self._offset = timedelta(0)
            self._now = DEFAULT_NOW if start is None else _aware(start, "now")

    @classmethod
    def real(cls) -> Clock:
        """A clock that follows the wall clock."""
        return cls(real=True)

    @property
    def is_real(self) -> bool:
        """True when the clock follows the wall clock."""
        return self._real

    def now(self) -> datetime:
        """The current sandbox time."""
        if self._real:
            return (datetime.now(UTC) + self._offset).replace(microsecond=0)
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` (a timedelta, not negative); returns the new now."""
        if not isinstance(delta, timedelta):
            raise InvalidInput(f"advance() takes a timedelta, got {type(delta).__name__}")
        if delta < timedelta(0):
            raise InvalidInput("the sandbox clock does not go backwards; use set() instead")
        with self._lock:
            if self._real:
                self._offset += delta
            else:
                self._now += delta
        return self.now()

    def set(self, value: datetime) -> datetime:
        """Jump to ``value`` (tz-aware; may be in the past)."""
        value = _aware(value, "set()")
        with self._lock:
            if self._real:
                self._offset = value - datetime.now(UTC)
            else:
                self._now = value
        return self.now()

    def copy(self) -> Clock:
        """An independent clock reading the same time, moving the same way (a real clock keeps
        its offset from the wall clock)."""
        with self._lock:
            twin = Clock(tick=self._tick, real=self._real)
            twin._offset, twin._now = self._offset, self._now
        return twin

    def on_request(self) -> datetime:
        """The time of a new API request (moves a ticking clock first)."""
        if self._tick and not self._real:
            with self._lock:
                self._now += self._tick
        return self.now()

    def __repr__(self) -> str:
        kind = "real" if self._real else "fixed"
        return f"<Clock {kind} {self.now().isoformat()}>"
