"""Messages too long for one Teams message arrive whole: several activities, in order.

Teams refuses an activity over about 28 KB. A long protocol summary, a card that outgrew
its message and a long answer to a button press are each sent as several cards through the
loopback Bot Connector, and a "slow down" between the parts is waited out rather than
handed back (a retry would repeat the part already shown).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from adapters.teams.cards import MAX_CARD_CHARS
from bot.app import PlcBot
from bot.clock import FakeClock
from bot.events import ConversationKind, ConversationRef
from bot.features import Feature
from bot.messages import Form, Input, OutMessage, Section, text
from bot.ports import SentMessage
from bot.protocol.summary import summary_message
from bot.router import CommandSpec, Router
from bot.turn import Turn
from tests.support.fake_connector import FakeConnector, card_text
from tests.teams.activities import BOT_ID, CHANNEL, MARIA, TENANT, Teams
from tests.teams.harness import teams_server
from tests.teams.test_actions import action
from tests.teams.test_cards import long_summary

CARD = "application/vnd.microsoft.card.adaptive"


class SlowAfterFirst(FakeConnector):
    """Answers "slow down" (429, retry at once) to the post after each first post."""

    def __init__(self) -> None:
        super().__init__()
        self.slowed = 0

    async def _post(self, request: web.Request) -> web.Response:
        response = await super()._post(request)
        if len(self.posted) == 1:
            self.throttle(1, retry_after=0)
            self.slowed += 1
        return response


class Longform(Feature):
    """A test-only form whose answer is a message several cards long."""

    name = "longform"

    @classmethod
    def make(cls, bot: PlcBot) -> Longform:
        return cls()

    def install(self, router: Router) -> None:
        router.add_command(CommandSpec("longform", "test-only", bare=self.ask))
        router.add_action("longform.", self.answer)

    async def ask(self, turn: Turn, _args: str) -> None:
        turn.open_form(Form("longform.go", "Go", (Input("what", "What"),), submit_label="Go"))

    async def answer(self, turn: Turn) -> None:
        turn.reply(long_message(turn.action.form["what"]))


def long_message(word: str) -> OutMessage:
    lines = tuple(Section(text(f"{word} {n}: " + "añadió razonamiento " * 20)) for n in range(80))
    return OutMessage(title="Lots", blocks=lines, footer="The end.")


def channel(fake: FakeConnector) -> ConversationRef:
    return ConversationRef(
        "teams",
        TENANT,
        CHANNEL,
        ConversationKind.CHANNEL,
        "Grade 5 PLC",
        platform_data={"service_url": fake.url, "tenant_id": TENANT, "bot_id": BOT_ID},
    )


@pytest.fixture
async def slow() -> AsyncIterator[SlowAfterFirst]:
    async with SlowAfterFirst().running() as connector:
        yield connector


async def test_a_long_summary_is_posted_as_several_cards_in_order_with_nothing_lost(
    sqlite_url: str, clock: FakeClock, slow: SlowAfterFirst
) -> None:
    summary = summary_message(long_summary(), ZoneInfo("UTC"))
    async with teams_server(sqlite_url, clock) as server:
        sent = await server.messenger.post(channel(slow), summary)
    assert slow.slowed == 1  # the second part was told to slow down, and waited
    parts = slow.in_conversation(CHANNEL)
    assert len(parts) >= 2
    assert sent.message_id == parts[0].activity_id
    assert all(p.conversation_id == CHANNEL for p in parts)  # each a post, like Slack's split
    for request in slow.requests:
        if request.method == "POST":
            assert len(json.dumps(request.body)) <= MAX_CARD_CHARS + 500
    whole = "\n".join(p.text for p in parts)
    expected = [f"Aporte {s}.{n}:" for s in range(1, 8) for n in range(8)]
    expected += [f"Paso {n}: probar la tarea" for n in range(8)]
    positions = [whole.index(line) for line in expected]
    assert positions == sorted(positions)
    assert parts[0].text.startswith("Summary: Tuning protocol (session #7)")
    assert "The full record: /protocol export 7." in parts[-1].text


async def test_a_card_that_outgrows_its_message_is_updated_and_the_rest_follows_in_its_thread(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        messenger = server.messenger
        sent = await messenger.post(channel(fake), OutMessage(title="Short"))
        await messenger.update(SentMessage(sent.conversation, sent.message_id), long_message("x"))
    [card, *rest] = fake.posted
    assert card.activity_id == sent.message_id and len(card.updates) == 1
    assert card.text.startswith("Lots\nx 0:")
    assert rest and all(
        p.conversation_id == f"{CHANNEL};messageid={card.activity_id}" for p in rest
    )
    whole = "\n".join([card.text, *(p.text for p in rest)])
    assert [whole.index(f"x {n}:") for n in range(80)] == sorted(
        whole.index(f"x {n}:") for n in range(80)
    )
    assert rest[-1].text.endswith("The end.")


async def test_a_long_answer_to_a_button_replaces_the_card_and_the_rest_follows(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    chat = f"a:personal-{MARIA.user_id}"
    async with teams_server(sqlite_url, clock, features=[Longform.make]) as server:
        assert (await server.post(teams.personal_message(MARIA, "longform"))).status == 202
        [form] = fake.in_conversation(chat)
        data: dict[str, Any] = {**action(form, "longform.go")["data"], "what": "word"}
        press = teams.execute(
            MARIA, "longform.go", data, card_id=form.activity_id, where="personal"
        )
        answer = await server.post(press)
    assert answer.status == 200 and answer.body["type"] == CARD
    shown = [answer.body["value"], *(p.card for p in fake.in_conversation(chat)[1:])]
    assert len(shown) >= 2
    whole = "\n".join(card_text(c) for c in shown)
    assert whole.startswith("Lots\nword 0:") and whole.endswith("The end.")
    assert all(f"word {n}:" in whole for n in range(80))
