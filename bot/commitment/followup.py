"""The follow-up loop on durable jobs: reminder, "How did it go?", and the peers' check-in.

Per commitment there are at most four jobs, keyed ``commit:<id>:<step>`` so rescheduling moves
them and a restart loses nothing. Nudge times are worked out before the write transaction opens
(the school calendar may need its own database reads), then written with the commitment.
Every handler re-reads the commitment and does nothing if it moved on (done, re-dated, dropped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commitment import prompts
from bot.commitment.sending import send_scheduled
from bot.commitment.timing import Timing
from bot.context import Core
from bot.messages import OutMessage
from bot.scheduler import RetryLater
from storage import commitments as repo
from storage import identity
from storage.commitments import DONE, NOT_YET, OPEN, PARTLY, Commitment
from storage.identity import Member, Team
from storage.jobs import Job, NewJob

log = logging.getLogger(__name__)

REMIND = "commit.remind"
DUE = "commit.due"
SILENCE = "commit.silence"
PEER = "commit.peer"
SILENCE_DAYS = 2
PEER_WINDOW = timedelta(days=3)  # a check-in request later than this is stale
# The owner's "How did it go?" gives way to the peers' nudge once that is due. Without peers,
# and for the peers' nudge itself, nothing takes over: while the commitment is open they are
# sent however late plcbot gets to them (after downtime), or the loop would never close.
CHECK_IN_WINDOW = timedelta(days=2)


def key(commitment_id: int, step: str) -> str:
    return f"commit:{commitment_id}:{step.rsplit('.', 1)[-1]}"


@dataclass(frozen=True, slots=True)
class Nudges:
    remind_at: datetime | None
    due_at: datetime | None
    silence_at: datetime | None
    not_after_remind: datetime | None


class FollowUp:
    def __init__(self, core: Core, timing: Timing) -> None:
        self.core = core
        self.timing = timing

    def register(self) -> None:
        scheduler = self.core.scheduler
        scheduler.register(REMIND, self.remind)
        scheduler.register(DUE, self.due)
        scheduler.register(SILENCE, self.silence)
        scheduler.register(PEER, self.peer)

    # -- planning ----------------------------------------------------------------------------

    async def nudges(self, team: Team, owner: Member, due_on: date, has_peers: bool) -> Nudges:
        zone = self.core.zone_for(owner, team)
        now = self.core.clock.now()
        remind_at = await self.timing.reminder(team.id, due_on, zone, now)
        due_at = await self.timing.on_or_after(team.id, due_on, zone, now)
        silence_at = None
        if has_peers and due_at is not None:
            later = due_at.astimezone(zone).date() + timedelta(days=SILENCE_DAYS)
            silence_at = await self.timing.on_or_after(team.id, later, zone, now)
        start_of_due = datetime.combine(due_on, time(0), tzinfo=zone).astimezone(UTC)
        return Nudges(remind_at, due_at, silence_at, start_of_due)

    async def peer_time(self, team: Team, owner: Member) -> datetime | None:
        zone = self.core.zone_for(owner, team)
        return await self.timing.soon(team.id, zone, self.core.clock.now())

    async def apply(self, session: AsyncSession, c: Commitment, nudges: Nudges) -> None:
        """(Re)schedule the owner's nudges for an open commitment; cancel them otherwise."""
        scheduler = self.core.scheduler
        planned = self._planned(c, nudges)
        wanted = {kind for kind, _job in planned}
        for kind in (REMIND, DUE, SILENCE):
            if kind not in wanted:
                await scheduler.cancel_in(session, key(c.id, kind))
        await scheduler.schedule_each_in(session, planned)

    async def apply_new(
        self, session: AsyncSession, made: Sequence[tuple[Commitment, Nudges]]
    ) -> None:
        """Schedule the nudges of commitments made in this transaction, in one statement.

        They have no nudges to cancel, and each statement saved counts: SQLite takes one
        writer at a time."""
        planned = [job for c, nudges in made for job in self._planned(c, nudges)]
        await self.core.scheduler.schedule_each_in(session, planned)

    def _planned(self, c: Commitment, nudges: Nudges) -> list[tuple[str, NewJob]]:
        payload = {"id": c.id, "due": c.due_on.isoformat()}
        wanted = {
            REMIND: (nudges.remind_at, nudges.not_after_remind),
            DUE: (
                nudges.due_at,
                None
                if nudges.due_at is None or nudges.silence_at is None
                else nudges.due_at + CHECK_IN_WINDOW,
            ),
            SILENCE: (nudges.silence_at, None),
        }
        return [
            (kind, NewJob(key(c.id, kind), due_at, payload, not_after))
            for kind, (due_at, not_after) in wanted.items()
            if c.status == OPEN and due_at is not None
        ]

    async def stop_chasing(self, session: AsyncSession, c: Commitment) -> None:
        for kind in (REMIND, DUE, SILENCE):
            await self.core.scheduler.cancel_in(session, key(c.id, kind))

    async def ask_peers(self, session: AsyncSession, c: Commitment, at: datetime | None) -> bool:
        """Plan the peers' check-in after a report; False when there is nobody or no time."""
        if not c.peers or at is None:
            return False
        await self.core.scheduler.schedule_in(
            session,
            kind=PEER,
            key=key(c.id, PEER),
            due_at=at,
            payload={"id": c.id, "status": c.status},
            not_after=at + PEER_WINDOW,
        )
        return True

    # -- running -----------------------------------------------------------------------------

    async def _load(self, job: Job) -> tuple[Commitment, Member, Team] | None:
        async with self.core.db.read() as session:
            c = await repo.get(session, int(job.payload["id"]))
            if c is None:
                return None
            owner = await identity.get_member(session, c.owner.member_id)
            team = await identity.get_team(session, c.team_id)
        if owner is None or team is None:
            return None
        return c, owner, team

    async def _current(self, job: Job) -> tuple[Commitment, Member, Team] | None:
        """The commitment, if this owner nudge still applies (open, same due date)."""
        loaded = await self._load(job)
        if loaded is None:
            return None
        c = loaded[0]
        if c.status != OPEN or c.due_on.isoformat() != job.payload.get("due"):
            log.info("skipping %s: commitment %s changed since it was planned", job.key, c.id)
            return None
        return loaded

    async def _wait_if_quiet(self, job: Job, owner: Member, team: Team) -> date | None:
        """Today in the owner's zone; a quiet day (added to the calendar since) defers the job.

        The reminder is skipped instead: on another day it would no longer be "the day before".
        """
        zone = self.core.zone_for(owner, team)
        now = self.core.clock.now()
        today = now.astimezone(zone).date()
        if not await self.timing.quiet.is_quiet(team.id, today):
            return today
        if job.kind == REMIND:
            log.info("skipping %s: today became a quiet day", job.key)
            return None
        later = await self.timing.on_or_after(team.id, today + timedelta(days=1), zone, now)
        if later is None:
            log.info("skipping %s: no school day left in the calendar", job.key)
            return None
        raise RetryLater((later - now).total_seconds(), "a quiet day; waiting for a school day")

    async def remind(self, job: Job) -> None:
        await self._to_owner(job, "the reminder", prompts.reminder)

    async def due(self, job: Job) -> None:
        await self._to_owner(job, "the check-in", prompts.check_in)

    async def _to_owner(
        self, job: Job, what: str, build: Callable[[Commitment, date], OutMessage]
    ) -> None:
        """A nudge to the owner, if the commitment still wants it and today is a school day."""
        loaded = await self._current(job)
        if loaded is None:
            return
        c, owner, team = loaded
        today = await self._wait_if_quiet(job, owner, team)
        if today is None:
            return
        await send_scheduled(
            f"{what} for commitment {c.id}",
            self.core.outbox.to_member(owner, build(c, today)),
        )

    async def silence(self, job: Job) -> None:
        loaded = await self._current(job)
        if loaded is None:
            return
        c, owner, team = loaded
        if await self._wait_if_quiet(job, owner, team) is None:
            return
        await self._ask(c, team, reported=None)

    async def peer(self, job: Job) -> None:
        loaded = await self._load(job)
        if loaded is None:
            return
        c, owner, team = loaded
        reported = c.status
        if c.status == OPEN and job.payload.get("status") == NOT_YET:
            reported = NOT_YET  # "not yet", and already re-dated for another go
        if reported not in (DONE, PARTLY, NOT_YET):
            log.info("skipping %s: commitment %s is %s", job.key, c.id, c.status)
            return
        if await self._wait_if_quiet(job, owner, team) is None:
            return
        await self._ask(c, team, reported=reported)

    async def _ask(self, c: Commitment, team: Team, *, reported: str | None) -> None:
        """Ask each peer to check in: after a report (its status), or after silence (None)."""
        async with self.core.db.read() as session:
            peers = [await identity.get_member(session, p.member_id) for p in c.peers]
        sent = False
        for peer in peers:
            if peer is None:
                continue
            today = self.core.clock.now().astimezone(self.core.zone_for(peer, team)).date()
            sent |= await send_scheduled(
                f"the check-in request for commitment {c.id} to member {peer.id}",
                self.core.outbox.to_member(peer, prompts.peer_request(c, today, reported=reported)),
            )
        if sent:
            now = self.core.clock.now()
            async with self.core.db.write() as session:
                await repo.mark_peers_asked(session, c.id, now)
                await repo.add_history(
                    session,
                    c.id,
                    now,
                    None,
                    "asked",
                    {"reason": "silence" if reported is None else "reported"},
                )
