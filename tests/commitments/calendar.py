"""A tiny school calendar for tests: the ``QuietDays`` port over a set of dates."""

from collections.abc import Iterable
from datetime import date, timedelta


class QuietSet:
    """Quiet on the given dates (and nothing else: weekends are school days here unless listed)."""

    def __init__(self, days: Iterable[date] = (), last_day: date | None = None) -> None:
        self.days = set(days)
        self.last_day = last_day  # the school year's end: no open day after it

    async def is_quiet(self, team_id: int, day: date) -> bool:
        return day in self.days or (self.last_day is not None and day > self.last_day)

    async def next_open_day(self, team_id: int, day: date) -> date | None:
        while await self.is_quiet(team_id, day):
            if self.last_day is not None and day > self.last_day:
                return None
            day += timedelta(days=1)
        return day
