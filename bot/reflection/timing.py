"""Pure date and time rules: reading what people type, local times, school days.

Nothing here touches the database or the clock, so the rules that decide when a prompt lands
(DST, quiet days, the school year) are tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.terms import half_year_start

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_RANGE_DAYS = 400
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


def parse_weekday(word: str) -> int:
    key = word.strip().lower()[:3]
    if key not in WEEKDAYS or not WEEKDAY_NAMES[WEEKDAYS[key]].lower().startswith(
        word.strip().lower()
    ):
        raise UserError(f"{word!r} isn't a day of the week; try mon, tue, wed, thu or fri.")
    return WEEKDAYS[key]


def parse_clock(word: str) -> str:
    """``15:00``, ``3pm``, ``3:30pm``, ``9`` -> ``"HH:MM"``."""
    match = _CLOCK.match(word.strip().lower())
    if not match:
        raise UserError(f"{word!r} isn't a time of day; try 15:00 or 3pm.")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            raise UserError(f"{word!r} isn't a time of day; try 15:00 or 3pm.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise UserError(f"{word!r} isn't a time of day; try 15:00 or 3pm.")
    return f"{hour:02d}:{minute:02d}"


def parse_day(word: str) -> date:
    try:
        return date.fromisoformat(word.strip())
    except ValueError:
        raise UserError(f"{word!r} isn't a date; write it like 2026-12-21.") from None


def parse_day_range(raw: str) -> tuple[date, date]:
    """``2026-12-21..2027-01-02`` (or one day) -> (first, last), both included."""
    text = raw.strip()
    first_raw, sep, last_raw = text.partition("..")
    first = parse_day(first_raw)
    last = parse_day(last_raw) if sep else first
    if last < first:
        raise UserError(f"{text!r} ends before it starts; put the earlier date first.")
    if (last - first).days > MAX_RANGE_DAYS:
        raise UserError(f"{text!r} is longer than a school year; please check the dates.")
    return first, last


def local_moment(day: date, at_time: str, zone: ZoneInfo) -> datetime:
    """``at_time`` on ``day`` on the wall clock in ``zone``, as UTC (DST-correct)."""
    hour, minute = (int(p) for p in at_time.split(":"))
    moment = datetime.combine(day, time(hour, minute), tzinfo=zone)
    # A wall time skipped by a spring-forward change does not exist; use the same offset as
    # just before the change, which lands an hour later on the wall clock, never earlier.
    return moment.astimezone(UTC)


def weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def describe_range(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


@dataclass(frozen=True)
class SchoolDays:
    """A team's calendar at one moment: school year, weekend and quiet ranges."""

    weekend: frozenset[int]
    year: tuple[date, date] | None
    ranges: Sequence[tuple[date, date, str]]

    def why_quiet(self, day: date) -> str | None:
        """Why nothing is sent on ``day`` ("Winter break"), or None on a school day."""
        if self.year is not None and not self.year[0] <= day <= self.year[1]:
            return "outside the school year"
        if day.weekday() in self.weekend:
            return "the weekend"
        for first, last, label in self.ranges:
            if first <= day <= last:
                return label
        return None

    def term_start(self, today: date) -> date:
        """The first day of "this term" for reflections (the report and the rotation).

        The school year's first day once it has begun; without a school year, the school
        half-year: from 1 August, or from 1 January (as ``/commitments summary term`` counts
        when no lead set a term start).
        """
        if self.year is not None and self.year[0] <= today:
            return self.year[0]
        return half_year_start(today)

    def is_quiet(self, day: date) -> bool:
        return self.why_quiet(day) is not None

    def next_open_day(self, day: date) -> date | None:
        """``day`` if it is a school day, else the next one; None past the school year."""
        current = day
        if self.year is not None and current < self.year[0]:
            current = self.year[0]
        for _ in range(MAX_RANGE_DAYS * 2):
            if self.year is not None and current > self.year[1]:
                return None
            if not self.is_quiet(current):
                return current
            current += timedelta(days=1)
        return None

    def add_school_days(self, day: date, count: int) -> date | None:
        """The ``count``-th school day after ``day`` (None if the year ends first)."""
        current: date | None = day
        for _ in range(count):
            assert current is not None
            current = self.next_open_day(current + timedelta(days=1))
            if current is None:
                return None
        return current
