"""When to nudge people: at a sensible hour in their own time zone, never on a quiet day.

Quiet days come from the school calendar (the ``QuietDays`` port, which the reflections feature
keeps). Without a calendar, weekends are quiet, so nobody is chased on a Saturday.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.ports import QuietDays

DEFAULT_NUDGE_TIME = time(15, 30)  # after lessons, before people leave for the day
LOOK_BACK_DAYS = 14  # how far before a due date a reminder may move to skip quiet days
REPORT_GRACE = timedelta(minutes=10)  # time to add a note before peers hear about an outcome
WORKING_HOURS = (time(7, 0), time(19, 0))


class WeekendsOff:
    """The calendar used when no school calendar is wired: Saturdays and Sundays are quiet."""

    async def is_quiet(self, team_id: int, day: date) -> bool:
        return day.weekday() >= 5

    async def next_open_day(self, team_id: int, day: date) -> date | None:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day


def parse_nudge_time(value: str | None) -> time:
    """``PLCBOT_COMMITMENTS_NUDGE_TIME`` (``HH:MM``, 24-hour) or the default."""
    if not value:
        return DEFAULT_NUDGE_TIME
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(
            f"PLCBOT_COMMITMENTS_NUDGE_TIME: {value!r} is not a time like 15:30 (24-hour clock)"
        )
    return time(int(match[1]), int(match[2]))


class Timing:
    def __init__(self, quiet: QuietDays, at: time = DEFAULT_NUDGE_TIME) -> None:
        self.quiet = quiet
        self.at = at

    def moment(self, day: date, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, self.at, tzinfo=zone).astimezone(UTC)

    async def reminder(
        self, team_id: int, due: date, zone: ZoneInfo, now: datetime
    ) -> datetime | None:
        """The last open day before ``due``, at the nudge time; None if that has passed."""
        today = now.astimezone(zone).date()
        day = due - timedelta(days=1)
        for _ in range(LOOK_BACK_DAYS):
            if day < today:
                return None
            if not await self.quiet.is_quiet(team_id, day):
                when = self.moment(day, zone)
                return when if when > now else None
            day -= timedelta(days=1)
        return None

    async def on_or_after(
        self, team_id: int, day: date, zone: ZoneInfo, now: datetime
    ) -> datetime | None:
        """The nudge time on ``day`` or the next open day after it, not before ``now``.

        None when the calendar has no open day left (past the end of the school year).
        """
        for _ in range(366):
            found = await self.quiet.next_open_day(team_id, day)
            if found is None:
                return None
            when = self.moment(found, zone)
            if when > now:
                return when
            day = found + timedelta(days=1)
        return None

    async def soon(self, team_id: int, zone: ZoneInfo, now: datetime) -> datetime | None:
        """A few minutes from now if that is a working hour on an open day, else the next one."""
        when = now + REPORT_GRACE
        local = when.astimezone(zone)
        start, end = WORKING_HOURS
        if start <= local.time() <= end and not await self.quiet.is_quiet(team_id, local.date()):
            return when
        return await self.on_or_after(team_id, local.date(), zone, now)
