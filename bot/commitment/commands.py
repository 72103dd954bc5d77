"""``/commit`` and the owner's ``/commitments`` subcommands: make, list, show, report, edit."""

from __future__ import annotations

from datetime import timedelta

from bot.commitment import access, forms, prompts
from bot.commitment.dates import DateQuestion
from bot.commitment.inputs import (
    changes_from_text,
    parse_text,
    plan_from_text,
    read_link,
    read_note,
    today_for,
)
from bot.commitment.service import CommitmentService
from bot.commitment.views import STATUS_LABELS, card, created_reply, items, team_note
from bot.context import Core
from bot.errors import UserError
from bot.messages import Block, Button, ListBlock, ListItem, OutMessage, Section, text
from bot.router import ArgHandler
from bot.turn import Turn
from storage import commitments as repo
from storage import identity
from storage.commitments import ACTIVE, DONE, DROPPED, NOT_YET, PARTLY, SHARED
from storage.identity import Team

RECENT = timedelta(days=30)


class OwnerCommands:
    def __init__(self, core: Core, service: CommitmentService) -> None:
        self.core = core
        self.service = service

    def _team_name(self, team: Team) -> str:
        return team.name or team.conversation_id

    # -- making ------------------------------------------------------------------------------

    async def commit(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        if not args.strip():
            await self.new(turn, "")
            return
        typed = parse_text(turn, args)
        try:
            plan = await plan_from_text(turn, team, typed)
        except DateQuestion as question:
            # Answer the question in one step: the form, with everything else already filled
            # in and a date picker, beside the words saying what was wrong with the date.
            turn.reply(OutMessage(blocks=(Section(text(str(question))),)), private=True)
            turn.open_form(forms.create_form(team.id, typed=typed))
            return
        c = await self.service.create(plan)
        today = today_for(turn, team)
        public = turn.in_channel and c.visibility == SHARED
        name, teams = None, 1
        if not turn.in_channel:
            name, teams = self._team_name(team), len(await access.my_team_ids(turn))
        # The confirmation first: the channel's note may wait for the channel's pace (about
        # one message a second), and the person should not wait with it.
        turn.reply(created_reply(c, today, name, teams=teams), private=True)
        if public:
            turn.reply(team_note(c, today))
        await self.service.announce(c, team, in_channel_reply=public)

    async def new(self, turn: Turn, _args: str) -> None:
        team = turn.require_team()
        turn.open_form(forms.create_form(team.id, today_for(turn, team) + timedelta(days=7)))

    # -- looking -----------------------------------------------------------------------------

    async def mine(self, turn: Turn, _args: str) -> None:
        me = turn.member
        async with self.core.db.read() as session:
            open_ones = await repo.owned_by(session, me.id, statuses=ACTIVE)
            settled = await repo.owned_by(
                session,
                me.id,
                statuses=(DONE, PARTLY, DROPPED),
                updated_since=turn.now - RECENT,
                limit=10,
            )
            teams = await identity.teams_of(session, me.id)
            drafts = await repo.pending_drafts(session, me.id)
        names = {t.id: self._team_name(t) for t, _ in teams} if len(teams) > 1 else None
        today = turn.now.astimezone(self.core.zone_for(me, turn.team)).date()
        blocks: list[Block] = [
            items(
                open_ones,
                today,
                "Open",
                show_owner=False,
                team_names=names,
                empty="Nothing open. Make one with /commit TEXT by DATE.",
            )
        ]
        if settled:
            blocks.append(
                items(settled, today, "Settled lately", show_owner=False, team_names=names)
            )
        if drafts:
            blocks.append(
                ListBlock(
                    tuple(ListItem(text(d.text), f"/commitments confirm {d.id}") for d in drafts),
                    heading="Next steps from meetings, waiting for you to confirm",
                )
            )
        turn.reply(
            OutMessage(
                title="Your commitments",
                blocks=tuple(blocks),
                footer="/commitments done N, edit N, drop N, show N; /commitments help for more.",
            ),
            private=True,
        )

    async def team(self, turn: Turn, _args: str) -> None:
        team = turn.require_team()
        if turn.role is None:
            raise UserError("You're not a member of this team, so I can't show its commitments.")
        today = today_for(turn, team)
        async with self.core.db.read() as session:
            found = await repo.for_team(
                session,
                team.id,
                viewer_id=turn.member.id,
                active=True,
                due_from=today - timedelta(days=14),
            )
        open_ones = [c for c in found if c.active]
        settled = [c for c in found if not c.active]
        blocks: list[Block] = [items(open_ones, today, "Open", empty="Nothing open right now.")]
        if settled:
            blocks.append(items(settled, today, "Settled in the last two weeks"))
        turn.reply(
            OutMessage(
                title=f"Commitments in {self._team_name(team)}",
                blocks=tuple(blocks),
                footer=(
                    "Private commitments are shown only to their owner and peers. "
                    "/commitments show N for details."
                ),
            ),
            private=True,
        )

    async def show(self, turn: Turn, args: str) -> None:
        found = await access.visible(turn, args, usage="/commitments show 12")
        c = found.commitment
        zone = self.core.zone_for(turn.member, found.team)
        async with self.core.db.read() as session:
            history = await repo.history(session, c.id)
        today = turn.now.astimezone(zone).date()
        name = None if turn.in_channel else self._team_name(found.team)
        turn.reply(
            card(c, today, zone, history, viewer_id=turn.member.id, team_name=name),
            private=True,
        )

    # -- reporting and changing --------------------------------------------------------------

    def outcome(self, status: str) -> ArgHandler:
        word = {DONE: "done", PARTLY: "partly", NOT_YET: "not-yet", DROPPED: "drop"}[status]

        async def handle(turn: Turn, args: str) -> None:
            found = await access.own(
                turn, args, doing="report on it", usage=f"/commitments {word} 12 [NOTE]"
            )
            note = read_note(found.rest) if found.rest.strip() else None
            result = await self.service.report(
                found.commitment, turn.member, found.team, status, note
            )
            c = result.commitment
            if not result.changed:
                turn.reply(f"{c.ref} is already marked {STATUS_LABELS[status]}.", private=True)
                return
            turn.reply(
                prompts.recorded(c, today_for(turn, found.team), asking_peers=result.asking_peers),
                private=True,
            )

        return handle

    async def edit(self, turn: Turn, args: str) -> None:
        found = await access.own(
            turn, args, doing="change it", usage="/commitments edit 12 by Friday"
        )
        c = found.commitment
        if not found.rest.strip():
            turn.open_form(forms.edit_form(c))
            return
        changes = await changes_from_text(turn, found.team, found.rest)
        if changes.empty:
            raise UserError(
                f"Tell me what to change, e.g. /commitments edit {c.number} by next Friday, "
                f"or /commitments edit {c.number} alone for a form."
            )
        updated = await self.service.edit(c, turn.member, found.team, changes)
        edited_reply(turn, found.team, updated)

    async def note(self, turn: Turn, args: str) -> None:
        found = await access.own(
            turn, args, doing="add notes to it", usage="/commitments note 12 TEXT"
        )
        if not found.rest.strip():
            raise UserError(
                f"Write the note after the number, e.g. /commitments note "
                f"{found.commitment.number} Most students used the sentence frames."
            )
        c = await self.service.add_note(found.commitment, turn.member, read_note(found.rest))
        turn.reply(
            OutMessage(
                blocks=(Section(text(f"Saved your note on {c.ref}.")),),
                buttons=(
                    ()
                    if c.outcome_shared_at or c.status not in (DONE, PARTLY, NOT_YET)
                    else (
                        Button(
                            "Share with the team",
                            prompts.SHARE,
                            str(c.id),
                            confirm="Post what happened in the team's channel?",
                        ),
                    )
                ),
            ),
            private=True,
        )

    async def link(self, turn: Turn, args: str) -> None:
        found = await access.own(
            turn, args, doing="add evidence to it", usage="/commitments link 12 https://..."
        )
        link = read_link(found.rest)
        c = await self.service.add_link(found.commitment, turn.member, link)
        turn.reply(
            f"Saved the evidence link on {c.ref}." if link else f"Removed the link on {c.ref}.",
            private=True,
        )

    async def share(self, turn: Turn, args: str) -> None:
        found = await access.own(turn, args, doing="share it", usage="/commitments share 12")
        c = await self.service.share(found.commitment, turn.member, found.team)
        turn.reply(
            f"Posted how {c.ref} went in the team's channel. Thanks for sharing!", private=True
        )

    async def reply(self, turn: Turn, args: str) -> None:
        found = await access.visible(turn, args, usage="/commitments reply 12 TEXT")
        if not found.rest.strip():
            raise UserError(
                f"Write your note after the number, e.g. /commitments reply "
                f"{found.commitment.number} How did the students take it?"
            )
        words = read_note(found.rest)
        sent = await self.service.message(found.commitment, turn.member, words)
        names = ", ".join(p.name for p in sent)
        turn.reply(
            f"Sent to {names}." if sent else "I couldn't deliver that just now; please try later.",
            private=True,
        )


def edited_reply(turn: Turn, team: Team, c: repo.Commitment) -> None:
    line = items([c], today_for(turn, team), f"Updated {c.ref}", show_owner=False)
    turn.reply(OutMessage(blocks=(line,)), private=True)
