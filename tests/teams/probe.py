"""A test-only feature: a command that posts a card with buttons and one that asks for a form.

It uses only the public feature API (commands, actions, message handlers, the outbox), so the
Teams tests can drive buttons, forms and thread replies without any real feature's rules.
"""

from __future__ import annotations

from bot.app import PlcBot
from bot.context import Core
from bot.errors import UserError
from bot.events import ActionEvent, MessageEvent
from bot.features import Feature
from bot.messages import Button, Choice, Form, Input, OutMessage, Section, text
from bot.ports import SentMessage
from bot.router import CommandSpec, Router, Subcommand
from bot.turn import Turn

NOTE_FORM = Form(
    "probe.note",
    "Your note",
    (
        Input("note", "Note", "multiline", max_length=500),
        Input("due", "Due date", "date", optional=True),
        Input("mood", "Mood", "choice", (Choice("good", "Good"), Choice("meh", "Meh"))),
    ),
    value="form-v1",
    submit_label="Save note",
)


def session_card(step: int) -> OutMessage:
    return OutMessage(
        title="Probe session",
        blocks=(Section(text(f"Step {step}")),),
        buttons=(
            Button("Next step", "probe.next", f"step-{step}", style="primary"),
            Button("Not allowed", "probe.refuse"),
            Button("End", "probe.end", style="danger", confirm="End the session for everyone?"),
        ),
    )


class Probe(Feature):
    name = "probe"

    def __init__(self, core: Core) -> None:
        self.core = core
        self.actions: list[ActionEvent] = []
        self.messages: list[MessageEvent] = []
        self.card: SentMessage | None = None
        self.step = 1

    @classmethod
    def make(cls, bot: PlcBot) -> Probe:
        return cls(bot.core)

    def install(self, router: Router) -> None:
        router.add_command(
            CommandSpec(
                "probe",
                "test-only",
                subcommands=(
                    Subcommand("form", self.form),
                    Subcommand("card", self.post_card),
                ),
            )
        )
        router.add_action("probe.", self.act)
        router.add_message_handler(self.on_message)

    async def form(self, turn: Turn, _args: str) -> None:
        turn.open_form(NOTE_FORM)

    async def post_card(self, turn: Turn, _args: str) -> None:
        where = turn.event.conversation.in_thread(None)  # a new post, so replies thread under it
        self.card = await self.core.outbox.post(where, session_card(self.step))

    async def act(self, turn: Turn) -> None:
        event = turn.action
        self.actions.append(event)
        if event.action_id == "probe.refuse":
            raise UserError("You can't do that yet.")
        if event.action_id == "probe.next":
            assert self.card is not None and event.message_id == self.card.message_id
            self.step += 1
            await self.core.outbox.update(self.card, session_card(self.step))
            turn.reply("Moved on.", private=True)
        elif event.action_id == "probe.note":
            note = event.form.get("note", "").strip()
            if not note:
                raise UserError("The note is empty; please write something.")
            turn.reply(f"Saved your note: {note}", private=True)
        elif event.action_id == "probe.end":
            turn.reply("Session ended.")
        elif event.action_id == "probe.crash":
            raise RuntimeError("the database caught fire: secret internals")

    async def on_message(self, turn: Turn) -> bool:
        event = turn.message
        self.messages.append(event)
        if self.card is not None and event.reply_to == self.card.message_id:
            turn.reply(f"Contribution noted from {turn.member.display_name}.")
            return True
        return False
