"""Buttons and submitted forms (``commit.*``): the one-tap outcomes, notes, peers' replies.

Button values carry a commitment's database id; :func:`bot.commitment.access.by_id` checks the
person pressing may act on it before anything happens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.commitment import access, forms, prompts
from bot.commitment.commands import edited_reply
from bot.commitment.drafts import SKIP, Drafts
from bot.commitment.inputs import (
    Changes,
    changes_from_form,
    plan_from_form,
    read_due,
    read_link,
    read_note,
    today_for,
)
from bot.commitment.service import CommitmentService
from bot.commitment.views import created_reply
from bot.context import Core
from bot.errors import UserError
from bot.turn import Turn
from storage import identity
from storage.commitments import DONE, DROPPED, NOT_YET, PARTLY

OUTCOMES = {DONE, PARTLY, NOT_YET, DROPPED}


class Actions:
    def __init__(self, core: Core, service: CommitmentService, drafts: Drafts) -> None:
        self.core = core
        self.service = service
        self.drafts = drafts
        self.handlers: dict[str, Callable[[Turn], Awaitable[None]]] = {
            forms.CREATE: self.create,
            forms.UPDATE: self.update,
            forms.NEW_DATE: self.new_date,
            forms.OUTCOME_NOTE: self.outcome_note,
            forms.REPLY: self.reply,
            forms.DRAFT: drafts.confirm_form,
            prompts.OUTCOME: self.outcome,
            prompts.EDIT: self.ask_date,
            prompts.ADD_NOTE: self.ask_note,
            prompts.SHARE: self.share,
            prompts.CHEER: self.cheer,
            SKIP: drafts.skip,
        }

    async def route(self, turn: Turn) -> None:
        handler = self.handlers.get(turn.action.action_id)
        if handler is None:
            raise UserError("That button is from an older version of plcbot; please start again.")
        await handler(turn)

    async def create(self, turn: Turn) -> None:
        raw = turn.action.value.strip()
        team = None
        if raw.isdigit():
            async with self.core.db.read() as session:
                if await identity.role_in(session, int(raw), turn.member.id) is not None:
                    team = await identity.get_team(session, int(raw))
        if team is None:
            raise UserError("You're not in the team this form was for. Try /commit in your team.")
        plan = await plan_from_form(turn, team, turn.action.form)
        c = await self.service.create(plan)
        turn.reply(created_reply(c, today_for(turn, team), team.name), private=True)
        await self.service.announce(c, team, in_channel_reply=False)

    async def update(self, turn: Turn) -> None:
        c, team = await access.by_id(turn, turn.action.value, need="owner")
        changes = await changes_from_form(turn, team, turn.action.form)
        edited_reply(turn, team, await self.service.edit(c, turn.member, team, changes))

    async def new_date(self, turn: Turn) -> None:
        c, team = await access.by_id(turn, turn.action.value, need="owner")
        due = read_due(turn.action.form.get("due"), today_for(turn, team))
        updated = await self.service.edit(c, turn.member, team, Changes(due_on=due))
        edited_reply(turn, team, updated)

    async def outcome(self, turn: Turn) -> None:
        c, team = await access.by_id(turn, turn.action.value, need="owner")
        status = turn.action.value.partition(":")[2]
        if status not in OUTCOMES:
            raise UserError("That button is out of date; type /commitments to start again.")
        result = await self.service.report(c, turn.member, team, status, None)
        updated = result.commitment
        if not result.changed:
            turn.reply(
                f"Already recorded: {updated.ref} is {status.replace('_', ' ')}.", private=True
            )
            return
        turn.reply(
            prompts.recorded(updated, today_for(turn, team), asking_peers=result.asking_peers),
            private=True,
        )

    async def ask_date(self, turn: Turn) -> None:
        c, _team = await access.by_id(turn, turn.action.value, need="owner")
        turn.open_form(forms.new_date_form(c))

    async def ask_note(self, turn: Turn) -> None:
        c, _team = await access.by_id(turn, turn.action.value, need="owner")
        turn.open_form(forms.outcome_form(c))

    async def outcome_note(self, turn: Turn) -> None:
        c, _team = await access.by_id(turn, turn.action.value, need="owner")
        form = turn.action.form
        note = read_note(form.get("note", ""))
        link = read_link(form.get("link", "")) if "link" in form else c.evidence_url
        updated = await self.service.add_note(c, turn.member, note)
        if link != c.evidence_url:
            updated = await self.service.add_link(updated, turn.member, link)
        turn.reply(
            f"Saved what happened on {updated.ref}. Share it with /commitments share "
            f"{updated.number} if colleagues could learn from it.",
            private=True,
        )

    async def share(self, turn: Turn) -> None:
        c, team = await access.by_id(turn, turn.action.value, need="owner")
        if c.outcome_shared_at is not None:
            turn.reply(f"You already shared how {c.ref} went.", private=True)
            return
        updated = await self.service.share(c, turn.member, team)
        turn.reply(f"Posted how {updated.ref} went in the team's channel.", private=True)

    async def reply(self, turn: Turn) -> None:
        c, _team = await access.by_id(turn, turn.action.value, need="party")
        words = read_note(turn.action.form.get("message", ""))
        sent = await self.service.message(c, turn.member, words)
        turn.reply(
            f"Sent to {', '.join(p.name for p in sent)}."
            if sent
            else "I couldn't deliver that just now; please try again later.",
            private=True,
        )

    async def cheer(self, turn: Turn) -> None:
        c, _team = await access.by_id(turn, turn.action.value, need="party")
        sent = await self.service.message(c, turn.member, prompts.CHEER_TEXT)
        turn.reply(
            f"Sent your cheer to {', '.join(p.name for p in sent)}."
            if sent
            else "I couldn't deliver that just now; please try again later.",
            private=True,
        )
