"""Quiet days and the school year: ``/reflect holidays``, ``/reflect year``, ``/reflect calendar``.

Leads change them; everyone may look. Nothing (no prompt, no reminder, and no commitment
reminder either) lands on a quiet day or outside the school year.
"""

from __future__ import annotations

from bot.context import Core
from bot.errors import UserError
from bot.messages import ListBlock, ListItem, OutMessage, text
from bot.parsing import clean_text, first_word
from bot.reflection.calendar import SchoolCalendar
from bot.reflection.ics import CalendarError
from bot.reflection.timing import describe_range, parse_day_range
from bot.turn import Turn
from storage import school_calendar as repo

HOLIDAY_EXAMPLE = "/reflect holidays add 2026-12-21..2027-01-02 Winter break"


class CalendarCommands:
    def __init__(self, core: Core, calendar: SchoolCalendar) -> None:
        self.core = core
        self.calendar = calendar

    async def holidays(self, turn: Turn, args: str) -> None:
        word, rest = first_word(args)
        if word in ("", "list", "show"):
            await self._list(turn)
        elif word == "add":
            await self._add(turn, rest)
        elif word in ("remove", "delete", "rm"):
            await self._remove(turn, rest)
        else:
            raise UserError(f"/reflect holidays can add, list or remove, e.g. {HOLIDAY_EXAMPLE}.")

    async def _add(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        turn.require_lead("add quiet days")
        span, rest = first_word(args)
        if not span:
            raise UserError(f"Give the dates, e.g. {HOLIDAY_EXAMPLE}.")
        first, last = parse_day_range(span)
        name = clean_text(rest, limit=200, what="name", allow_empty=True) or "Quiet days"
        async with self.core.db.write() as session:
            quiet_id = await repo.add_quiet(
                session, team.id, first, last, name, repo.MANUAL, turn.now
            )
        self.calendar.forget(team.id)
        turn.reply(
            f"Added quiet days #{quiet_id}: {describe_range(first, last)} ({name}). "
            "No prompts or reminders will land on them."
        )

    async def _remove(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        turn.require_lead("remove quiet days")
        raw = args.strip().lstrip("#")
        if not raw.isdigit():
            raise UserError("Say which, by its number in /reflect holidays list, e.g. 3.")
        async with self.core.db.write() as session:
            gone = await repo.remove_quiet(session, team.id, int(raw))
        if not gone:
            raise UserError(
                f"This team has no quiet days #{raw}. Days from the district's calendar can "
                "only change there."
            )
        self.calendar.forget(team.id)
        turn.reply(f"Quiet days #{raw} removed.")

    async def _list(self, turn: Turn) -> None:
        team = turn.require_team()
        async with self.core.db.read() as session:
            ranges = await repo.quiet_ranges(session, team.id)
            year_row = await repo.school_year(session, team.id)
        year = self.calendar.year_of(year_row)
        items = tuple(
            ListItem(
                text(f"#{r.id} {describe_range(r.first_day, r.last_day)} {r.label}"),
                "district"
                if r.team_id is None
                else ("calendar" if r.origin == "calendar" else None),
            )
            for r in ranges
        )
        year_text = (
            f"School year: {describe_range(*year)}."
            if year
            else "No school year set (/reflect year 2026-08-24..2027-06-11)."
        )
        source = ""
        if year_row and year_row.calendar_url:
            source = f" Calendar: {year_row.calendar_url}."
            if year_row.fetch_error:
                source += f" The last refresh failed: {year_row.fetch_error}."
        turn.reply(
            OutMessage(
                title="Quiet days",
                blocks=(ListBlock(items, empty_text="(none yet)"),),
                footer=year_text + source + " Weekends are quiet too.",
            ),
            private=True,
        )

    async def year(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        if not args.strip():
            async with self.core.db.read() as session:
                year = self.calendar.year_of(await repo.school_year(session, team.id))
            turn.reply(
                f"School year: {describe_range(*year)}."
                if year
                else "No school year is set. A lead can set one: "
                "/reflect year 2026-08-24..2027-06-11",
                private=True,
            )
            return
        turn.require_lead("set the school year")
        first, last = parse_day_range(args.strip())
        if (last - first).days < 28:
            raise UserError("That's shorter than a month; give the first and last day of the year.")
        async with self.core.db.write() as session:
            await repo.save_school_year(
                session, team.id, first_day=first, last_day=last, fields=["first_day", "last_day"]
            )
        self.calendar.forget(team.id)
        turn.reply(
            f"School year set: {describe_range(first, last)}. Nothing is sent before or after it."
        )

    async def calendar_command(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        turn.require_lead("change the school calendar")
        word, _rest = first_word(args)
        if not word:
            raise UserError(
                "Give the web address of your school's calendar (ICS), e.g. "
                "/reflect calendar https://school.example/calendar.ics, or /reflect calendar off."
            )
        if word == "off":
            async with self.core.db.write() as session:
                await repo.replace_calendar(session, team.id, [], turn.now)
                await repo.save_school_year(
                    session, team.id, calendar_url=None, fields=["calendar_url"]
                )
            self.calendar.forget(team.id)
            turn.reply("The school calendar is disconnected; quiet days added by hand stay.")
            return
        source = args.strip()
        if word == "refresh":
            async with self.core.db.read() as session:
                row = await repo.school_year(session, team.id)
            if row is None or not row.calendar_url:
                raise UserError("No calendar is connected yet: /reflect calendar URL")
            source = row.calendar_url
        if len(source) > 1000:
            raise UserError("That address is too long.")
        try:
            found = await self.calendar.load_ics(team.id, source, allow_files=False)
        except CalendarError as exc:
            raise UserError(f"I couldn't use that calendar: {exc}. Nothing was changed.") from None
        shown = ", ".join(f"{label} ({describe_range(a, b)})" for a, b, label in found[:6])
        more = f" and {len(found) - 6} more" if len(found) > 6 else ""
        turn.reply(
            f"Connected. I found {len(found)} quiet period(s): {shown or 'none'}{more}. "
            "I re-read the calendar every day."
        )
