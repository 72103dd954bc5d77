"""``/reflect prompts``: the bank's prompts for an indicator, and a team's own additions."""

from __future__ import annotations

from bot.context import Core
from bot.errors import UserError
from bot.indicators import BY_CODE, label
from bot.messages import ListBlock, ListItem, OutMessage, text
from bot.parsing import clean_text, first_word
from bot.reflection.bank import MAX_PROMPT_LENGTH, PromptBank
from bot.turn import Turn
from storage import reflection_answers as answers_repo

EXAMPLE = "/reflect prompts add B3 What did a student teach you this week?"
MAX_TEAM_PROMPTS = 200


def _code(word: str) -> str:
    code = word.strip().upper()
    if code not in BY_CODE:
        raise UserError(
            f"{code!r} isn't an indicator code; they run A1-A5, B1-B4 and C1-C5 "
            "(/reflect indicators lists them)."
        )
    return code


class PromptCommands:
    def __init__(self, core: Core, bank: PromptBank) -> None:
        self.core = core
        self.bank = bank

    async def prompts(self, turn: Turn, args: str) -> None:
        word, rest = first_word(args)
        if word == "add":
            await self._add(turn, rest)
        elif word in ("remove", "delete", "rm"):
            await self._remove(turn, rest)
        elif word in ("", "list"):
            await self._list(turn, rest)
        else:
            await self._list(turn, args)

    async def _list(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        async with self.core.db.read() as session:
            own = await answers_repo.team_prompts(session, team.id)
        word = args.strip()
        if not word:
            items = tuple(ListItem(text(f"t{p.id} {p.indicator}: {p.body}")) for p in own)
            turn.reply(
                OutMessage(
                    title="Your team's own prompts",
                    blocks=(ListBlock(items, empty_text="(none yet)"),),
                    footer=f"See an indicator's prompts: /reflect prompts B3. Add one: {EXAMPLE}",
                ),
                private=True,
            )
            return
        code = _code(word)
        items = tuple(
            ListItem(text(p.text), "next step" if p.step else None)
            for p in self.bank.for_indicator(code)
        ) + tuple(ListItem(text(p.body), f"t{p.id}, yours") for p in own if p.indicator == code)
        turn.reply(
            OutMessage(title=f"Prompts for {label(code)}", blocks=(ListBlock(items),)),
            private=True,
        )

    async def _add(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        turn.require_lead("add prompts")
        word, rest = first_word(args)
        if not word:
            raise UserError(f"Say the indicator and the prompt, e.g. {EXAMPLE}")
        code = _code(word)
        body = clean_text(rest, limit=MAX_PROMPT_LENGTH, what="prompt")
        if len(body) < 10:
            raise UserError("That prompt is very short; write it as a full question.")
        async with self.core.db.write() as session:
            if len(await answers_repo.team_prompts(session, team.id)) >= MAX_TEAM_PROMPTS:
                raise UserError("This team has 200 prompts of its own; remove some first.")
            prompt_id = await answers_repo.add_prompt(
                session, team.id, code, body, turn.member.id, turn.now
            )
        turn.reply(f"Added prompt t{prompt_id} to {label(code)}. It joins the rotation next round.")

    async def _remove(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        turn.require_lead("remove prompts")
        raw = args.strip().lower().lstrip("t#")
        if not raw.isdigit():
            raise UserError("Say which of your team's prompts, e.g. /reflect prompts remove t4.")
        async with self.core.db.write() as session:
            gone = await answers_repo.remove_prompt(session, team.id, int(raw))
        if not gone:
            raise UserError(f"Your team has no prompt t{raw} (/reflect prompts lists them).")
        turn.reply(f"Prompt t{raw} removed. Answers already given to it stay with their authors.")
