"""Reflection rounds as durable jobs: planning the next occurrence and opening a round.

Never doubled: a round is a row unique per (team, occurrence), so opening it twice does nothing;
each member's prompt is one delivery row unique per (round, member) and one job keyed by the
delivery (see :mod:`bot.reflection.delivery` for sending). Never lost: every step is a job in
the database, retried after a crash (when its lease runs out); after downtime, a round missed
by no more than ``PLCBOT_REFLECT_GRACE`` still opens and older ones are recorded as skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Core
from bot.indicators import INDICATORS
from bot.reflection.bank import Prompt, PromptBank
from bot.reflection.calendar import SchoolCalendar
from bot.reflection.config import ReflectionConfig
from bot.reflection.delivery import CLOSE, POST, REMIND, SEND, Deliveries
from bot.reflection.rotation import pick_indicator, pick_prompt, pick_shared_prompt
from bot.reflection.timing import SchoolDays, local_moment, weekday_on_or_after
from storage import identity
from storage import reflection_answers as answers_repo
from storage import reflections as repo
from storage.identity import Member, Team
from storage.jobs import Job, NewJob

log = logging.getLogger(__name__)

OPEN = "reflect.open"
ALL_CODES = tuple(i.code for i in INDICATORS)


def open_key(team_id: int, round_key: str) -> str:
    return f"reflect:open:{team_id}:{round_key}"


@dataclass(frozen=True)
class Opened:
    round: repo.Round | None  # None: this occurrence existed already
    reason: str | None = None  # why it was skipped


class Rounds:
    def __init__(
        self, core: Core, calendar: SchoolCalendar, bank: PromptBank, config: ReflectionConfig
    ) -> None:
        self.core = core
        self.calendar = calendar
        self.bank = bank
        self.config = config
        self.deliveries = Deliveries(core, calendar, bank)

    def register(self) -> None:
        self.core.scheduler.register(OPEN, self._on_open, on_expired=self._on_open_expired)
        self.deliveries.register()

    # -- planning ----------------------------------------------------------------------------

    async def plan_next(
        self,
        session: AsyncSession,
        team: Team,
        schedule: repo.Schedule,
        after: date,
        *,
        replace: bool = False,
    ) -> date:
        """Schedule the wake-up for the first occurrence on or after ``after``.

        Chaining from one round to the next never replaces (the key makes it once per date);
        a lead's change does (``replace``), so a wake-up cancelled by ``pause`` or by a new
        time comes back. Opening twice is still harmless: the round itself is unique.
        """
        day = weekday_on_or_after(after, schedule.weekday)
        zones = {self.core.zone_for(None, team)}
        for name in await repo.member_timezones(session, team.id):
            zone = _known_zone(name)
            if zone is not None:
                zones.add(zone)
        # Open when the first member's local time arrives (the earliest time zone).
        due = min(local_moment(day, schedule.at_time, zone) for zone in zones)
        round_key = f"w:{day.isoformat()}"
        await self.core.scheduler.schedule_in(
            session,
            kind=OPEN,
            key=open_key(team.id, round_key),
            due_at=due,
            payload={"team_id": team.id, "round_key": round_key, "day": day.isoformat()},
            not_after=due + self.config.grace,
            replace=replace,
        )
        return day

    async def cancel_planned(self, session: AsyncSession, team_id: int) -> None:
        await self.core.scheduler.cancel_prefix_in(session, f"reflect:open:{team_id}:w:")

    # -- opening a round ---------------------------------------------------------------------

    async def _on_open(self, job: Job) -> None:
        team_id = int(job.payload["team_id"])
        day = date.fromisoformat(str(job.payload["day"]))
        async with self.core.db.write() as session:
            schedule = await repo.get_schedule(session, team_id, for_update=True)
            team = await identity.get_team(session, team_id)
            if schedule is None or team is None or schedule.state != "active":
                return  # paused or switched off since this was planned
            if day.isoformat() in schedule.skip_dates:
                reason: str | None = "skipped by a lead"
            else:
                reason = (await self.calendar.view(team_id)).why_quiet(day)
            await self.open_round(
                session,
                team,
                round_key=str(job.payload["round_key"]),
                day=day,
                at_time=schedule.at_time,
                indicators=schedule.indicators,
                mode=schedule.mode,
                skip_reason=reason,
            )
            await self.plan_next(session, team, schedule, day + timedelta(days=1))

    async def _on_open_expired(self, job: Job) -> None:
        team_id = int(job.payload["team_id"])
        day = date.fromisoformat(str(job.payload["day"]))
        log.warning(
            "team %d: the reflection round of %s was due while plcbot was not running and is "
            "past the grace window (PLCBOT_REFLECT_GRACE); recording it as skipped",
            team_id,
            day,
        )
        async with self.core.db.write() as session:
            schedule = await repo.get_schedule(session, team_id, for_update=True)
            team = await identity.get_team(session, team_id)
            if schedule is None or team is None or schedule.state != "active":
                return
            await self.open_round(
                session,
                team,
                round_key=str(job.payload["round_key"]),
                day=day,
                at_time=schedule.at_time,
                indicators=schedule.indicators,
                mode=schedule.mode,
                skip_reason="missed while plcbot was offline",
            )
            await self.plan_next(session, team, schedule, day + timedelta(days=1))

    async def open_round(
        self,
        session: AsyncSession,
        team: Team,
        *,
        round_key: str,
        day: date,
        at_time: str | None,
        indicators: tuple[str, ...],
        mode: str,
        skip_reason: str | None = None,
    ) -> Opened:
        """Create the round, its deliveries and their jobs in the caller's transaction.

        ``at_time`` None means "now" for everyone (``/reflect now``); otherwise each member's
        prompt is due at that wall time in their own zone on ``day``.
        """
        now = self.core.clock.now()
        team_zone = self.core.zone_for(None, team)
        chosen = indicators or ALL_CODES
        view = await self.calendar.view(team.id)
        members = [] if skip_reason else await identity.team_members(session, team.id)
        if not skip_reason and not members:
            skip_reason = "the team has no members yet"
        if skip_reason:
            created = await repo.create_round(
                session,
                team_id=team.id,
                round_key=round_key,
                local_date=day,
                indicator=chosen[0],
                mode=mode,
                state=repo.SKIPPED,
                note=skip_reason[:200],
                opens_at=now,
                closes_at=now,
                now=now,
            )
            return Opened(created, skip_reason)

        asked, last = await self._asked_this_term(session, team.id, view.term_start(day))
        indicator = pick_indicator(chosen, asked, last)
        prompts = await self._prompts_for(session, team.id, indicator)
        member_ids = [tm.member.id for tm in members]
        recent = await repo.recent_prompt_ids(session, team.id, member_ids)

        due: dict[int, datetime] = {}
        for tm in members:
            zone = self.core.zone_for(tm.member, team)
            moment = local_moment(day, at_time, zone) if at_time else now
            due[tm.member.id] = max(moment, now)
        closes_at = self._closing_time(view, day, at_time, team_zone, now, max(due.values()))
        created = await repo.create_round(
            session,
            team_id=team.id,
            round_key=round_key,
            local_date=day,
            indicator=indicator,
            mode=mode,
            state=repo.OPEN,
            opens_at=min(due.values()),
            closes_at=closes_at,
            now=now,
        )
        if created is None:
            return Opened(None)

        shared_prompt = None
        if mode == "channel":
            shared_prompt = pick_shared_prompt(prompts, list(recent.values()), created.id)
        rows: list[dict[str, Any]] = []
        for n, tm in enumerate(members):
            prompt = shared_prompt or pick_prompt(prompts, recent.get(tm.member.id, []), n)
            rows.append(
                {
                    "team_id": team.id,
                    "member_id": tm.member.id,
                    "indicator": indicator,
                    "prompt_id": prompt.id,
                    "prompt_text": prompt.text,
                    "due_at": due[tm.member.id],
                    "state": repo.PENDING,
                }
            )
        ids = await repo.add_deliveries(session, created.id, rows)
        people = {tm.member.id: tm.member for tm in members}
        by_member = {r["member_id"]: r for r in rows}
        await self._schedule_jobs(
            session, team, created, ids, due, people, by_member, view, day, at_time
        )
        return Opened(created)

    async def _schedule_jobs(
        self,
        session: AsyncSession,
        team: Team,
        opened: repo.Round,
        ids: dict[int, int],
        due: dict[int, datetime],
        people: dict[int, Member],
        rows: Mapping[int, Mapping[str, Any]],
        view: SchoolDays,
        day: date,
        at_time: str | None,
    ) -> None:
        scheduler, grace = self.core.scheduler, self.config.grace
        if opened.mode == "channel":
            post_at = min(due.values())
            await scheduler.schedule_in(
                session,
                kind=POST,
                key=f"reflect:post:{opened.id}",
                due_at=post_at,
                payload={"round_id": opened.id},
                not_after=post_at + grace,
                replace=False,
            )
        else:
            await scheduler.schedule_many_in(
                session,
                kind=SEND,
                jobs=[
                    NewJob(
                        f"reflect:send:{delivery_id}",
                        due[member_id],
                        self._send_payload(team, people[member_id], delivery_id, rows[member_id]),
                        due[member_id] + grace,
                    )
                    for member_id, delivery_id in ids.items()
                ],
            )
        reminder_day = (
            view.add_school_days(day, self.config.reminder_days)
            if self.config.reminder_days
            else None
        )
        if reminder_day is not None:
            reminders = []
            for member_id, delivery_id in ids.items():
                zone = self.core.zone_for(people.get(member_id), team)
                at = local_moment(reminder_day, at_time, zone) if at_time else None
                at = at or due[member_id] + (opened.closes_at - opened.opens_at) / 2
                if due[member_id] < at < opened.closes_at:
                    reminders.append(
                        NewJob(
                            f"reflect:remind:{delivery_id}",
                            at,
                            {"delivery_id": delivery_id},
                            opened.closes_at,
                        )
                    )
            await scheduler.schedule_many_in(session, kind=REMIND, jobs=reminders)
        await scheduler.schedule_in(
            session,
            kind=CLOSE,
            key=f"reflect:close:{opened.id}",
            due_at=opened.closes_at,
            payload={"round_id": opened.id},
            replace=False,
        )

    def _send_payload(
        self, team: Team, member: Member, delivery_id: int, row: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "delivery_id": delivery_id,
            "member_id": member.id,
            "team_id": team.id,
            "platform": member.platform,
            "workspace": member.workspace_external_id,
            "user_id": member.user_id,
            "name": member.display_name,
            "zone": self.core.zone_for(member, team).key,
            "indicator": row["indicator"],
            "prompt": row["prompt_text"],
        }

    def _closing_time(
        self,
        view: SchoolDays,
        day: date,
        at_time: str | None,
        team_zone: Any,
        now: datetime,
        last_due: datetime,
    ) -> datetime:
        close_day = view.add_school_days(day, self.config.window_days)
        if close_day is None:  # the school year ends first: close at the end of its last day
            close_day = day + timedelta(days=self.config.window_days)
        if at_time is None:
            at_time = now.astimezone(team_zone).strftime("%H:%M")
        closes = local_moment(close_day, at_time, team_zone)
        return max(closes, last_due + timedelta(hours=1))

    async def _asked_this_term(
        self, session: AsyncSession, team_id: int, since: date
    ) -> tuple[dict[str, int], str | None]:
        counts = await answers_repo.coverage(session, team_id, since)
        asked = {code: rounds for code, (rounds, _answers) in counts.items()}
        last_rounds = [
            r for r in await repo.recent_rounds(session, team_id, limit=5) if r.state != "skipped"
        ]
        return asked, (last_rounds[0].indicator if last_rounds else None)

    async def _prompts_for(self, session: AsyncSession, team_id: int, code: str) -> list[Prompt]:
        own = [
            Prompt(f"t{p.id}", p.indicator, p.body)
            for p in await answers_repo.team_prompts(session, team_id)
            if p.indicator == code
        ]
        return [*self.bank.for_indicator(code), *own]


def _known_zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (KeyError, ValueError):  # a zone this machine doesn't know: Core.zone_for falls back
        return None
