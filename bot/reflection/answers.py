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
from bot.reflection.digest import Digests
from bot.reflection.messages import ANSWER_LIMIT, answer_form
from bot.timefmt import day, when
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
PAGE_SIZE = 10


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
    def __init__(self, core: Core, digests: Digests) -> None:
        self.core = core
        self.digests = digests

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
        """Save the answer and say exactly what happened to it: new or replacing the earlier
        one, in time for the digest or late (after the round closed, kept out of it)."""
        body = clean_text(raw, limit=ANSWER_LIMIT, what="answer")
        async with self.core.db.write() as session:
            # Read in the same transaction as the save, so "late" matches the digest.
            found = await repo.get_round(session, delivery.round_id)
            closed = found is not None and found.state != repo.OPEN
            saved = await answers_repo.save_answer(
                session, delivery, body, share, turn.now, late=closed
            )
            redraw = await self.digests.changed_in(
                session, answers_repo.ChangedAnswer(delivery.round_id, saved.late)
            )
        zone = self.core.zone_for(turn.member, turn.team)
        what = "your late answer" if saved.late else "your answer"
        if saved.replaced_at is not None:
            said = (
                f"Updated {what} #{saved.id}: this replaces the one you saved "
                f"{when(saved.replaced_at, zone, turn.now)}. It is {shared_text(share)}."
            )
        elif saved.late and found is not None:
            today = turn.now.astimezone(zone).date()
            closed_on = day(found.closes_at.astimezone(zone).date(), today)
            said = (
                f"Thank you. This round closed on {closed_on}; saved as a late answer "
                f"#{saved.id}, {shared_text(share)}."
            )
        else:
            said = f"Thank you. Saved as answer #{saved.id}, {shared_text(share)}."
        if saved.late and share != answers_repo.PRIVATE:
            said += " This round's digest has gone out already, so it stays just between us."
        elif redraw:
            said += " I'm updating the round's digest in the channel to match."
        turn.reply(
            f"{said} Change who sees it with /reflect share {saved.id} private|team|anon, "
            f"or delete it with /reflect delete {saved.id}.",
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

    async def mine(self, turn: Turn, args: str) -> None:
        """``/reflect mine [PAGE]`` (also ``mine page 2``): newest first, ten to a page."""
        page = _page(args)
        async with self.core.db.read() as session:
            total = await answers_repo.count_member_answers(session, turn.member.id)
            answers = await answers_repo.member_answers(
                session, turn.member.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
        if not total:
            turn.reply(
                "You haven't answered a reflection prompt yet. When one arrives, your answers "
                "will be listed here, and only you can see them.",
                private=True,
            )
            return
        pages = -(-total // PAGE_SIZE)
        if not answers:
            raise UserError(
                f"You have {_count(total)}, so there {'is' if pages == 1 else 'are'} "
                f"{pages} page{'' if pages == 1 else 's'}: try /reflect mine {pages}."
            )
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
                }[a.share]
                + (", late" if a.late else ""),
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
        first = (page - 1) * PAGE_SIZE + 1
        shown = f"{first}-{first + len(answers) - 1}" if len(answers) > 1 else str(first)
        where = f"Showing {shown} of your {_count(total)}, newest first."
        if page < pages:
            where += f" /reflect mine {page + 1} shows the next page."
        if page > 1:
            where += f" /reflect mine {page - 1} goes back."
        turn.reply(
            OutMessage(
                title="Your reflections (only you can see this)",
                blocks=(ListBlock(items), Section(text(where))),
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
            redraw = gone is not None and await self.digests.changed_in(session, gone)
        if gone is None:
            raise UserError(f"I can't find answer #{answer_id} among yours (/reflect mine).")
        also = " I'm taking it out of the round's digest in the channel too." if redraw else ""
        turn.reply(f"Answer #{answer_id} is deleted for good.{also}", private=True)

    async def share(self, turn: Turn, args: str) -> None:
        word, rest = first_word(args)
        answer_id = _id(word, "answer")
        if not rest.strip():
            raise UserError("Say who may read it: /reflect share N private, team or anon.")
        share = parse_share(rest)
        async with self.core.db.write() as session:
            changed = await answers_repo.set_share(session, answer_id, turn.member.id, share)
            redraw = changed is not None and await self.digests.changed_in(session, changed)
        if changed is None:
            raise UserError(f"I can't find answer #{answer_id} among yours (/reflect mine).")
        also = " I'm updating the round's digest in the channel to match." if redraw else ""
        if changed.late and share != answers_repo.PRIVATE:
            also = " It came after the round's digest had gone out, so it isn't shown there."
        turn.reply(f"Answer #{answer_id} is now {shared_text(share)}.{also}", private=True)


def _page(args: str) -> int:
    words = args.lower().split()
    if words[:1] == ["page"]:
        words = words[1:]
    if not words:
        return 1
    if len(words) == 1 and words[0].isdigit() and 0 < int(words[0]) < 10_000:
        return int(words[0])
    if words == ["more"] or words == ["next"]:
        raise UserError("Say which page, e.g. /reflect mine 2 (page 1 is the newest ten).")
    raise UserError(f"{args.strip()!r} isn't a page number; try /reflect mine 2.")


def _count(total: int) -> str:
    return f"{total} answer{'' if total == 1 else 's'}"
