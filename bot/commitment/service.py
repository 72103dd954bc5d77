"""Changing commitments: each change is one transaction with its history row and its jobs
(new commitments made at the same moment share one: :meth:`CommitmentService.create`).

Announcements (the team note, a peer's message) go out after the commit, so a platform that is
down never loses a saved change; see :mod:`bot.commitment.sending`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.batching import GroupCall
from bot.commitment import prompts
from bot.commitment.followup import FollowUp, Nudges
from bot.commitment.inputs import Changes, Plan
from bot.commitment.sending import send_now
from bot.commitment.views import team_note
from bot.context import Core
from bot.errors import UserError
from bot.people import admit_all
from storage import commitments as repo
from storage import identity
from storage.commitments import (
    CONFIRMED,
    DROPPED,
    NOT_YET,
    OPEN,
    PENDING,
    PRIVATE,
    SHARED,
    Commitment,
    Person,
)
from storage.identity import Member, Team


@dataclass(frozen=True, slots=True)
class Reported:
    commitment: Commitment
    changed: bool  # False for a double tap: the same outcome, already recorded
    asking_peers: bool  # the peers will hear about this report


@dataclass(eq=False, slots=True)
class _Making:
    """One :meth:`CommitmentService.create` call, waiting for the transaction that stores it."""

    plan: Plan
    draft_id: int | None
    nudges: Nudges
    now: datetime


class _NotStored(Exception):
    """A group's statements failed, so its transaction was rolled back before any commit."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _answered(became: Commitment | None) -> UserError:
    return UserError(
        "You already answered this proposal"
        + (f" (it became commitment {became.ref})." if became is not None else ".")
        + " See /commitments."
    )


class CommitmentService:
    def __init__(self, core: Core, followup: FollowUp) -> None:
        self.core = core
        self.followup = followup
        self._making: GroupCall[_Making, Commitment | Exception] = GroupCall(self._make_many)

    def _today(self, member: Member, team: Team) -> date:
        return self.core.clock.now().astimezone(self.core.zone_for(member, team)).date()

    async def _reload(self, session: Any, commitment_id: int) -> Commitment:
        found = await repo.get(session, commitment_id)
        if found is None:
            raise UserError("That commitment no longer exists.")
        return found

    # -- making ------------------------------------------------------------------------------

    async def create(self, plan: Plan, *, draft_id: int | None = None) -> Commitment:
        """Store a new commitment (from a draft: confirm it), with its history and nudges.

        Calls that arrive while a commitment is being stored wait and are stored together, in
        one transaction and a few statements for all of them (:class:`bot.batching.GroupCall`):
        when a meeting ends and everyone types ``/commit`` at once, a transaction's own cost is
        paid once per group instead of once each, while SQLite's one writer is held.
        """
        nudges = await self.followup.nudges(plan.team, plan.owner, plan.due_on, bool(plan.peers))
        made = await self._making(_Making(plan, draft_id, nudges, self.core.clock.now()))
        if isinstance(made, Exception):
            raise made
        assert made is not None  # every call gets its own outcome
        return made

    async def _make_many(self, batch: Sequence[_Making]) -> dict[_Making, Commitment | Exception]:
        try:
            return await self._make(batch)
        except _NotStored as failed:
            if len(batch) == 1:
                raise failed.error from None
        # One call's failure is not the others': each again, in a transaction of its own. Only
        # when nothing was committed: a failure at the commit itself may have stored them all.
        outcomes: dict[_Making, Commitment | Exception] = {}
        for making in batch:
            try:
                outcomes.update(await self._make([making]))
            except _NotStored as failed:
                outcomes[making] = failed.error
        return outcomes

    async def _make(self, batch: Sequence[_Making]) -> dict[_Making, Commitment | Exception]:
        async with self.core.db.write() as session:
            try:
                return await self._store(session, batch)
            except Exception as exc:
                raise _NotStored(exc) from exc

    async def _store(
        self, session: AsyncSession, batch: Sequence[_Making]
    ) -> dict[_Making, Commitment | Exception]:
        """The statements of :meth:`_make`: each call's commitment, or why it was refused."""
        outcomes: dict[_Making, Commitment | Exception] = {}
        drafts: dict[int, _Making] = {}
        twice: list[_Making] = []  # the same proposal confirmed again in this group
        for making in batch:
            if making.draft_id is None:
                continue
            if making.draft_id in drafts:
                twice.append(making)
                continue
            draft = await repo.get_draft(session, making.draft_id, for_update=True)
            if draft is None or draft.state != PENDING:
                became = None
                if draft is not None and draft.commitment_id is not None:
                    became = await repo.get(session, draft.commitment_id)
                outcomes[making] = _answered(became)
            else:
                drafts[making.draft_id] = making
        going = [making for making in batch if making not in outcomes and making not in twice]
        if not going:
            return outcomes
        peers = [
            await admit_all(session, making.plan.team, making.plan.peers, making.now)
            for making in going
        ]
        numbers = await repo.next_numbers(session, Counter(making.plan.team.id for making in going))
        new = []
        for making, named in zip(going, peers, strict=True):
            plan = making.plan
            number = numbers[plan.team.id]
            numbers[plan.team.id] += 1
            values = {
                "team_id": plan.team.id,
                "number": number,
                "owner_id": plan.owner.id,
                "what": plan.what,
                "how_know": plan.how_know,
                "due_on": plan.due_on,
                "status": OPEN,
                "visibility": plan.visibility,
                "indicators": list(plan.indicators),
                "session_id": plan.session_id,
                "created_at": making.now,
                "updated_at": making.now,
            }
            owner = Person(plan.owner.id, plan.owner.user_id, plan.owner.display_name)
            people = [Person(p.id, p.user_id, p.display_name) for p in named]
            new.append(repo.NewCommitment(values, owner, people))
        made = dict(zip(going, await repo.insert_many(session, new), strict=True))
        outcomes.update(made)
        await repo.add_history_many(
            session,
            [
                repo.HistoryRow(
                    c.id,
                    making.now,
                    making.plan.owner.id,
                    "created",
                    {"session": making.plan.session_id} if making.plan.session_id else {},
                )
                for making, c in made.items()
            ],
        )
        for draft_id, making in drafts.items():
            await repo.decide_draft(session, draft_id, CONFIRMED, making.now, made[making].id)
        for making in twice:
            assert making.draft_id is not None
            outcomes[making] = _answered(made[drafts[making.draft_id]])
        await self.followup.apply_new(session, [(c, making.nudges) for making, c in made.items()])
        return outcomes

    async def announce(self, c: Commitment, team: Team, *, in_channel_reply: bool) -> None:
        """Tell the team (shared) or the named peers (private) about a new commitment.

        ``in_channel_reply``: the caller's public reply in the channel is the team note already.
        """
        today = self._today_team(team)
        if c.visibility == SHARED and not in_channel_reply:
            await send_now(
                f"the team note for commitment {c.id}",
                self.core.outbox.to_team(team, team_note(c, today)),
            )
        if c.visibility == PRIVATE:
            await self._tell_peers(c, team, [p.member_id for p in c.peers])

    async def _tell_peers(self, c: Commitment, team: Team, member_ids: Sequence[int]) -> None:
        today = self._today_team(team)
        for peer in await self._members(member_ids):
            await send_now(
                f"the peer notice for commitment {c.id}",
                self.core.outbox.to_member(peer, prompts.named_as_peer(c, today)),
            )

    def _today_team(self, team: Team) -> date:
        return self.core.clock.now().astimezone(self.core.zone_for(None, team)).date()

    async def _members(self, member_ids: Sequence[int]) -> list[Member]:
        async with self.core.db.read() as session:
            found = [await identity.get_member(session, m) for m in member_ids]
        return [m for m in found if m is not None]

    # -- changing ----------------------------------------------------------------------------

    async def edit(self, c: Commitment, actor: Member, team: Team, changes: Changes) -> Commitment:
        due_on = changes.due_on or c.due_on
        has_peers = bool(changes.peers) if changes.peers is not None else bool(c.peers)
        nudges = await self.followup.nudges(team, actor, due_on, has_peers)
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            await repo.lock(session, c.id)
            current = await self._reload(session, c.id)
            values: dict[str, Any] = {}
            shown: dict[str, Any] = {}
            if changes.what is not None and changes.what != current.what:
                values["what"] = shown["what"] = changes.what
            if changes.due_on is not None and changes.due_on != current.due_on:
                values["due_on"] = changes.due_on
                shown["due date"] = changes.due_on.isoformat()
                if current.status == NOT_YET:
                    values["status"] = OPEN  # a new date is a new attempt
            if changes.how_know is not None and (changes.how_know or None) != current.how_know:
                values["how_know"] = changes.how_know or None
                shown["how I'll know"] = changes.how_know
            if changes.indicators is not None and changes.indicators != current.indicators:
                values["indicators"] = list(changes.indicators)
                shown["indicators"] = ", ".join(changes.indicators)
            if changes.visibility is not None and changes.visibility != current.visibility:
                values["visibility"] = shown["visibility"] = changes.visibility
            added: list[int] = []
            if changes.peers is not None:
                peers = await admit_all(session, team, changes.peers, now)
                before = {p.member_id for p in current.peers}
                if {p.id for p in peers} != before:
                    await repo.set_peers(session, c.id, [p.id for p in peers])
                    shown["peers"] = ", ".join(p.display_name for p in peers)
                    added = [p.id for p in peers if p.id not in before]
            if not shown:
                return current
            await repo.change(session, c.id, updated_at=now, **values)
            await repo.add_history(session, c.id, now, actor.id, "edited", {"changes": shown})
            updated = await self._reload(session, c.id)
            await self.followup.apply(session, updated, nudges)
        if "visibility" in shown and updated.visibility == SHARED:
            # The team note names every peer, the new ones too.
            await self.announce(updated, team, in_channel_reply=False)
        elif added:
            await self._tell_peers(updated, team, added)
        return updated

    async def report(
        self, c: Commitment, actor: Member, team: Team, status: str, note: str | None
    ) -> Reported:
        """Record an outcome (not again on a double tap).

        The peers are asked to check in about the first report only: a correction made before
        they are asked updates what they will hear, and a later report is the owner's own news
        to pass on (/commitments reply).
        """
        peer_at = await self.followup.peer_time(team, actor)
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            await repo.lock(session, c.id)
            current = await self._reload(session, c.id)
            if current.status == status and note is None:
                return Reported(current, changed=False, asking_peers=False)
            values: dict[str, Any] = {"status": status, "updated_at": now, "reported_at": now}
            if note is not None:
                values["outcome_note"] = note
            await repo.change(session, c.id, **values)
            detail: dict[str, Any] = {"from": current.status, "to": status}
            if note:
                detail["note"] = note
            await repo.add_history(session, c.id, now, actor.id, "status", detail)
            updated = await self._reload(session, c.id)
            await self.followup.stop_chasing(session, updated)
            asking = False
            if status != DROPPED and not await repo.asked_about_a_report(session, c.id):
                asking = await self.followup.ask_peers(session, updated, peer_at)
        return Reported(updated, changed=True, asking_peers=asking)

    async def add_note(self, c: Commitment, actor: Member, note: str) -> Commitment:
        return await self._outcome_detail(c, actor, "note", outcome_note=note)

    async def add_link(self, c: Commitment, actor: Member, link: str | None) -> Commitment:
        return await self._outcome_detail(c, actor, "link", evidence_url=link)

    async def _outcome_detail(
        self, c: Commitment, actor: Member, kind: str, **values: Any
    ) -> Commitment:
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            await repo.change(session, c.id, updated_at=now, **values)
            detail = {"note": values["outcome_note"]} if kind == "note" else {}
            await repo.add_history(session, c.id, now, actor.id, kind, detail)
            return await self._reload(session, c.id)

    async def share(self, c: Commitment, actor: Member, team: Team) -> Commitment:
        """Post the outcome in the team's channel; a private commitment becomes shared."""
        if c.status == OPEN:
            raise UserError(
                f"Tell me how {c.ref} went first (/commitments done {c.number}, partly or "
                "not-yet), then share it."
            )
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            await repo.change(
                session, c.id, outcome_shared_at=now, visibility=SHARED, updated_at=now
            )
            await repo.add_history(session, c.id, now, actor.id, "shared")
            updated = await self._reload(session, c.id)
        sent = await send_now(
            f"the shared outcome of commitment {c.id}",
            self.core.outbox.to_team(team, prompts.shared_outcome(updated, self._today_team(team))),
        )
        if not sent:
            raise UserError(
                "I couldn't post in the team's channel just now. It's recorded as shared; "
                f"try /commitments share {c.number} again in a while."
            )
        return updated

    async def message(self, c: Commitment, sender: Member, words: str) -> list[Person]:
        """A note between owner and peers: the owner's goes to the peers, a peer's to the owner."""
        if c.is_owner(sender.id):
            to: list[Person] = list(c.peers)
            if not to:
                raise UserError(
                    f"{c.ref} has no peers to write to. Add one with /commitments edit "
                    f"{c.number} with @name."
                )
        elif c.is_peer(sender.id):
            to = [c.owner]
        else:
            raise UserError(
                f"Only {c.owner.name} and the peers named on {c.ref} can write about it."
            )
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            if c.is_peer(sender.id):
                await repo.mark_peer_replied(session, c.id, sender.id, now)
            await repo.add_history(
                session,
                c.id,
                now,
                sender.id,
                "message",
                {"to": ", ".join(p.name for p in to), "text": words},
            )
        me = Person(sender.id, sender.user_id, sender.display_name)
        reply_to = sender.display_name
        delivered: list[Person] = []
        for member in await self._members([p.member_id for p in to]):
            sent = await send_now(
                f"a note about commitment {c.id} to member {member.id}",
                self.core.outbox.to_member(
                    member, prompts.note_from(c, me, words, reply_to=reply_to)
                ),
            )
            if sent:
                delivered += [p for p in to if p.member_id == member.id]
        return delivered
