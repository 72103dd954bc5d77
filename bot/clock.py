"""The clock port.

Every use case asks a :class:`Clock` for the time instead of calling ``datetime.now`` so that
timers, schedules and reminders can be driven by tests and by the console's ``/clock`` command
without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, always timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def ensure_utc(moment: datetime) -> datetime:
    """Naive datetimes are refused rather than guessed: a wrong zone silently shifts schedules."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime; plcbot works in timezone-aware times only")
    return moment.astimezone(UTC)


class FakeClock:
    """A clock that only moves when told to.

    ``ticking=True`` makes it follow real time plus an offset, which is what an interactive
    console wants: timers run on their own, and ``/clock +10m`` still jumps ahead.
    Listeners are told after every jump so the scheduler can run whatever became due.
    """

    def __init__(self, start: datetime | None = None, *, ticking: bool = False) -> None:
        self._ticking = ticking
        real = datetime.now(UTC)
        self._start = ensure_utc(start) if start is not None else real
        self._real_at_start = real
        self._offset = timedelta(0)
        self._listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        base = self._start
        if self._ticking:
            base += datetime.now(UTC) - self._real_at_start
        return base + self._offset

    @property
    def ticking(self) -> bool:
        return self._ticking

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
        moment = self.now()
        for listener in list(self._listeners):
            listener(moment)
        return moment

    def set(self, moment: datetime) -> datetime:
        return self.advance(ensure_utc(moment) - self.now())

    def on_jump(self, listener: Callable[[datetime], None]) -> None:
        self._listeners.append(listener)
