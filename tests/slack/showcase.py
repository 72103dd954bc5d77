"""A test-only feature that uses the public feature API to exercise everything Slack renders.

It is registered on a real bot's router like any feature (no patching): ``/show all`` replies
with every neutral block type, ``/show form`` opens a form, ``/show card`` posts a card that its
button updates in place, and thread replies are echoed so tests can see the
:class:`~bot.events.MessageEvent` the adapter built.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.charts import Bar, bar_chart
from bot.errors import UserError
from bot.events import InboundEvent, MessageEvent
from bot.features import Feature
from bot.messages import (
    Attachment,
    Block,
    Button,
    Choice,
    Countdown,
    Divider,
    Field,
    Fields,
    Form,
    Input,
    Link,
    ListBlock,
    ListItem,
    Mention,
    OutMessage,
    Section,
    Strong,
    say,
    text,
)
from bot.ports import SentMessage
from bot.router import CommandSpec, Router, Subcommand
from bot.turn import Turn
from storage.identity import Member

SURVEY = Form(
    action_id="show.survey",
    title="How did today's protocol go for you?",  # longer than a modal title allows
    inputs=(
        Input("headline", "One sentence about today", placeholder="It went..."),
        Input("detail", "Anything else?", kind="multiline", optional=True, max_length=5000),
        Input("when", "When do we meet again?", kind="date", initial="2026-12-01"),
        Input(
            "mood",
            "How do you feel about it?",
            kind="choice",
            choices=(Choice("good", "Good"), Choice("mixed", "Mixed"), Choice("low", "Low")),
            initial="mixed",
        ),
    ),
    value="session=42;v=7",
    submit_label="Send",
    text_command="/show answer TEXT",
)


class Showcase(Feature):
    name = "showcase"

    def __init__(self) -> None:
        self.seen: list[InboundEvent] = []
        self.cards: list[SentMessage] = []

    def install(self, router: Router) -> None:
        router.add_command(
            CommandSpec(
                name="show",
                summary="Shows what plcbot can draw (tests only).",
                subcommands=(
                    Subcommand("all", self.all_blocks),
                    Subcommand("long", self.long),
                    Subcommand("echo", self.echo),
                    Subcommand("whisper", self.whisper),
                    Subcommand("form", self.form),
                    Subcommand("offer", self.offer),
                    Subcommand("card", self.card),
                    Subcommand("dm", self.dm),
                    Subcommand("roster", self.roster),
                    Subcommand("who", self.who),
                    Subcommand("fail", self.fail),
                ),
            )
        )
        router.add_action("show.", self.on_action)
        router.add_message_handler(self.on_message)

    async def all_blocks(self, turn: Turn, args: str) -> None:
        now = turn.now
        chart = bar_chart("Commitments kept", [Bar("Sept", (3.0,)), Bar("Oct", (5.0,))], ("kept",))
        turn.reply(
            OutMessage(
                title="Everything at once",
                blocks=(
                    Section(
                        text(
                            "Welcome, ",
                            Mention(turn.member.user_id, turn.member.display_name),
                            "! Read ",
                            Link("https://example.org/tuning", "the tuning protocol"),
                            " and note ",
                            Strong("one"),
                            " thing.",
                        ),
                        heading="Today",
                    ),
                    Section(text("Plain words only, with <b>tags</b> & ampersands.")),
                    Fields((Field("Step", text("2 of 5")), Field("Speaker", text("Sam")))),
                    ListBlock(
                        (ListItem(text("Clarify"), "done"), ListItem(text("Probe"), "now")),
                        heading="Steps",
                        ordered=True,
                    ),
                    ListBlock((), heading="Parked questions", empty_text="nothing parked"),
                    Countdown("Probing questions", 300, ends_at=now + timedelta(minutes=4)),
                    Countdown("Paused", 300, remaining_seconds=90),
                    chart,
                    Divider(),
                ),
                buttons=(
                    Button("Good", "show.rate", "session=42;v=7;good", style="primary"),
                    Button("Low", "show.rate", "session=42;v=7;low"),
                    Button("End", "show.end", "session=42", style="danger", confirm="End now?"),
                ),
                footer="Facilitated by plcbot",
                attachment=Attachment("notes.md", b"# Notes\n", "text/markdown"),
            )
        )

    async def long(self, turn: Turn, args: str) -> None:
        paragraph = "This paragraph is long enough to need splitting. " * 150
        blocks: list[Block] = [Section(text(paragraph))]
        blocks += [Section(text(f"Item {n}")) for n in range(60)]
        summary = OutMessage(title="A long summary", blocks=tuple(blocks))
        turn.reply(summary, private=args.strip() == "private")  # "/show long private"

    async def echo(self, turn: Turn, args: str) -> None:
        turn.reply(
            OutMessage(
                title=f"You said: {args}",
                blocks=(
                    Section(text(args)),
                    Section(text("Quoted: ", Strong(args)), heading=args),
                    Fields((Field(args, text(args)),)),
                    ListBlock((ListItem(text(args), args),), heading=args),
                    Countdown(args, 60, remaining_seconds=30),
                ),
                buttons=(Button(args[:70] or "x", "show.rate", args[:100]),),
                footer=args,
            )
        )

    async def whisper(self, turn: Turn, args: str) -> None:
        turn.reply(say("Only you see this: ", args), private=True)

    async def form(self, turn: Turn, args: str) -> None:
        turn.open_form(SURVEY)

    async def offer(self, turn: Turn, args: str) -> None:
        turn.reply(OutMessage(title="A question for you", form=SURVEY))

    async def card(self, turn: Turn, args: str) -> None:
        sent = await turn.messenger.post(
            turn.event.conversation,
            OutMessage(title="Card, version 1", buttons=(Button("Bump", "show.bump", "1"),)),
        )
        self.cards.append(sent)

    async def dm(self, turn: Turn, args: str) -> None:
        await turn.core.outbox.to_member(turn.member, say("A private note for you."))

    async def roster(self, turn: Turn, args: str) -> None:
        people = await turn.messenger.roster(turn.event.conversation)
        turn.reply(", ".join(p.display_name for p in people), private=True)

    async def who(self, turn: Turn, args: str) -> None:
        self.seen.append(turn.event)
        turn.reply(f"{turn.member.display_name} in {turn.team.name if turn.team else 'no team'}")

    async def fail(self, turn: Turn, args: str) -> None:
        raise UserError("That can't be done here.")

    async def on_action(self, turn: Turn) -> None:
        event = turn.action
        self.seen.append(event)
        if event.action_id == "show.bump":
            version = int(event.value) + 1
            assert event.message_id is not None
            await turn.messenger.update(
                SentMessage(event.conversation, event.message_id),
                OutMessage(
                    title=f"Card, version {version}",
                    buttons=(Button("Bump", "show.bump", str(version)),),
                ),
            )
            return
        if event.action_id == "show.survey":
            answers = ", ".join(f"{k}={v}" for k, v in sorted(event.form.items()))
            turn.reply(f"Thanks! {answers}", private=True)
            return
        turn.reply(f"Pressed {event.action_id} with {event.value}", private=True)

    async def on_message(self, turn: Turn) -> bool:
        event = turn.event
        assert isinstance(event, MessageEvent)
        self.seen.append(event)
        if event.reply_to is None:
            return False
        turn.reply(say("Heard: ", event.text))
        return True

    async def home(self, member: Member) -> Sequence[Block]:
        return (Section(text("Your open commitments: 2")),)
