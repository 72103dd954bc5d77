"""Sending a round: each member's prompt, the channel prompt, one reminder, the digest.

Each member's prompt is one job keyed by its delivery, claimed with a lease, so two replicas
never both send it and a crashed replica's prompts are taken over when the lease runs out. A
429 becomes :class:`RetryLater` (the platform's Retry-After). Prompts due while plcbot was down
for longer than ``PLCBOT_REFLECT_GRACE`` are recorded as missed.

The one window for a duplicate prompt is between the platform accepting the message and the
commit that records it as sent (``_record_sent``): if the process dies in between, the job
runs again after its lease expires and that member gets the prompt twice. The handler returns
what it sent and the scheduler writes it in the transaction that marks the job done, straight
after the platform answers; prompts sent at the same moment share that transaction (a group
commit), so the window is a few milliseconds, plus at most one other group's commit when many
are in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.batching import GroupCall
from bot.context import Core
from bot.events import ConversationRef, MemberRef
from bot.outbox import conversation_ref, opened_direct, sent_to_json
from bot.ports import DeliveryError, RateLimited, SentMessage
from bot.reflection import messages
from bot.reflection.bank import PromptBank
from bot.reflection.calendar import SchoolCalendar
from bot.reflection.digest import build_digest
from bot.scheduler import RetryLater
from storage import identity
from storage import reflections as repo
from storage.identity import Member, Team
from storage.jobs import Job

log = logging.getLogger(__name__)

SEND, POST, REMIND, CLOSE = "reflect.send", "reflect.post", "reflect.remind", "reflect.close"


class Deliveries:
    def __init__(self, core: Core, calendar: SchoolCalendar, bank: PromptBank) -> None:
        self.core = core
        self.calendar = calendar
        self.bank = bank
        self._check = GroupCall(self._check_many)

    def register(self) -> None:
        s = self.core.scheduler
        s.register(
            SEND,
            self._on_send,
            on_expired=self._on_send_expired,
            record=self._record_sent,
            prepare=self._prepare_sends,
        )
        s.register(POST, self._on_post, on_expired=self._on_post_expired)
        s.register(REMIND, self._on_remind)
        s.register(CLOSE, self._on_close)

    # -- sending -----------------------------------------------------------------------------

    async def _load(self, delivery_id: int) -> tuple[repo.Delivery, Member, Team] | None:
        async with self.core.db.read() as session:
            delivery = await repo.get_delivery(session, delivery_id)
            if delivery is None:
                return None
            member = await identity.get_member(session, delivery.member_id)
            team = await identity.get_team(session, delivery.team_id)
        if member is None or team is None:
            return None
        return delivery, member, team

    async def _quiet_for(self, member: Member, team: Team) -> str | None:
        today = self.core.clock.now().astimezone(self.core.zone_for(member, team)).date()
        return (await self.calendar.view(team.id)).why_quiet(today)

    async def _check_many(
        self, keys: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], tuple[str, ConversationRef | None]]:
        """For (delivery, member) pairs: the delivery's state and the member's known DM."""
        async with self.core.db.read() as session:
            states = await repo.delivery_states(session, [d for d, _ in keys])
            directs = await identity.direct_conversations(session, [m for _, m in keys])
        return {
            (d, m): (states[d], conversation_ref(directs[m]) if m in directs else None)
            for d, m in keys
            if d in states
        }

    async def _prepare_sends(
        self, jobs: Sequence[Job]
    ) -> dict[int, tuple[str, ConversationRef | None]]:
        """A claimed batch's deliveries checked at once (see ``_on_send`` for when it is used)."""
        keys = {
            job.id: (int(job.payload["delivery_id"]), int(job.payload["member_id"])) for job in jobs
        }
        found = await self._check_many(list(keys.values()))
        return {job_id: found[key] for job_id, key in keys.items() if key in found}

    async def _record_sent(
        self, session: AsyncSession, sent: Sequence[tuple[int, SentMessage, int | None]]
    ) -> None:
        # The duplicate window closes here: from the platform's answer to this commit.
        now = self.core.clock.now()
        await repo.record_sent_many(session, [(d, sent_to_json(m)) for d, m, _ in sent], now)
        # Chats opened for this round are remembered: the next round needs no "open" calls.
        opened = [opened_direct(member_id, m) for _, m, member_id in sent if member_id is not None]
        await identity.save_direct_conversations(session, [o for o in opened if o], now)

    async def _on_send(self, job: Job) -> tuple[int, SentMessage, int | None] | None:
        """One member's prompt: check, send; the scheduler records what was sent with the job.

        Payload: everything needed to send.
        """
        p = job.payload
        delivery_id, member_id = int(p["delivery_id"]), int(p["member_id"])
        # A first attempt can use the check made when its batch was claimed: nothing but this
        # job sends this prompt, and nobody ran it before. A later attempt may follow a
        # replica whose lease ran out, so it looks again just before sending.
        found = job.context if job.attempts == 1 else None
        if found is None:
            found = await self._check((delivery_id, member_id))
        if found is None or found[0] != repo.PENDING:
            return None  # sent already (by a replica whose lease ran out), or skipped
        via = found[1]
        today = self.core.clock.now().astimezone(ZoneInfo(str(p["zone"]))).date()
        quiet = (await self.calendar.view(int(p["team_id"]))).why_quiet(today)
        if quiet is not None:
            async with self.core.db.write() as session:
                await repo.set_delivery_state(
                    session, delivery_id, repo.QUIET, only_from=(repo.PENDING,), error=quiet
                )
            return None
        member = MemberRef(
            str(p["platform"]), str(p["workspace"]), str(p["user_id"]), str(p["name"])
        )
        message = messages.prompt_message(delivery_id, str(p["indicator"]), str(p["prompt"]))
        try:
            messenger = self.core.outbox.messenger(member.platform)
            sent = await messenger.post_direct(member, message, via)
        except RateLimited as exc:
            raise RetryLater(exc.retry_after, f"rate limited sending prompt {delivery_id}") from exc
        except DeliveryError as exc:
            log.warning(
                "could not send a reflection prompt to %s (member %d): %s",
                member.display_name,
                member_id,
                exc,
            )
            async with self.core.db.write() as session:
                await repo.set_delivery_state(
                    session,
                    delivery_id,
                    repo.FAILED,
                    only_from=(repo.PENDING,),
                    error=str(exc)[:500],
                )
            return None
        return delivery_id, sent, member_id if via is None else None

    async def _on_send_expired(self, job: Job) -> None:
        async with self.core.db.write() as session:
            await repo.set_delivery_state(
                session,
                int(job.payload["delivery_id"]),
                repo.MISSED,
                only_from=(repo.PENDING,),
                error="due while plcbot was offline, past PLCBOT_REFLECT_GRACE",
            )

    async def _on_post(self, job: Job) -> None:
        round_id = int(job.payload["round_id"])
        async with self.core.db.read() as session:
            found = await repo.get_round(session, round_id)
            team = await identity.get_team(session, found.team_id) if found else None
            first = await repo.first_delivery(session, round_id)
        if found is None or team is None or first is None or first.state != repo.PENDING:
            return
        reason = (await self.calendar.view(team.id)).why_quiet(
            self.core.clock.now().astimezone(self.core.zone_for(None, team)).date()
        )
        if reason is not None:
            async with self.core.db.write() as session:
                await repo.set_round_deliveries(session, round_id, repo.QUIET, error=reason)
            return
        message = messages.channel_prompt(round_id, found.indicator, first.prompt_text)
        try:
            sent = await self.core.outbox.to_team(team, message)
        except RateLimited as exc:
            raise RetryLater(exc.retry_after, f"rate limited posting round {round_id}") from exc
        async with self.core.db.write() as session:
            await repo.set_round_deliveries(
                session,
                round_id,
                repo.SENT,
                sent_at=self.core.clock.now(),
                sent_ref=sent_to_json(sent),
            )

    async def _on_post_expired(self, job: Job) -> None:
        async with self.core.db.write() as session:
            await repo.set_round_deliveries(
                session, int(job.payload["round_id"]), repo.MISSED, error="plcbot was offline"
            )

    # -- reminding and closing ---------------------------------------------------------------

    async def _on_remind(self, job: Job) -> None:
        delivery_id = int(job.payload["delivery_id"])
        loaded = await self._load(delivery_id)
        if loaded is None:
            return
        delivery, member, team = loaded
        if delivery.state != repo.SENT:
            return  # answered, skipped, or never reached them
        if await self._quiet_for(member, team) is not None:
            return  # no reminder on a quiet day; one nudge is optional, so none replaces it
        message = messages.reminder_message(delivery_id, delivery.indicator, delivery.prompt_text)
        try:
            await self.core.outbox.to_member(member, message)
        except RateLimited as exc:
            raise RetryLater(exc.retry_after, f"rate limited reminding {delivery_id}") from exc
        except DeliveryError as exc:
            log.warning("could not send a reminder to member %d: %s", member.id, exc)
            return
        async with self.core.db.write() as session:
            await repo.mark_reminded(session, delivery_id, self.core.clock.now())

    async def _on_close(self, job: Job) -> None:
        round_id = int(job.payload["round_id"])
        async with self.core.db.read() as session:
            found = await repo.get_round(session, round_id)
            if found is None or found.state != repo.OPEN:
                return
            team = await identity.get_team(session, found.team_id)
            counts, digest = await build_digest(session, found, self.bank)
        if team is None:
            return
        if counts.reached == 0:  # nobody got the prompt (it fell on a quiet day): no digest
            async with self.core.db.write() as session:
                await repo.close_round(session, round_id, None)
            return
        try:
            sent = await self.core.outbox.to_team(team, digest)
        except RateLimited as exc:
            raise RetryLater(exc.retry_after, f"rate limited posting digest {round_id}") from exc
        async with self.core.db.write() as session:
            await repo.close_round(session, round_id, sent_to_json(sent))
