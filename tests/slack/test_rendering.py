"""Every neutral block as Block Kit, forms as modals, cards updated in place, files uploaded."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack.forms import FORM_CALLBACK
from bot.events import ActionEvent
from tests.slack.showcase import Showcase
from tests.slack.test_commands import texts
from tests.slack.workspace import CHANNEL, JO, MARIA, SAM, SlackWorkspace


def by_type(blocks: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == kind]


async def test_every_block_type(slack: SlackWorkspace, showcase: Showcase) -> None:
    await slack.command("/show", "all")
    await slack.settled()
    (post,) = slack.fake.calls_to("chat.postMessage")
    assert post["channel"] == CHANNEL
    assert post["text"] == "Everything at once"  # the notification fallback
    assert "link_names" not in post.args and "parse" not in post.args
    blocks = post["blocks"]
    assert blocks[0]["type"] == "header"

    today, plain = by_type(blocks, "section")[:2]
    assert today["text"] == {
        "type": "mrkdwn",
        "verbatim": True,
        "text": f"*Today*\nWelcome, <@{MARIA}>! Read "
        "<https://example.org/tuning|the tuning protocol> and note *one* thing.",
    }
    # user-like text with no formatting goes in plain_text, which Slack never parses
    assert plain["text"]["type"] == "plain_text"
    assert plain["text"]["text"] == "Plain words only, with <b>tags</b> & ampersands."

    fields = next(b for b in blocks if "fields" in b)["fields"]
    assert [f["text"] for f in fields] == ["*Step*\n2 of 5", "*Speaker*\nSam"]
    sections = [b["text"]["text"] for b in by_type(blocks, "section") if "text" in b]
    assert "*Steps*\n1. Clarify  _(done)_\n2. Probe  _(now)_" in sections
    assert "*Parked questions*\n_nothing parked_" in sections

    contexts = [b["elements"][0]["text"] for b in by_type(blocks, "context")]
    running = next(c for c in contexts if "Probing questions" in c)
    assert "4:00 left of 5:00" in running and "<!date^" in running and "{time}" in running
    assert any("*Paused*: paused with 1:30 left of 5:00" in c for c in contexts)
    assert any("Commitments kept" in c and "picture follows" in c for c in contexts)
    assert contexts[-1] == "Facilitated by plcbot"
    assert by_type(blocks, "divider")

    (actions,) = by_type(blocks, "actions")
    buttons = actions["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Good", "Low", "End"]
    assert len({b["action_id"] for b in buttons}) == 3  # unique, as Slack requires
    assert [b.get("style") for b in buttons] == ["primary", None, "danger"]
    assert buttons[2]["confirm"]["text"]["text"] == "End now?"

    # the chart and the attachment follow as files in the same channel
    completes = slack.fake.calls_to("files.completeUploadExternal")
    assert [c["channel_id"] for c in completes] == [CHANNEL, CHANNEL]
    uploads = list(slack.fake.uploads.values())
    assert uploads[0].startswith(b"\x89PNG") and uploads[1] == b"# Notes\n"
    assert slack.fake.calls_to("files.getUploadURLExternal")[0]["alt_txt"]

    # pressing a button gives the feature its own action id and the value, byte for byte
    await slack.click_button(blocks, "Low", message_ts=post.get("ts") or "1700000001.000001")
    await slack.settled()
    pressed = showcase.seen[-1]
    assert isinstance(pressed, ActionEvent)
    assert (pressed.action_id, pressed.value) == ("show.rate", "session=42;v=7;low")
    reply = slack.fake.answers()[-1]
    assert "Pressed show.rate with session=42;v=7;low" in texts(reply)


async def test_long_messages_are_split_within_block_kit_limits(slack: SlackWorkspace) -> None:
    await slack.command("/show", "long")
    await slack.settled()
    posts = slack.fake.calls_to("chat.postMessage")
    assert len(posts) == 2  # 1 header + 3 pieces of the paragraph + 60 items = 64 blocks
    assert all(len(p["blocks"]) <= 50 for p in posts)  # the fake refuses more, too
    pieces = [b["text"]["text"] for p in posts for b in p["blocks"] if b["type"] == "section"]
    paragraph = "This paragraph is long enough to need splitting. " * 150
    assert all(len(piece) <= 3000 for piece in pieces)
    assert " ".join(pieces[:3]).split() == paragraph.split()
    assert pieces[-1] == "Item 59"


async def test_a_form_opens_as_a_modal_and_its_submission_is_an_action(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    await slack.command("/show", "form")
    await slack.settled()
    (opened,) = slack.fake.calls_to("views.open")
    assert opened["trigger_id"].endswith("trig00001")  # the command's own trigger
    view = opened["view"]
    assert view["callback_id"] == FORM_CALLBACK
    assert len(view["title"]["text"]) <= 24 and view["title"]["text"].startswith("How did")
    assert view["submit"]["text"] == "Send"
    inputs = {b["block_id"]: b for b in view["blocks"]}
    assert inputs["headline"]["element"]["type"] == "plain_text_input"
    assert inputs["detail"]["element"]["multiline"] is True
    assert inputs["detail"]["element"]["max_length"] == 3000  # Slack's ceiling
    assert inputs["detail"]["optional"] is True
    assert inputs["when"]["element"] == {
        "type": "datepicker",
        "action_id": "when",
        "initial_date": "2026-12-01",
    }
    mood = inputs["mood"]["element"]
    assert mood["type"] == "static_select" and mood["initial_option"]["value"] == "mixed"
    # no fallback message when the modal opened (only the new lead's welcome)
    assert not any("How did" in texts(c) for c in slack.fake.answers())

    values = {
        "headline": "We listened <!channel>",
        "detail": None,
        "when": "2026-12-03",
        "mood": "good",
    }
    answer = await slack.submit(view, values, user=SAM)
    assert answer.status == 200 and answer.text == ""  # an empty ack closes the modal
    await slack.settled()
    submitted = showcase.seen[-1]
    assert isinstance(submitted, ActionEvent)
    assert submitted.action_id == "show.survey" and submitted.value == "session=42;v=7"
    assert dict(submitted.form) == {
        "headline": "We listened <!channel>",
        "detail": "",
        "when": "2026-12-03",
        "mood": "good",
    }
    assert submitted.actor.user_id == SAM and submitted.conversation.conversation_id == CHANNEL
    reply = slack.fake.answers()[-1]  # through the command's response_url
    assert reply["response_type"] == "ephemeral"
    assert "We listened &lt;!channel&gt;" in reply["text"]


async def test_a_form_that_cannot_open_is_shown_as_a_message(slack: SlackWorkspace) -> None:
    slack.fake.fail("views.open", "expired_trigger_id")
    await slack.command("/show", "form")
    await slack.settled()
    reply = slack.fake.answers()[-1]
    assert "How did today" in texts(reply) and "/show answer TEXT" in texts(reply)


async def test_a_form_sent_in_a_message_opens_from_its_button(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    await slack.command("/show", "offer", user=JO)
    await slack.settled()
    (post,) = slack.fake.calls_to("chat.postMessage")
    assert "Or type: `/show answer TEXT`" in texts(post)
    await slack.click_button(post["blocks"], "Send", user=JO, message_ts=post.get("ts", "1.1"))
    await slack.settled()
    (opened,) = slack.fake.calls_to("views.open")
    assert opened["trigger_id"].endswith("act00002")  # the click's trigger
    assert not showcase.seen  # opening the form is the adapter's business
    await slack.submit(
        opened["view"], {"headline": "Fine", "when": "2026-12-02", "mood": "low"}, user=JO
    )
    await slack.settled()
    assert isinstance(showcase.seen[-1], ActionEvent) and showcase.seen[-1].form["mood"] == "low"
    assert "Thanks! detail=, headline=Fine" in texts(slack.fake.answers()[-1])


async def test_a_card_is_updated_in_place(slack: SlackWorkspace) -> None:
    await slack.command("/show", "card")
    await slack.settled()
    (post,) = slack.fake.calls_to("chat.postMessage")
    ts = slack.fake.messages and next(iter(slack.fake.messages))[1]
    await slack.click_button(post["blocks"], "Bump", message_ts=ts)
    await slack.settled()
    (update,) = slack.fake.calls_to("chat.update")
    assert (update["channel"], update["ts"]) == (CHANNEL, ts)
    assert update["blocks"][0]["text"]["text"] == "Card, version 2"
    assert json.dumps(update["blocks"]).count('"value": "2"') == 1


async def test_direct_messages_and_the_roster(slack: SlackWorkspace) -> None:
    await slack.command("/show", "dm")
    await slack.command("/show", "roster")
    await slack.settled()
    dm = slack.fake.calls_to("chat.postMessage")[-1]
    assert dm.landed == "D" + MARIA and "A private note for you." in texts(dm)
    # the two commands run side by side: the roster is whichever answer lists people
    answers = [texts(c) for c in slack.fake.answers()]
    assert any("Maria Garcia, Sam Lee, Jo Okafor" in a for a in answers), answers  # not the bot
