"""``/reflect``: scheduled private reflection prompts tied to the standard's indicators."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from bot.context import Core
from bot.features import Feature
from bot.indicators import label
from bot.messages import Block, ListBlock, ListItem, Section, text
from bot.reflection.answers import Answers
from bot.reflection.bank import PromptBank
from bot.reflection.calendar import SchoolCalendar
from bot.reflection.calendar_commands import CalendarCommands
from bot.reflection.commands import SCHEDULE_USAGE, ScheduleCommands
from bot.reflection.digest import Digests
from bot.reflection.rounds import Rounds
from bot.reflection.team_prompts import PromptCommands
from bot.router import CommandSpec, Router, Subcommand
from bot.timefmt import day as day_text
from bot.timefmt import when
from storage import jobs
from storage import reflection_answers as answers_repo
from storage import reflections as repo
from storage.identity import Member
from storage.jobs import Job

log = logging.getLogger(__name__)

CALENDAR_JOB = "reflect.calendar"


class ReflectionsFeature(Feature):
    name = "reflections"

    def __init__(
        self, core: Core, calendar: SchoolCalendar, bank: PromptBank | None = None
    ) -> None:
        self.core = core
        self.calendar = calendar
        self.config = calendar.config
        self.bank = bank or PromptBank.load()  # a broken bank stops start-up, with its reason
        self.rounds = Rounds(core, calendar, self.bank, self.config)
        self.digests = Digests(core, self.bank)
        self.answers = Answers(core, self.digests)
        self.schedules = ScheduleCommands(core, calendar, self.rounds, self.config)
        self.calendar_commands = CalendarCommands(core, calendar)
        self.prompt_commands = PromptCommands(core, self.bank)

    def install(self, router: Router) -> None:
        self.rounds.register()
        self.digests.register()
        self.core.scheduler.register(CALENDAR_JOB, self._refresh_calendars)
        s, a, c, p = self.schedules, self.answers, self.calendar_commands, self.prompt_commands
        router.add_command(
            CommandSpec(
                name="reflect",
                summary="Short private reflection prompts on a schedule; share only if you want.",
                bare=s.status,
                subcommands=(
                    Subcommand(
                        "schedule", s.schedule, SCHEDULE_USAGE, "set the team's schedule (leads)"
                    ),
                    Subcommand("now", s.now, "", "start a round right now (leads)"),
                    Subcommand("pause", s.pause, "", "pause the schedule (leads)"),
                    Subcommand("resume", s.resume, "", "resume it (leads)"),
                    Subcommand("skip", s.skip, "next", "skip the next round (leads)"),
                    Subcommand("off", s.off, "", "switch reflections off (leads)"),
                    Subcommand("status", s.status, "", "the schedule and recent rounds"),
                    Subcommand(
                        "answer",
                        a.answer_command,
                        "N TEXT [--share team|anon]",
                        "answer prompt N (private unless you share)",
                    ),
                    Subcommand(
                        "mine", a.mine, "[PAGE]", "your own answers, ten a page (only you see them)"
                    ),
                    Subcommand("share", a.share, "N private|team|anon", "change who sees answer N"),
                    Subcommand("delete", a.delete, "N", "delete your answer N for good"),
                    Subcommand("report", s.report, "", "indicator coverage this term, as a chart"),
                    Subcommand(
                        "holidays",
                        c.holidays,
                        "add FIRST..LAST [name] | list | remove N",
                        "quiet days: no prompts or reminders (leads change them)",
                        aliases=("quiet",),
                    ),
                    Subcommand("year", c.year, "FIRST..LAST", "the school year (leads)"),
                    Subcommand(
                        "calendar",
                        c.calendar_command,
                        "URL | refresh | off",
                        "read breaks from the school's ICS calendar (leads)",
                    ),
                    Subcommand(
                        "prompts",
                        p.prompts,
                        "[B3] | add B3 TEXT | remove tN",
                        "see prompts; leads add the team's own",
                    ),
                    Subcommand("indicators", s.indicators, "", "the 14 indicators"),
                ),
                examples=(
                    "/reflect schedule weekly fri 15:00",
                    "/reflect schedule weekly thu 3:30pm indicators A,B3 channel",
                    "/reflect holidays add 2026-12-21..2027-01-02 Winter break",
                    "/reflect answer 12 I tried exit tickets --share anon",
                ),
            )
        )
        router.add_action("reflect.answer", a.form_submitted)
        router.add_action("reflect.skip", a.skip_pressed)
        router.add_action("reflect.start", a.start_pressed)
        router.add_action("reflect.delete", a.delete_pressed)
        router.add_message_handler(a.dm_line)

    async def start(self) -> None:
        # Read the calendars at start-up (through the job, so one replica does it) and daily.
        # Keyed by the start time, so a restart after changing PLCBOT_SCHOOL_CALENDAR reads the
        # new calendar at once; the daily chain that follows is keyed by date (once a day).
        now = self.core.clock.now()
        await self.core.scheduler.schedule(
            kind=CALENDAR_JOB,
            key=f"reflect:calendar:start:{now.isoformat()}",
            due_at=now,
            replace=False,
        )

    async def _refresh_calendars(self, job: Job) -> None:
        await self.calendar.refresh_all()
        tomorrow = self.core.clock.now() + timedelta(days=1)
        await self.core.scheduler.schedule(
            kind=CALENDAR_JOB,
            key=f"reflect:calendar:{tomorrow:%Y-%m-%d}",
            due_at=tomorrow.replace(hour=4, minute=0, second=0, microsecond=0),
            replace=False,
        )

    async def home(self, member: Member) -> Sequence[Block]:
        zone = self.core.zone_for(member)
        now = self.core.clock.now()
        async with self.core.db.read() as session:
            upcoming = await repo.next_delivery(session, member.id, now)
            open_now = await repo.open_deliveries(session, member.id)
            recent = await answers_repo.member_answers(session, member.id, limit=3)
            planned = (
                await jobs.pending_with_prefix(session, f"reflect:open:{member.last_team_id}:w:")
                if member.last_team_id
                else []
            )
        blocks: list[Block] = []
        if open_now:
            d = open_now[0]
            blocks.append(
                Section(
                    text(
                        f"Waiting for you ({label(d.indicator)}): {d.prompt_text} ",
                        f"Answer with /reflect answer {d.id} ...",
                    ),
                    heading="Reflection",
                )
            )
        elif upcoming is not None:
            blocks.append(
                Section(
                    text(f"Your next reflection prompt comes {when(upcoming.due_at, zone, now)}."),
                    heading="Reflection",
                )
            )
        elif planned:
            day = date.fromisoformat(str(planned[0].payload["day"]))
            shown = day_text(day, now.astimezone(zone).date())
            blocks.append(
                Section(
                    text(f"Your team's next reflection round is on {shown}."),
                    heading="Reflection",
                )
            )
        if recent:
            items = tuple(
                ListItem(text(f"#{a.id} {a.indicator}: ", a.body[:140]), a.share) for a in recent
            )
            blocks.append(ListBlock(items, heading="Your recent reflections (only you see these)"))
        return blocks
