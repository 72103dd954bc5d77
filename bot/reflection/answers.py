"""A member's side: answering (form, command or a plain line in the DM), skipping, own answers.

Every lookup here is by the acting member's own id, so nobody (a lead included) can answer,
read, re-share or delete someone else's reflection: a stranger's id gets the same "not found"
as an id that does not exist.
"""

from __future__ import annotations

import re

from bot.context import Core
from bot.errors import UserError
from bot.events import ConversationKind
from bot.messages import Button, ListBlock, ListItem, OutMessage, Section, text
from bot.parsing import clean_text, first_word
from bot.reflection.messages import ANSWER_LIMIT, answer_form
from bot.timefmt import day
from bot.turn import Turn
from storage import reflection_answers as answers_repo
from storage import reflections as repo

_SHARE_FLAG = re.compile(r"\s--share(?:=|\s+)(\S+)\s*$")
SHARE_WORDS = {
    "private": answers_repo.PRIVATE,
    "me": answers_repo.PRIVATE,
    "team": answers_repo.TEAM,
    "anon": answers_repo.ANON,
    "anonymous": answers_repo.ANON,
    "anonymously": answers_repo.ANON,
}
ANSWERABLE = (repo.SENT, repo.PASSED, repo.ANSWERED)


def parse_share(word: str) -> str:
    share = SHARE_WORDS.get(word.strip().lower())
    if share is None:
        raise UserError(f"{word!r} isn't a sharing choice; use private, team or anon.")
    return share


def _id(word: str, what: str) -> int:
    cleaned = word.strip().lstrip("#")
    if not cleaned:
        raise UserError(f"Say which {what}, by its number (/reflect mine lists your answers).")
    if not cleaned.isdigit() or len(cleaned) > 12:
        raise UserError(f"{word!r} isn't a number; use the number shown with the {what}.")
    return int(cleaned)


def shared_text(share: str) -> str:
    return {
        answers_repo.PRIVATE: "kept private (only you can read it)",
        answers_repo.TEAM: "shared with your team, with your name",
        answers_repo.ANON: "shared with your team anonymously",
    }[share]


class Answers:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def _own_delivery(self, turn: Turn, delivery_id: int) -> repo.Delivery:
        async with self.core.db.read() as session:
            delivery = await repo.get_delivery(session, delivery_id)
        if delivery is None or delivery.member_id != turn.member.id:
            raise UserError(
                f"I can't find prompt {delivery_id} among yours. /reflect mine lists your answers."
            )
        if delivery.state not in ANSWERABLE:
            raise UserError("That prompt hasn't reached you yet, so there is nothing to answer.")
        return delivery

    async def save(self, turn: Turn, delivery: repo.Delivery, raw: str, share: str) -> None:
        body = clean_text(raw, limit=ANSWER_LIMIT, what="answer")
        async with self.core.db.write() as session:
            answer_id = await answers_repo.save_answer(session, delivery, body, share, turn.now)
            found = await repo.get_round(session, delivery.round_id)
        late = found is not None and found.state != repo.OPEN
        note = (
            " This round's digest has gone out already, so it stays just between us."
            if late and share != answers_repo.PRIVATE
            else ""
        )
        turn.reply(
            f"Thank you. Saved as answer #{answer_id}, {shared_text(share)}.{note} "
            f"Change who sees it with /reflect share {answer_id} private|team|anon, "
            f"or delete it with /reflect delete {answer_id}.",
            private=True,
        )

    # -- commands and actions ----------------------------------------------------------------

    async def answer_command(self, turn: Turn, args: str) -> None:
        """``/reflect answer N TEXT [--share team|anon]`` or ``answer round R TEXT ...``."""
        share = answers_repo.PRIVATE
        match = _SHARE_FLAG.search(" " + args)
        if match:
            share = parse_share(match.group(1))
            args = (" " + args)[: match.start()].strip()
        word, rest = first_word(args)
        if not word:
            raise UserError("Say which prompt and your answer, e.g. /reflect answer 12 I tried...")
        if word == "round":
            round_word, rest = first_word(rest)
            delivery = await self._round_delivery(turn, _id(round_word, "round"))
        else:
            delivery = await self._own_delivery(turn, _id(word, "prompt"))
        await self.save(turn, delivery, rest, share)

    async def _round_delivery(self, turn: Turn, round_id: int) -> repo.Delivery:
        async with self.core.db.read() as session:
            delivery = await repo.delivery_in_round(session, round_id, turn.member.id)
        if delivery is None or delivery.state not in ANSWERABLE:
            raise UserError(
                f"Round {round_id} has no prompt for you. You join a round when it starts; "
                "the next one will include you."
            )
        return delivery

    async def form_submitted(self, turn: Turn) -> None:
        action = turn.action
        delivery = await self._own_delivery(turn, _id(action.value, "prompt"))
        share = parse_share(action.form.get("share") or "private")
        await self.save(turn, delivery, action.form.get("answer", ""), share)

    async def skip_pressed(self, turn: Turn) -> None:
        delivery = await self._own_delivery(turn, _id(turn.action.value, "prompt"))
        if delivery.state == repo.ANSWERED:
            turn.reply("You've already answered this one; nothing to skip.", private=True)
            return
        async with self.core.db.write() as session:
            await repo.set_delivery_state(session, delivery.id, repo.PASSED, only_from=(repo.SENT,))
        turn.reply(
            "Skipped. No reminder for this one. If you change your mind, you can still answer "
            "it until the round closes.",
            private=True,
        )

    async def start_pressed(self, turn: Turn) -> None:
        """The channel prompt's "Answer privately" button: open the form for this member."""
        delivery = await self._round_delivery(turn, _id(turn.action.value, "round"))
        turn.open_form(
            answer_form(delivery.id),
            OutMessage(
                title="Your reflection",
                blocks=(Section(text(delivery.prompt_text)),),
                form=answer_form(delivery.id),
            ),
        )

    async def dm_line(self, turn: Turn) -> bool:
        """A plain line in the member's DM answers their open prompt (kept private)."""
        event = turn.message
        if event.conversation.kind != ConversationKind.DIRECT or not event.text.strip():
            return False
        async with self.core.db.read() as session:
            open_now = await repo.open_deliveries(session, turn.member.id)
        if not open_now:
            return False
        await self.save(turn, open_now[0], event.text, answers_repo.PRIVATE)
        return True

    async def mine(self, turn: Turn, _args: str) -> None:
        async with self.core.db.read() as session:
            answers = await answers_repo.member_answers(session, turn.member.id, limit=20)
        if not answers:
            turn.reply(
                "You haven't answered a reflection prompt yet. When one arrives, your answers "
                "will be listed here, and only you can see them.",
                private=True,
            )
            return
        zone = self.core.zone_for(turn.member, turn.team)
        today = turn.now.astimezone(zone).date()
        items = tuple(
            ListItem(
                text(
                    f"#{a.id} {day(a.created_at.astimezone(zone).date(), today)}, {a.indicator}: ",
                    a.prompt_text,
                    "\n",
                    a.body,
                ),
                {
                    answers_repo.PRIVATE: "private",
                    answers_repo.TEAM: "shared",
                    answers_repo.ANON: "anonymous",
                }[a.share],
            )
            for a in answers
        )
        buttons = tuple(
            Button(
                f"Delete #{a.id}",
                "reflect.delete",
                str(a.id),
                style="danger",
                confirm="Delete this answer for good?",
            )
            for a in answers[:5]
        )
        turn.reply(
            OutMessage(
                title="Your reflections (only you can see this)",
                blocks=(ListBlock(items),),
                buttons=buttons,
                footer="Delete one with /reflect delete N; change who sees it with "
                "/reflect share N private|team|anon.",
            ),
            private=True,
        )

    async def delete(self, turn: Turn, args: str) -> None:
        await self._delete(turn, _id(args, "answer"))

    async def delete_pressed(self, turn: Turn) -> None:
        await self._delete(turn, _id(turn.action.value, "answer"))

    async def _delete(self, turn: Turn, answer_id: int) -> None:
        async with self.core.db.write() as session:
            gone = await answers_repo.delete_answer(session, answer_id, turn.member.id)
        if not gone:
            raise UserError(f"I can't find answer #{answer_id} among yours (/reflect mine).")
        turn.reply(f"Answer #{answer_id} is deleted for good.", private=True)

    async def share(self, turn: Turn, args: str) -> None:
        word, rest = first_word(args)
        answer_id = _id(word, "answer")
        if not rest.strip():
            raise UserError("Say who may read it: /reflect share N private, team or anon.")
        share = parse_share(rest)
        async with self.core.db.write() as session:
            changed = await answers_repo.set_share(session, answer_id, turn.member.id, share)
        if not changed:
            raise UserError(f"I can't find answer #{answer_id} among yours (/reflect mine).")
        turn.reply(f"Answer #{answer_id} is now {shared_text(share)}.", private=True)
