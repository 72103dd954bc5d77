"""Buttons, the contribution form, and messages that count as contributions.

A button carries ``session:version``; the runner applies it only if the session still has that
version, so a double click or a press on an old card takes effect once and otherwise gets a
private "that already happened". Messages count as contributions when they reply to the
session card (Slack threads) or carry no reply reference at all (console lines, Teams
mentions in the channel).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.errors import UserError
from bot.messages import Choice, Form, Input
from bot.parsing import clean_text
from bot.protocol.card import parse_button_value
from bot.protocol.commands import SessionCommands
from bot.protocol.context import MAX_CONTRIBUTION, ProtocolContext, person, stale_text
from bot.protocol.runner import Loaded
from bot.turn import Turn
from protocols.engine import Back, Contribute, End, Next, Pass, Pause, Resume
from protocols.state import Mode
from storage import identity

CONTROLS: dict[str, type[Next | Back | Pause | Resume | Pass | End]] = {
    "next": Next,
    "back": Back,
    "pause": Pause,
    "resume": Resume,
    "pass": Pass,
    "end": End,
}
BROKEN = "That button no longer works; the card in the channel has the current ones."


class Actions:
    def __init__(self, ctx: ProtocolContext, commands: SessionCommands) -> None:
        self.ctx = ctx
        self.commands = commands

    async def on_action(self, turn: Turn) -> None:
        event = turn.action
        name = event.action_id.removeprefix("protocol.")
        if name in CONTROLS:
            await self._control(turn, name, event.value)
        elif name == "add":
            await self._open_form(turn, event.value)
        elif name == "contribute":
            await self._submit(turn, event.value, event.form)
        elif name == "replace":
            await self._replace(turn, event.value)
        elif name == "keep":
            turn.reply("OK, the current session carries on.", private=True)
        else:
            raise UserError("That button belongs to something I no longer know about.")

    async def _loaded(self, value: str) -> tuple[Loaded, int]:
        parsed = parse_button_value(value)
        if parsed is None:
            raise UserError(BROKEN)
        loaded = await self.ctx.runner.get(parsed[0])
        if loaded is None:
            raise UserError(BROKEN)
        return loaded, parsed[1]

    async def _control(self, turn: Turn, name: str, value: str) -> None:
        loaded, version = await self._loaded(value)
        actor = await self.ctx.actor(turn, loaded)
        outcome = await self.ctx.runner.apply(
            loaded.id, CONTROLS[name](actor), expect_version=version, turn=turn
        )
        if outcome.stale:
            turn.reply(stale_text(outcome.before), private=True)

    async def _open_form(self, turn: Turn, value: str) -> None:
        loaded, _version = await self._loaded(value)
        if loaded.state.ended:
            raise UserError("This session has ended; /protocol history has its summary.")
        index = loaded.state.step
        step = loaded.definition.steps[index]
        inputs = [
            Input(
                "text",
                f"Your contribution to {step.title}",
                "multiline",
                max_length=MAX_CONTRIBUTION,
            )
        ]
        if step.anonymous:
            inputs.append(
                Input(
                    "anonymous",
                    "Show your name with it?",
                    "choice",
                    choices=(
                        Choice("named", "Yes, with my name"),
                        Choice("anonymous", "No, add it anonymously"),
                    ),
                    initial="named",
                )
            )
        turn.open_form(
            Form(
                action_id="protocol.contribute",
                title="Add a contribution",
                inputs=tuple(inputs),
                value=f"{loaded.id}:{index}",
                submit_label="Add",
                text_command="/protocol add [--anon] TEXT"
                if step.anonymous
                else "/protocol add TEXT",
            )
        )

    async def _submit(self, turn: Turn, value: str, form: Any) -> None:
        loaded, step = await self._loaded(value)
        raw = str(form.get("text", ""))
        if loaded.state.ended:
            raise UserError(
                "This session ended before your contribution arrived, so I couldn't add it. "
                f"Here it is, so it isn't lost: {raw[:MAX_CONTRIBUTION]}"
            )
        body = clean_text(raw, limit=MAX_CONTRIBUTION, what="contribution")
        anonymous = str(form.get("anonymous", "named")) == "anonymous"
        event = Contribute(person(turn.member), body, anonymous=anonymous, explicit=True, step=step)
        await self.ctx.runner.apply(loaded.id, event, turn=turn)

    async def _replace(self, turn: Turn, value: str) -> None:
        team = turn.require_channel("start a protocol")
        try:
            data = json.loads(value)
            old_id = int(data["s"])
            definition = self.ctx.find(str(data["p"]))
            mode = Mode(data["m"])
            window = timedelta(seconds=int(data["w"])) if data.get("w") else None
            presenter_id = int(data["pr"]) if data.get("pr") is not None else None
        except (ValueError, KeyError, TypeError):
            raise UserError(BROKEN) from None
        old = await self.ctx.runner.get(old_id)
        if old is not None and not old.state.ended:
            actor = await self.ctx.actor(turn, old)
            await self.ctx.runner.apply(old.id, End(actor), turn=turn)
        else:
            current = await self.ctx.runner.active(team.id)
            if current is not None:
                turn.reply(
                    f"That already happened: {current.definition.title} is running here now.",
                    private=True,
                )
                return
        presenter = None
        if presenter_id is not None:
            async with self.ctx.core.db.read() as s:
                presenter = await identity.get_member(s, presenter_id)
        await self.commands.begin(turn, team, definition, presenter, mode, window)

    # -- messages ------------------------------------------------------------------------------

    async def on_message(self, turn: Turn) -> bool:
        if not turn.in_channel or turn.team is None:
            return False
        loaded = await self.ctx.runner.active(turn.team.id)
        if loaded is None:
            return False
        event = turn.message
        card = loaded.row.card
        if event.reply_to is not None and (card is None or event.reply_to != card["message_id"]):
            return False
        if not event.text.strip():
            return False
        body = clean_text(event.text, limit=MAX_CONTRIBUTION, what="contribution")
        outcome = await self.ctx.runner.apply(
            loaded.id, Contribute(person(turn.member), body, explicit=False), turn=turn
        )
        return outcome.recorded
