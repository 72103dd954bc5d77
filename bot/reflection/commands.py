"""A team's schedule: ``/reflect schedule``, ``now``, ``pause``, ``resume``, ``skip next``,
``off``, ``status`` and ``report`` (indicator coverage over the term, as a chart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.charts import Bar, bar_chart
from bot.context import Core
from bot.errors import UserError
from bot.indicators import (
    CYCLE_INDICATOR,
    CYCLE_SOURCE,
    IMPROVEMENT_CYCLE,
    INDICATORS,
    label,
    parse_codes,
)
from bot.messages import Field, Fields, ListBlock, ListItem, OutMessage, Section, text
from bot.parsing import split_args
from bot.reflection.calendar import SchoolCalendar
from bot.reflection.config import ReflectionConfig
from bot.reflection.rounds import ALL_CODES, Rounds
from bot.reflection.timing import (
    WEEKDAY_NAMES,
    SchoolDays,
    local_moment,
    parse_clock,
    parse_weekday,
)
from bot.timefmt import day as day_text
from bot.timefmt import when
from bot.turn import Turn
from storage import identity
from storage import jobs as jobs_repo
from storage import reflection_answers as answers_repo
from storage import reflections as repo
from storage.identity import Team

SCHEDULE_USAGE = "weekly DAY TIME [indicators A,B3] [dm|channel]"
MODES = ("dm", "channel")


def parse_schedule(args: str) -> tuple[int, str, tuple[str, ...], str]:
    """``weekly fri 15:00 indicators A,B3 channel`` -> (4, "15:00", (A1..A5, B3), "channel")."""
    words = split_args(args.replace(",", ", "))
    if words and words[0].lower() in ("daily", "monthly", "biweekly", "fortnightly"):
        raise UserError("Schedules are weekly for now, e.g. /reflect schedule weekly fri 15:00.")
    if words and words[0].lower() == "weekly":
        words = words[1:]
    if len(words) < 2:
        raise UserError(
            f"Say the day and time, e.g. /reflect schedule weekly fri 15:00 ({SCHEDULE_USAGE})."
        )
    weekday, at_time = parse_weekday(words[0]), parse_clock(words[1])
    rest, mode, codes = words[2:], "dm", ALL_CODES
    if rest and rest[-1].lower() in MODES:
        mode = rest.pop().lower()
    if rest:
        if rest[0].lower() not in ("indicators", "indicator", "on"):
            raise UserError(
                f"I didn't follow {' '.join(rest)!r}. Add indicators like this: "
                "indicators A,B3 (and dm or channel at the end)."
            )
        try:
            codes = parse_codes(" ".join(rest[1:]))
        except ValueError as exc:
            raise UserError(
                f"{exc} isn't an indicator. They run A1-A5, B1-B4 and C1-C5; a letter alone "
                "(A, B or C) means its whole group. /reflect indicators lists them."
            ) from None
        if not codes:
            raise UserError("Name at least one indicator after 'indicators', e.g. indicators A,B3.")
    return weekday, at_time, codes, mode


def describe_codes(codes: tuple[str, ...]) -> str:
    return "all 14 indicators" if set(codes) == set(ALL_CODES) else ", ".join(codes)


SKIPPED_BY_LEAD = "skipped by a lead"
MAX_SKIPS = 20  # rounds skipped ahead at once
LOOK_AHEAD_WEEKS = 60


def upcoming(
    planned: date, skip_dates: Sequence[str], view: SchoolDays
) -> tuple[date | None, list[tuple[date, str]]]:
    """From the planned occurrence on: the first day a round will really open (None: not
    this school year), and the occurrences before it that won't, with why (as the round
    itself will record it when its day comes)."""
    passed: list[tuple[date, str]] = []
    day = planned
    for _ in range(LOOK_AHEAD_WEEKS):
        if view.year is not None and day > view.year[1]:
            break
        if day.isoformat() in skip_dates:
            passed.append((day, SKIPPED_BY_LEAD))
        elif (reason := view.why_quiet(day)) is not None:
            passed.append((day, reason))
        else:
            return day, passed
        day += timedelta(days=7)
    return None, passed


def next_round_text(planned: date, schedule: repo.Schedule, view: SchoolDays, today: date) -> str:
    """``Wed 2 Dec (none on Wed 25 Nov: skipped by a lead)``."""
    day, passed = upcoming(planned, schedule.skip_dates, view)
    shown = day_text(day, today) if day is not None else "none left this school year"
    if not passed:
        return shown
    gaps = "; ".join(f"{day_text(d, today)}: {why}" for d, why in passed[:3])
    more = f"; and {len(passed) - 3} more" if len(passed) > 3 else ""
    return f"{shown} (none on {gaps}{more})"


def _days(days: Sequence[date], today: date) -> str:
    shown = [day_text(d, today) for d in days]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


class ScheduleCommands:
    def __init__(
        self, core: Core, calendar: SchoolCalendar, rounds: Rounds, config: ReflectionConfig
    ) -> None:
        self.core = core
        self.calendar = calendar
        self.rounds = rounds
        self.config = config

    def _lead_team(self, turn: Turn, what: str) -> Team:
        team = turn.require_channel(what)
        turn.require_lead(what)
        return team

    def _today(self, team: Team) -> date:
        return self.core.clock.now().astimezone(self.core.zone_for(None, team)).date()

    async def _plan_from_now(
        self, session: AsyncSession, team: Team, schedule: repo.Schedule
    ) -> date:
        """The first occurrence whose time hasn't passed yet for anyone in the team."""
        start = self._today(team)
        now = self.core.clock.now()
        members = await identity.team_members(session, team.id)
        zones = {
            self.core.zone_for(None, team),
            *(self.core.zone_for(m.member, team) for m in members),
        }
        day = start + timedelta(days=(schedule.weekday - start.weekday()) % 7)
        if min(local_moment(day, schedule.at_time, z) for z in zones) <= now:
            day += timedelta(days=7)
        return await self.rounds.plan_next(session, team, schedule, day, replace=True)

    async def schedule(self, turn: Turn, args: str) -> None:
        team = self._lead_team(turn, "set the reflection schedule")
        weekday, at_time, codes, mode = parse_schedule(args)
        if weekday in self.config.weekend:
            raise UserError(
                f"{WEEKDAY_NAMES[weekday]} is a weekend day, when I stay quiet. Pick a school day."
            )
        async with self.core.db.write() as session:
            await repo.save_schedule(
                session,
                team.id,
                weekday=weekday,
                at_time=at_time,
                indicators=codes,
                mode=mode,
                by=turn.member.id,
                now=turn.now,
            )
            await self.rounds.cancel_planned(session, team.id)
            schedule = await repo.get_schedule(session, team.id)
            assert schedule is not None
            first = await self._plan_from_now(session, team, schedule)
        where = "by direct message" if mode == "dm" else "in this channel"
        turn.reply(
            OutMessage(
                title="Reflection schedule set",
                blocks=(
                    Section(
                        text(
                            f"Every {WEEKDAY_NAMES[weekday]} at {at_time} (each person's own "
                            f"time), one short prompt {where}, on {describe_codes(codes)}. "
                            f"The first one comes on {day_text(first, self._today(team))}. "
                            "Answers are private unless each person chooses to share."
                        )
                    ),
                ),
                footer="Change it any time: /reflect pause, /reflect skip next, /reflect off.",
            )
        )

    async def now(self, turn: Turn, _args: str) -> None:
        """A round right away, with or without a schedule, but never while a lead has
        switched reflections off or paused them: both mean "send no prompts"."""
        team = self._lead_team(turn, "start a reflection round")
        today = self._today(team)
        reason = (await self.calendar.view(team.id)).why_quiet(today)
        async with self.core.db.write() as session:
            schedule = await repo.get_schedule(session, team.id)
            if schedule is not None and schedule.state == "off":
                raise UserError(
                    "Reflections are off for this team, so I won't start a round. Turn them "
                    "back on with /reflect resume (the schedule you had) or set a new one with "
                    "/reflect schedule weekly fri 15:00; then /reflect now works again."
                )
            if schedule is not None and schedule.state == "paused":
                raise UserError(
                    "Reflections are paused for this team, so I won't start a round. "
                    "/reflect resume turns them back on; then /reflect now works again."
                )
            if reason is not None:
                raise UserError(
                    f"Today is a quiet day ({reason}), so I won't send prompts. "
                    "/reflect holidays list shows the quiet days."
                )
            opened = await self.rounds.open_round(
                session,
                team,
                round_key=f"now:{turn.now:%Y%m%dT%H%M%S}",
                day=today,
                at_time=None,
                indicators=schedule.indicators if schedule else ALL_CODES,
                mode=schedule.mode if schedule else "dm",
            )
        if opened.round is None:
            raise UserError("A round started a moment ago; give it a minute.")
        if opened.reason:
            raise UserError(f"I couldn't start a round: {opened.reason}.")
        zone = self.core.zone_for(turn.member, team)
        turn.reply(
            f"A reflection round on {label(opened.round.indicator)} is starting now. Everyone "
            f"has until {when(opened.round.closes_at, zone, turn.now)} to answer; then I'll post "
            "what people chose to share."
        )

    async def _set_state(self, turn: Turn, state: str, what: str) -> tuple[Team, repo.Schedule]:
        team = self._lead_team(turn, what)
        async with self.core.db.write() as session:
            schedule = await repo.get_schedule(session, team.id)
            if schedule is None:
                raise UserError(
                    "This team has no reflection schedule yet. Set one with "
                    "/reflect schedule weekly fri 15:00."
                )
            await repo.update_schedule(session, team.id, turn.now, state=state)
            await self.rounds.cancel_planned(session, team.id)
            if state == "active":
                fresh = await repo.get_schedule(session, team.id)
                assert fresh is not None
                await self._plan_from_now(session, team, fresh)
        return team, schedule

    async def pause(self, turn: Turn, _args: str) -> None:
        await self._set_state(turn, "paused", "pause reflections")
        turn.reply("Reflections are paused. /reflect resume picks them up again.")

    async def resume(self, turn: Turn, _args: str) -> None:
        await self._set_state(turn, "active", "resume reflections")
        turn.reply("Reflections are back on. /reflect status shows when the next one comes.")

    async def off(self, turn: Turn, _args: str) -> None:
        await self._set_state(turn, "off", "switch reflections off")
        turn.reply(
            "Reflections are off for this team. Answers already given stay with their authors. "
            "Start again any time with /reflect schedule."
        )

    async def skip(self, turn: Turn, args: str) -> None:
        """Skip the next round that would really open; asked again, the one after that."""
        if args.strip().lower() not in ("next", ""):
            raise UserError("I can skip the next round: /reflect skip next.")
        team = self._lead_team(turn, "skip a reflection round")
        view = await self.calendar.view(team.id)
        today = self._today(team)
        async with self.core.db.write() as session:
            schedule = await repo.get_schedule(session, team.id, for_update=True)
            planned = await self._planned_day(session, team.id)
            if schedule is None or schedule.state != "active" or planned is None:
                raise UserError("There is no upcoming round to skip (see /reflect status).")
            target, passed = upcoming(planned, schedule.skip_dates, view)
            if target is None:
                raise UserError(
                    "There is no upcoming round left to skip this school year "
                    "(see /reflect status)."
                )
            ahead = [d for d in schedule.skip_dates if d >= today.isoformat()]
            if len(ahead) >= MAX_SKIPS:
                raise UserError(
                    f"{MAX_SKIPS} rounds are skipped already; to stop for longer, "
                    "/reflect pause (and /reflect resume later) is simpler."
                )
            skipped = sorted({*ahead, target.isoformat()})
            await repo.update_schedule(session, team.id, turn.now, skip_dates=skipped)
            after, _ = upcoming(target + timedelta(days=7), skipped, view)
        already = [d for d, why in passed if why == SKIPPED_BY_LEAD]
        said = f"The round on {day_text(target, today)} is skipped."
        if already:
            said += f" (Already skipping {_days(already, today)}.)"
        if after is not None:
            said += f" The next round is on {day_text(after, today)}."
        turn.reply(said)

    async def _planned_day(self, session: AsyncSession, team_id: int) -> date | None:
        pending = await jobs_repo.pending_with_prefix(session, f"reflect:open:{team_id}:w:")
        return date.fromisoformat(str(pending[0].payload["day"])) if pending else None

    async def status(self, turn: Turn, _args: str) -> None:
        team = turn.require_team()
        view = await self.calendar.view(team.id)
        async with self.core.db.read() as session:
            schedule = await repo.get_schedule(session, team.id)
            planned = await self._planned_day(session, team.id)
            rounds = await repo.recent_rounds(session, team.id, limit=3)
            counts = [(r, await answers_repo.participation(session, r.id)) for r in rounds]
        today = self._today(team)
        fields: list[Field] = []
        if schedule is None:
            fields.append(Field("Schedule", text("none yet (/reflect schedule weekly fri 15:00)")))
        else:
            fields.append(
                Field(
                    "Schedule",
                    text(
                        f"{WEEKDAY_NAMES[schedule.weekday]}s at {schedule.at_time} local time, "
                        f"{'by DM' if schedule.mode == 'dm' else 'in the channel'}, "
                        f"{describe_codes(schedule.indicators)} ({schedule.state})"
                    ),
                )
            )
            if planned is not None:
                fields.append(
                    Field("Next round", text(next_round_text(planned, schedule, view, today)))
                )
        items = []
        for r, c in counts:
            if r.state == repo.SKIPPED:
                detail = f"skipped: {r.note}"
            else:
                detail = f"{c.answered} of {c.reached} answered ({r.state})"
            items.append(
                ListItem(text(f"{day_text(r.local_date, today)}, {r.indicator}: {detail}"))
            )
        blocks: list[Fields | ListBlock] = [Fields(tuple(fields))]
        if items:
            blocks.append(ListBlock(tuple(items), heading="Recent rounds"))
        turn.reply(OutMessage(title="Reflections", blocks=tuple(blocks)), private=True)

    async def report(self, turn: Turn, _args: str) -> None:
        team = turn.require_team()
        view = await self.calendar.view(team.id)
        today = self._today(team)
        since = view.term_start(today)
        async with self.core.db.read() as session:
            schedule = await repo.get_schedule(session, team.id)
            counts = await answers_repo.coverage(session, team.id, since)
        chosen = schedule.indicators if schedule else ALL_CODES
        shown = [i.code for i in INDICATORS if i.code in chosen or i.code in counts]
        bars = [
            Bar(f"{code} (asked {counts.get(code, (0, 0))[0]}x)", (counts.get(code, (0, 0))[1],))
            for code in shown
        ]
        chart = bar_chart(f"Answers by indicator since {since:%d %b %Y}", bars, unit="")
        missing = [code for code in chosen if counts.get(code, (0, 0))[0] == 0]
        note = (
            "Not asked yet this term: " + ", ".join(missing) + "."
            if missing
            else "Every chosen indicator has come up this term."
        )
        turn.reply(
            OutMessage(
                title="Reflection coverage this term",
                blocks=(chart, Section(text(note))),
                footer="Counts only: what people wrote stays with them unless they shared it.",
            ),
            private=True,
        )

    async def indicators(self, turn: Turn, _args: str) -> None:
        """The catalogue, with the improvement cycle's stages beside the indicator about it."""
        items = tuple(
            ListItem(
                text(label(i.code)),
                "the cycle is below" if i.code == CYCLE_INDICATOR else None,
            )
            for i in INDICATORS
        )
        stages = tuple(
            ListItem(text(f"{n}. {stage}")) for n, (_key, stage) in enumerate(IMPROVEMENT_CYCLE, 1)
        )
        turn.reply(
            OutMessage(
                title="Collaboration and Shared Accountability: the 14 indicators",
                blocks=(
                    ListBlock(items),
                    ListBlock(
                        stages,
                        heading=f"{label(CYCLE_INDICATOR)}: the cycle of continuous "
                        f"improvement ({CYCLE_SOURCE})",
                    ),
                ),
                footer="Use codes (B3) or letters for a group (A) in /reflect schedule.",
            ),
            private=True,
        )
