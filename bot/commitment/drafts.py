"""Next steps from a protocol session, confirmed (or edited) by their owners as commitments.

The protocols feature calls :meth:`Drafts.propose` at a session's end (the ``CommitmentDrafts``
port). Each owner gets a private form prefilled from what they said: the step, a due date
(theirs if they named one, else a week on), peers they mentioned, the indicators. Nothing is a
commitment until its owner confirms it; a draft can be confirmed once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.commitment import forms
from bot.commitment.dates import parse_due
from bot.commitment.grammar import CommitText, parse_commit_text
from bot.commitment.inputs import parse_text, plan_from_form, plan_from_text, today_for
from bot.commitment.sending import send_now
from bot.commitment.service import CommitmentService
from bot.commitment.timing import Timing
from bot.commitment.views import created_reply
from bot.context import Core
from bot.errors import UserError
from bot.messages import Button, OutMessage, Section, text
from bot.parsing import clean_text, first_word
from bot.ports import ProposedCommitment
from bot.turn import Turn
from storage import commitments as repo
from storage import identity
from storage.commitments import PENDING, SKIPPED, Draft
from storage.identity import Member, Team

log = logging.getLogger(__name__)

SKIP = "commit.skip"
DEFAULT_DAYS = 7


@dataclass(frozen=True, slots=True)
class Prefill:
    parts: CommitText
    due: date


class Drafts:
    def __init__(self, core: Core, service: CommitmentService, timing: Timing) -> None:
        self.core = core
        self.service = service
        self.timing = timing

    # -- proposing (called by the protocols feature) -----------------------------------------

    async def propose(self, proposals: Sequence[ProposedCommitment]) -> None:
        for proposal in proposals:
            try:
                await self._propose(proposal)
            except Exception:
                log.exception(
                    "could not propose a commitment to member %s of team %s",
                    proposal.owner_member_id,
                    proposal.team_id,
                )

    async def _propose(self, proposal: ProposedCommitment) -> None:
        words = clean_text(proposal.text, limit=10_000, allow_empty=True)[: forms.WHAT_LIMIT]
        if not words:
            return
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            team = await identity.get_team(session, proposal.team_id)
            owner = await identity.get_member(session, proposal.owner_member_id)
            role = await identity.role_in(session, proposal.team_id, proposal.owner_member_id)
            if team is None or owner is None or role is None:
                log.warning(
                    "not proposing a commitment: member %s is not in team %s",
                    proposal.owner_member_id,
                    proposal.team_id,
                )
                return
            draft, new = await repo.add_draft(
                session,
                team_id=team.id,
                owner_id=owner.id,
                session_id=proposal.session_id,
                text=words,
                indicators=proposal.indicators,
                now=now,
            )
        if new:
            await send_now(
                f"the proposed commitment {draft.id}",
                self.core.outbox.to_member(owner, await self.prompt(draft, owner, team)),
            )

    async def prefill(self, draft: Draft, owner: Member, team: Team) -> Prefill:
        try:
            parts = parse_commit_text(draft.text)
        except UserError:
            parts = CommitText(draft.text)
        zone = self.core.zone_for(owner, team)
        today = self.core.clock.now().astimezone(zone).date()
        due: date | None = None
        if parts.due_text:
            try:
                due = parse_due(parts.due_text, today)
            except UserError:
                parts = CommitText(draft.text, None, parts.peers, parts.indicators)
        if due is None:
            week_on = today + timedelta(days=DEFAULT_DAYS)
            due = await self.timing.quiet.next_open_day(team.id, week_on) or week_on
        indicators = parts.indicators or draft.indicators
        return Prefill(
            CommitText(
                parts.what or draft.text,
                None,
                parts.peers,
                indicators,
                parts.visibility,
                parts.how_know,
            ),
            due,
        )

    async def prompt(self, draft: Draft, owner: Member, team: Team) -> OutMessage:
        pre = await self.prefill(draft, owner, team)
        return OutMessage(
            title="Your next step from the meeting",
            blocks=(
                Section(text("In the meeting you named this next step: ", draft.text)),
                Section(
                    text(
                        "Make it a commitment? Change anything first (the date, who checks "
                        "in with you), and I'll follow up with you on the day."
                    )
                ),
            ),
            form=forms.draft_form(
                draft.id,
                what=pre.parts.what,
                due=pre.due,
                peers=" ".join(pre.parts.peers),
                indicators=", ".join(pre.parts.indicators),
                know=pre.parts.how_know,
            ),
            buttons=(Button("Not this time", SKIP, str(draft.id)),),
        )

    # -- answering ---------------------------------------------------------------------------

    async def _mine(self, turn: Turn, raw: str) -> tuple[Draft, Team]:
        cleaned = raw.strip().lstrip("#")
        draft: Draft | None = None
        team: Team | None = None
        if cleaned.isdigit() and len(cleaned) < 10:
            async with self.core.db.read() as session:
                draft = await repo.get_draft(session, int(cleaned))
                if draft is not None:
                    team = await identity.get_team(session, draft.team_id)
        if draft is None or team is None or draft.owner_id != turn.member.id:
            raise UserError(
                f"There's no proposed next step {cleaned or '?'} waiting for you. "
                "/commitments lists the ones that are."
            )
        if draft.state != PENDING:
            raise UserError(
                f"You already answered proposal {draft.id}. /commitments shows your commitments."
            )
        return draft, team

    async def confirm_form(self, turn: Turn) -> None:
        draft, team = await self._mine(turn, turn.action.value)
        plan = await plan_from_form(turn, team, turn.action.form, session_id=draft.session_id)
        await self._created(turn, team, await self.service.create(plan, draft_id=draft.id))

    async def confirm_command(self, turn: Turn, args: str) -> None:
        word, rest = first_word(args)
        draft, team = await self._mine(turn, word)
        pre = await self.prefill(draft, turn.member, team)
        typed = parse_text(turn, rest) if rest.strip() else CommitText("")
        base = pre.parts
        merged = CommitText(
            typed.what or base.what,
            typed.due_text,
            typed.peers or base.peers,
            typed.indicators or base.indicators,
            typed.visibility or base.visibility,
            typed.how_know or base.how_know,
        )
        plan = await plan_from_text(
            turn, team, merged, session_id=draft.session_id, default_due=pre.due
        )
        await self._created(turn, team, await self.service.create(plan, draft_id=draft.id))

    async def _created(self, turn: Turn, team: Team, c: repo.Commitment) -> None:
        today = today_for(turn, team)
        turn.reply(created_reply(c, today, team.name or team.conversation_id), private=True)
        await self.service.announce(c, team, in_channel_reply=False)

    async def skip(self, turn: Turn) -> None:
        draft, _team = await self._mine(turn, turn.action.value)
        async with self.core.db.write() as session:
            current = await repo.get_draft(session, draft.id, for_update=True)
            if current is None or current.state != PENDING:
                raise UserError(f"You already answered proposal {draft.id}.")
            await repo.decide_draft(session, draft.id, SKIPPED, self.core.clock.now(), None)
        turn.reply(
            "No problem, I've set it aside. You can always make one with /commit.", private=True
        )
