"""A running session's state: frozen, and plain JSON when stored.

Everything the engine needs to take the next decision lives here, including the people it
names (so announcements and turn orders need no lookups) and what ``back`` restores. The
contributions themselves are not here: they are an append-only record beside the state, so a
long session's state stays small and a contribution never conflicts with a button press.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Mode(StrEnum):
    LIVE = "live"  # the facilitator moves on; timers only warn
    AUTO = "auto"  # a live session that moves on when a step's time is up
    ASYNC = "async"  # each step stays open for a window; reminders; moves on by itself


class Status(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Frozen):
    id: int  # the member id
    user_id: str  # the platform's id, for mentions
    name: str


class Round(_Frozen):
    """Who speaks in turn in a round step, and who has spoken or passed.

    People in chat don't always wait their turn: whoever speaks counts as having had theirs,
    and the turn is always the first person in the order who hasn't yet.
    """

    order: tuple[int, ...]
    spoke: tuple[int, ...] = ()
    passed: tuple[int, ...] = ()

    @property
    def current(self) -> int | None:
        for member_id in self.order:
            if member_id not in self.spoke and member_id not in self.passed:
                return member_id
        return None

    @property
    def done(self) -> bool:
        return self.current is None

    def waiting(self, member_id: int) -> bool:
        """``member_id`` is in this round and hasn't had their turn yet."""
        return (
            member_id in self.order and member_id not in self.spoke and member_id not in self.passed
        )


class Visit(_Frozen):
    """A step as it was when someone pressed next: what ``back`` returns to."""

    step: int
    total_seconds: int
    remaining_seconds: int
    round: Round | None = None


class State(_Frozen):
    protocol_id: str
    mode: Mode = Mode.LIVE
    window_seconds: int | None = None  # async: how long each step stays open
    status: Status = Status.RUNNING
    step: int = 0
    total_seconds: int = 0  # this step's length, extensions included
    ends_at: datetime | None = None  # while running
    remaining_seconds: int | None = None  # while paused
    timer_epoch: int = 0  # timers carry it; a timer from an older epoch is ignored
    started_at: datetime
    step_started_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None  # "completed" or "ended_early"
    people: tuple[Person, ...] = ()
    facilitator: int
    presenter: int | None = None
    timekeeper: int | None = None
    note_taker: int | None = None
    round: Round | None = None
    history: tuple[Visit, ...] = ()

    def person(self, member_id: int | None) -> Person | None:
        if member_id is None:
            return None
        for person in self.people:
            if person.id == member_id:
                return person
        return None

    def name_of(self, member_id: int | None, default: str = "someone") -> str:
        person = self.person(member_id)
        return person.name if person else default

    def remaining(self, now: datetime) -> int:
        if self.status == Status.PAUSED:
            return max(0, self.remaining_seconds or 0)
        if self.ends_at is None:
            return 0
        return max(0, int((self.ends_at - now).total_seconds()))

    def overtime(self, now: datetime) -> bool:
        return self.status == Status.RUNNING and self.ends_at is not None and now >= self.ends_at

    @property
    def ended(self) -> bool:
        return self.status == Status.ENDED

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls.model_validate(data)
