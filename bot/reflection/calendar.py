"""The school calendar: which days are school days, for reflections and for anyone else.

:class:`SchoolCalendar` implements the :class:`bot.ports.QuietDays` port. A day is quiet when
it falls outside the school year, on the weekend, or in a quiet range: one a lead added
(``/reflect holidays add``), one read from the team's ICS calendar (``/reflect calendar URL``),
or one from the deployment's calendar (``PLCBOT_SCHOOL_CALENDAR``). The school year is the
team's own (``/reflect year``) or else the deployment's (``PLCBOT_SCHOOL_YEAR``); with neither,
every non-weekend day that is not in a quiet range is a school day.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

from bot.context import Core
from bot.reflection.config import ReflectionConfig
from bot.reflection.ics import CalendarError, quiet_ranges_from_ics, read_source
from bot.reflection.timing import SchoolDays
from storage import school_calendar as repo

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


class SchoolCalendar:
    """``QuietDays`` for every feature: ``SchoolCalendar(core)``; settings are read from core."""

    def __init__(self, core: Core, config: ReflectionConfig | None = None) -> None:
        self.core = core
        self.config = config or ReflectionConfig.from_settings(core.settings)
        self._cache: dict[int, tuple[float, SchoolDays]] = {}

    # -- the QuietDays port ------------------------------------------------------------------

    async def is_quiet(self, team_id: int, day: date) -> bool:
        return (await self.view(team_id)).is_quiet(day)

    async def next_open_day(self, team_id: int, day: date) -> date | None:
        return (await self.view(team_id)).next_open_day(day)

    # -- reading -----------------------------------------------------------------------------

    async def view(self, team_id: int) -> SchoolDays:
        hit = self._cache.get(team_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        async with self.core.db.read() as session:
            ranges = await repo.quiet_ranges(session, team_id)
            year_row = await repo.school_year(session, team_id)
        view = SchoolDays(
            weekend=self.config.weekend,
            year=self.year_of(year_row),
            ranges=tuple((r.first_day, r.last_day, r.label) for r in ranges),
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[team_id] = (time.monotonic() + CACHE_SECONDS, view)
        return view

    def year_of(self, row: repo.SchoolYear | None) -> tuple[date, date] | None:
        if row is not None and row.first_day and row.last_day:
            return (row.first_day, row.last_day)
        return self.config.school_year

    def forget(self, team_id: int | None = None) -> None:
        """Drop cached calendars after a change made in this process (all when None)."""
        if team_id is None:
            self._cache.clear()
        else:
            self._cache.pop(team_id, None)

    # -- ICS calendars -----------------------------------------------------------------------

    def _expand_window(self, year: tuple[date, date] | None) -> tuple[date, date]:
        if year is not None:
            return year
        today = self.core.clock.now().date()
        return today - timedelta(days=31), today + timedelta(days=400)

    async def load_ics(
        self, team_id: int | None, source: str, *, allow_files: bool
    ) -> list[tuple[date, date, str]]:
        """Read ``source`` and replace the calendar's quiet days with what it says now."""
        if team_id is None:
            year = self.config.school_year
        else:
            async with self.core.db.read() as session:
                year = self.year_of(await repo.school_year(session, team_id))
        # The deployment's own calendar (allow_files) is trusted; one typed in chat is not.
        data = await read_source(
            source,
            allow_files=allow_files,
            allow_private=allow_files or self.config.allow_private_urls,
        )
        first, last = self._expand_window(year)
        ranges = quiet_ranges_from_ics(data, self.config.quiet_words, first, last)
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            await repo.replace_calendar(session, team_id, ranges, now)
            if team_id is not None:
                await repo.save_school_year(
                    session,
                    team_id,
                    calendar_url=source,
                    fetched_at=now,
                    fetch_error=None,
                    fields=["calendar_url", "fetched_at", "fetch_error"],
                )
        self.forget(team_id)
        return ranges

    async def refresh_all(self) -> None:
        """Re-read the deployment's calendar and every team's; a failure keeps the old days."""
        if self.config.calendar_source:
            try:
                found = await self.load_ics(None, self.config.calendar_source, allow_files=True)
                log.info(
                    "school calendar %s: %d quiet day range(s)",
                    self.config.calendar_source,
                    len(found),
                )
            except CalendarError as exc:
                log.warning("PLCBOT_SCHOOL_CALENDAR: %s; keeping the quiet days read earlier", exc)
        async with self.core.db.read() as session:
            teams = await repo.teams_with_calendars(session)
        for team_id, url in teams:
            try:
                await self.load_ics(team_id, url, allow_files=False)
            except CalendarError as exc:
                log.warning(
                    "team %d's school calendar %s: %s; keeping the quiet days read earlier",
                    team_id,
                    url,
                    exc,
                )
                async with self.core.db.write() as session:
                    await repo.save_school_year(
                        session, team_id, fetch_error=str(exc)[:500], fields=["fetch_error"]
                    )
