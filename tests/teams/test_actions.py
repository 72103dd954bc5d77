"""Buttons and forms on Adaptive Cards: Action.Execute, Action.Submit and thread replies."""

from __future__ import annotations

from typing import Any

from bot.clock import FakeClock
from tests.support.fake_connector import FakeConnector, Posted
from tests.teams.activities import CHANNEL, MARIA, SAM, Teams
from tests.teams.harness import teams_server
from tests.teams.probe import Probe

MESSAGE = "application/vnd.microsoft.activity.message"
CARD = "application/vnd.microsoft.card.adaptive"


def actions(element: Any) -> list[dict[str, Any]]:
    """Every Action.* in a card, nested show-cards included."""
    found: list[dict[str, Any]] = []
    if isinstance(element, dict):
        if str(element.get("type", "")).startswith("Action."):
            found.append(element)
        for value in element.values():
            found.extend(actions(value))
    elif isinstance(element, list):
        for item in element:
            found.extend(actions(item))
    return found


def action(posted: Posted, verb: str) -> dict[str, Any]:
    return next(a for a in actions(posted.card) if a.get("verb") == verb)


def probe_of(server: Any) -> Probe:
    feature = server.bot.feature(Probe)
    assert isinstance(feature, Probe)
    return feature


async def test_action_execute_on_a_channel_card_updates_it_in_place_and_answers_at_once(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock, features=[Probe.make]) as server:
        probe = probe_of(server)
        await server.post(teams.channel_message(MARIA, "probe card"))
        [card] = [p for p in fake.posted if p.conversation_id == CHANNEL]  # a new post
        assert "Step 1" in card.text
        next_step = action(card, "probe.next")
        assert next_step["type"] == "Action.Execute" and next_step["style"] == "positive"
        end = next(a for a in actions(card.card) if a.get("title") == "End")
        assert end["type"] == "Action.ShowCard"  # "are you sure?" before a danger button
        assert "End the session for everyone?" in str(end["card"])

        press = teams.execute(SAM, "probe.next", next_step["data"], card_id=card.activity_id)
        answer = await server.post(press)
        assert answer.status == 200
        assert answer.body == {"statusCode": 200, "type": MESSAGE, "value": "Moved on."}
        assert "Step 2" in card.text  # updated in place (PUT), for everyone
        assert len(card.updates) == 1
        [event] = probe.actions
        assert event.value == "step-1" and event.message_id == card.activity_id
        assert event.conversation.conversation_id == CHANNEL

        refused = teams.execute(
            SAM, "probe.refuse", action(card, "probe.refuse")["data"], card_id=card.activity_id
        )
        answer = await server.post(refused)
        assert answer.status == 200
        assert answer.body["value"] == "You can't do that yet."

        again = await server.post(press)  # Teams retrying the same invoke
        assert again.status == 200
        assert again.body["value"] == "That was already done."
        assert len(card.updates) == 1

        end = teams.execute(
            MARIA, "probe.end", end["card"]["actions"][0]["data"], card_id=card.activity_id
        )
        answer = await server.post(end)
        assert answer.body == {"statusCode": 200, "type": MESSAGE, "value": "Done."}
        thread = f"{CHANNEL};messageid={card.activity_id}"
        assert [p.text for p in fake.posted if p.conversation_id == thread] == ["Session ended."]

        crash = teams.execute(MARIA, "probe.crash", {"plcbot_action": "probe.crash"}, card_id="1")
        answer = await server.post(crash)
        assert answer.status == 200
        assert answer.body["value"].startswith("Sorry, something went wrong on my side")
        assert "secret internals" not in answer.text


async def test_a_reply_in_the_cards_thread_is_a_message_replying_to_the_card(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock, features=[Probe.make]) as server:
        probe = probe_of(server)
        await server.post(teams.channel_message(MARIA, "probe card"))
        [card] = [p for p in fake.posted if p.conversation_id == CHANNEL]
        reply = teams.channel_message(
            SAM, "Students need more think time", mention_bot=False, thread=card.activity_id
        )
        assert (await server.post(reply)).status == 202
    message = probe.messages[-1]
    assert message.text == "Students need more think time"
    assert message.reply_to == card.activity_id
    assert message.conversation.conversation_id == CHANNEL
    thread = f"{CHANNEL};messageid={card.activity_id}"
    assert [p.text for p in fake.posted if p.conversation_id == thread] == [
        "Contribution noted from Sam Okafor."
    ]


async def test_a_form_in_a_personal_chat_is_card_inputs_and_its_execute_replaces_it(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    chat = f"a:personal-{MARIA.user_id}"
    async with teams_server(sqlite_url, clock, features=[Probe.make]) as server:
        probe = probe_of(server)
        await server.post(teams.personal_message(MARIA, "probe form"))
        [form] = fake.in_conversation(chat)
        body = {e["id"]: e for e in form.card["body"] if "id" in e}
        assert body["note"]["type"] == "Input.Text" and body["note"]["isMultiline"] is True
        assert body["note"]["maxLength"] == 500 and body["note"]["isRequired"] is True
        assert body["due"]["type"] == "Input.Date" and body["due"]["isRequired"] is False
        assert body["mood"]["type"] == "Input.ChoiceSet"
        assert body["mood"]["choices"] == [
            {"title": "Good", "value": "good"},
            {"title": "Meh", "value": "meh"},
        ]
        save = action(form, "probe.note")
        assert save["title"] == "Save note" and save["associatedInputs"] == "auto"

        empty = {**save["data"], "note": "  ", "mood": "good"}
        answer = await server.post(
            teams.execute(MARIA, "probe.note", empty, card_id=form.activity_id, where="personal")
        )
        # refused: the form stays on screen (a message, not a replacement card)
        assert answer.body == {
            "statusCode": 200,
            "type": MESSAGE,
            "value": "The note is empty; please write something.",
        }

        filled = {**save["data"], "note": "Try exit tickets", "due": "2026-12-01", "mood": "meh"}
        answer = await server.post(
            teams.execute(MARIA, "probe.note", filled, card_id=form.activity_id, where="personal")
        )
        assert answer.status == 200 and answer.body["type"] == CARD
        assert "Saved your note: Try exit tickets" in str(answer.body["value"])
    event = probe.actions[-1]
    assert event.action_id == "probe.note" and event.value == "form-v1"
    assert dict(event.form) == {"note": "Try exit tickets", "due": "2026-12-01", "mood": "meh"}
    assert len(fake.in_conversation(chat)) == 1  # the answer replaced the form; nothing posted


async def test_action_submit_arrives_as_a_message_with_the_cards_values(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    chat = f"a:personal-{MARIA.user_id}"
    async with teams_server(sqlite_url, clock, features=[Probe.make]) as server:
        probe = probe_of(server)
        await server.post(teams.personal_message(MARIA, "probe form"))
        [form] = fake.in_conversation(chat)
        data = {**action(form, "probe.note")["data"], "note": "Pair up", "mood": "good"}
        submit = teams.submit(MARIA, data, card_id=form.activity_id, where="personal")
        assert (await server.post(submit)).status == 202
    event = probe.actions[-1]
    assert event.action_id == "probe.note" and event.message_id == form.activity_id
    assert dict(event.form) == {"note": "Pair up", "due": "", "mood": "good"}
    assert fake.texts(chat)[-1] == "Saved your note: Pair up"
