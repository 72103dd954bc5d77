"""A whole Tuning protocol in a Slack channel, through the real protocol feature.

Three members; the facilitator starts it with ``/protocol start tuning @presenter``, the
session message is posted once and redrawn with ``chat.update`` as she presses its buttons
(``block_actions`` payloads carrying the action ids, values and message plcbot drew), people
contribute by replying in the message's thread and through the "Add contribution" modal
(once anonymously), and at the end the summary is posted and each next step reaches its
author's DM as a commitment draft. Everything is asserted on what the fake Slack received.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from sqlalchemy import select

from adapters.slack.pacing import ChannelPacer
from bot.clock import FakeClock
from storage.commitments import CommitmentRow
from storage.models import MemberRow
from tests.slack.test_commands import texts
from tests.slack.workspace import (
    CHANNEL,
    JO,
    MARIA,
    SAM,
    Answer,
    SlackWorkspace,
    running_slack,
)
from tests.support.fake_slack import APP_ID, BOT_ID, Call, FakeSlack

PRESENTED = "Grade 5 fractions unit, week 3: students scale a recipe for the whole class."
CLARIFYING = "How many students completed the task?"
EXAMINED = "Most explanations justify each scaling step."
ANONYMOUS = "The rubric rewards correct answers more than reasoning."
WARM_COOL = "Warm: the recipe context gets everyone in. Cool: where is equivalence named?"
WARM_COOL_2 = "Warm: explanations every time. Cool: could they compare two recipes?"
PRESENTER_NOTE = "Noting: rubric weighting came up twice."
REFLECTED = "I'll add a comparison prompt and weight reasoning in the rubric."
NEXT_STEPS = {
    SAM: "Rewrite the final task with a compare-two-recipes prompt by Friday.",
    JO: "Try the comparison prompt with my class next week.",
    MARIA: "Bring three student samples to our next meeting.",
}
OFF_TOPIC = "Lunch at noon in room 12?"
NAMES = {MARIA: "Maria Garcia", SAM: "Sam Lee", JO: "Jo Okafor"}


def header(message: dict[str, Any]) -> str:
    first = message["blocks"][0]
    assert first["type"] == "header", first
    return str(first["text"]["text"])


def initial_values(view: dict[str, Any]) -> dict[str, str | None]:
    """What a modal submits when the person changes nothing: each input's initial value."""
    values: dict[str, str | None] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        values[block["block_id"]] = (
            element.get("initial_value")
            or element.get("initial_date")
            or (element.get("initial_option") or {}).get("value")
        )
    return values


class Session:
    """The channel's session message and the three people working with it."""

    def __init__(self, slack: SlackWorkspace) -> None:
        self.slack = slack
        self.fake = slack.fake
        self.card_ts = ""
        self._msg_ids = itertools.count(1)

    def message(self, channel: str = CHANNEL, ts: str | None = None) -> dict[str, Any]:
        """A message as Slack holds it now (after every ``chat.update``)."""
        return self.fake.messages[(channel, ts or self.card_ts)]

    def step(self) -> str:
        return header(self.message())

    def posted(self, method: str, since: int) -> list[Call]:
        return [c for c in self.fake.calls[since:] if c.method == method]

    async def press(
        self,
        person: str,
        label: str,
        *,
        channel: str = CHANNEL,
        channel_name: str = "plc-math",
        ts: str | None = None,
    ) -> dict[str, Any]:
        """Press a button of a message exactly as Slack reports it: the action's id, value and
        block, the whole message with its blocks, a fresh trigger id and response URL."""
        ts = ts or self.card_ts
        message = self.message(channel, ts)
        found = [
            (block, element)
            for block in message["blocks"]
            for element in block.get("elements") or []
            if element.get("type") == "button" and element["text"]["text"] == label
        ]
        assert found, f"no {label!r} button on: {texts(message)}"
        block, element = found[0]
        payload = self.slack.block_actions(
            element["action_id"], element.get("value"), user=person, channel=channel, message_ts=ts
        )
        action = payload["actions"][0]
        action["block_id"] = block.get("block_id") or "actions"
        action["text"] = element["text"]
        if "style" in element:
            action["style"] = element["style"]
        payload["channel"]["name"] = channel_name
        payload["message"] = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "user": self.fake.bot_user_id,
            "team": self.fake.team_id,
            "ts": ts,
            "text": message["text"],
            "blocks": message["blocks"],
        }
        payload["state"] = {"values": {}}
        answer = await self.slack.interaction(payload)
        assert answer == Answer(200, ""), answer  # acknowledged at once, nothing replaced
        await self.slack.settled()
        return payload

    async def next(self) -> str:
        before = len(self.fake.calls)
        await self.press(MARIA, "Next step")
        [update] = self.posted("chat.update", before)
        assert (update["channel"], update["ts"]) == (CHANNEL, self.card_ts)
        return self.step()

    async def reply(self, person: str, text: str) -> None:
        """A reply in the session message's thread, as the Events API delivers it."""
        n = next(self._msg_ids)
        event = self.slack.message_event(
            text,
            user=person,
            thread_ts=self.card_ts,
            parent_user_id=self.fake.bot_user_id,
            client_msg_id=f"6c1f0e2a-0000-4000-8000-{n:012d}",
            team=self.fake.team_id,
        )
        event["event_ts"] = event["ts"]
        answer = await self.slack.event(event)
        assert answer.status == 200
        await self.slack.settled()

    async def contribute_with_form(
        self, person: str, text: str, *, anonymous: bool = False
    ) -> dict[str, Any]:
        """Press "Add contribution", then fill in and submit the modal plcbot opened."""
        before = len(self.fake.calls)
        pressed = await self.press(person, "Add contribution")
        [opened] = self.posted("views.open", before)
        assert opened["trigger_id"] == pressed["trigger_id"]  # the click's own trigger
        view: dict[str, Any] = opened["view"]
        values: dict[str, str | None] = {**initial_values(view), "text": text}
        if anonymous:
            assert values["anonymous"] == "named"  # named unless you choose
            values["anonymous"] = "anonymous"
        answer = await self.slack.submit(view, values, user=person)
        assert answer == Answer(200, ""), answer  # the modal closes
        await self.slack.settled()
        return view


async def test_a_whole_tuning_protocol_runs_in_a_slack_channel(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    # Slack allows about one message a second in a channel and plcbot paces itself to that;
    # this session sends some forty in a moment, so here the pacer lets them all through
    # instead of the test sleeping for real (pacing is tested in test_delivery).
    permissive = ChannelPacer(rate=1000.0, burst=1000)
    async with running_slack(sqlite_url, clock, fake, pacer=permissive) as slack:
        session = Session(slack)
        await slack.command("/team", "sync")
        await slack.settled()
        fake.calls.clear()

        await slack.command("/protocol", f"start tuning <@{SAM}|slee>")
        await slack.settled()
        # the session message is a new post in the channel; its thread collects the talk
        [card] = [
            c
            for c in fake.calls_to("chat.postMessage")
            if c["channel"] == CHANNEL and not c.get("thread_ts")
        ]
        [(_, session.card_ts)] = [
            k for k, m in fake.messages.items() if m["blocks"] == card["blocks"]
        ]
        assert card["blocks"][0]["type"] == "header"
        assert session.step() == "Tuning protocol: step 1 of 9"
        assert f"Facilitator: <@{MARIA}> · Presenter: <@{SAM}>" in texts(card)
        buttons = [e for b in card["blocks"] for e in b.get("elements") or [] if "action_id" in e]
        assert [(b["text"]["text"], b["value"]) for b in buttons] == [
            ("Back", "1:1"),
            ("Next step", "1:1"),
            ("Pause", "1:1"),
            ("End", "1:1"),
        ]
        intro = [c for c in fake.calls_to("chat.postMessage") if c.get("thread_ts")]
        assert intro and all(c["thread_ts"] == session.card_ts for c in intro)
        assert "Welcome to Tuning protocol" in texts(intro[0])

        # 1 -> 2: the message is redrawn in place and its buttons carry the new version
        before = len(fake.calls)
        first = await session.press(MARIA, "Next step")
        [update] = session.posted("chat.update", before)
        assert (update["channel"], update["ts"]) == (CHANNEL, session.card_ts)
        assert session.step() == "Tuning protocol: step 2 of 9"
        assert {
            e.get("value")
            for b in session.message()["blocks"]
            for e in b.get("elements") or []
            if "action_id" in e
        } == {"1:2"}

        # a second click on the drawing Maria saw (a new payload, so not a duplicate delivery)
        # is not a second step: she alone is told it already happened
        again = copy.deepcopy(first)
        again["trigger_id"] = slack.next_id("13345224609.738474920.act")
        again["actions"][0]["action_ts"] = "1795424401.000200"
        before = len(fake.calls)
        assert await slack.interaction(again) == Answer(200, "")
        await slack.settled()
        assert session.step() == "Tuning protocol: step 2 of 9"
        [told] = session.posted("response_url", before)
        assert told["response_type"] == "ephemeral" and "That already happened" in texts(told)
        assert not session.posted("chat.update", before)

        await session.reply(SAM, PRESENTED)
        assert await session.next() == "Tuning protocol: step 3 of 9"
        await session.reply(JO, CLARIFYING)
        # talk in another message's thread is not part of the session
        await slack.message(OFF_TOPIC, user=JO, thread_ts="1699999999.000100")
        await slack.settled()
        assert await session.next() == "Tuning protocol: step 4 of 9"

        # a named contribution through the modal (this step has no anonymous choice)
        view = await session.contribute_with_form(JO, EXAMINED)
        assert view["type"] == "modal" and view["title"]["text"] == "Add a contribution"
        assert [b["block_id"] for b in view["blocks"]] == ["text"]
        assert await session.next() == "Tuning protocol: step 5 of 9"

        # "Prepare your feedback" welcomes anonymous drafts: Sam's goes in without a name
        before = len(fake.calls)
        view = await session.contribute_with_form(SAM, ANONYMOUS, anonymous=True)
        assert view["blocks"][1]["element"]["type"] == "static_select"
        [shown] = [c for c in session.posted("chat.postMessage", before) if ANONYMOUS in texts(c)]
        assert shown["channel"] == CHANNEL and shown["thread_ts"] == session.card_ts
        assert "Sam" not in texts(shown) and SAM not in texts(shown)
        [private] = session.posted("response_url", before)
        assert private["response_type"] == "ephemeral" and "without your name" in texts(private)
        assert await session.next() == "Tuning protocol: step 6 of 9"

        # warm and cool feedback goes round the participants; the presenter only takes notes
        await session.reply(JO, WARM_COOL)
        await session.reply(MARIA, WARM_COOL_2)
        await session.reply(SAM, PRESENTER_NOTE)
        assert await session.next() == "Tuning protocol: step 7 of 9"
        await session.reply(SAM, REFLECTED)
        assert await session.next() == "Tuning protocol: step 8 of 9"
        assert await session.next() == "Tuning protocol: step 9 of 9"
        for person, next_step in NEXT_STEPS.items():
            await session.reply(person, next_step)

        before = len(fake.calls)
        await session.press(MARIA, "Finish")
        assert session.step() == "Tuning protocol: ended"
        assert not [
            e
            for b in session.message()["blocks"]
            for e in b.get("elements") or []
            if e.get("type") == "button"
        ]

        # every move redrew the one message; nothing else was ever updated
        updates = fake.calls_to("chat.update")
        assert len(updates) >= 9
        assert {(u["channel"], u["ts"]) for u in updates} == {(CHANNEL, session.card_ts)}

        # the summary is the channel's next post, where everyone sees it
        top_level = [
            c
            for c in fake.calls_to("chat.postMessage")
            if c["channel"] == CHANNEL and not c.get("thread_ts")
        ]
        assert top_level[0] is card and len(top_level) == 2
        summary = top_level[1]
        assert summary in session.posted("chat.postMessage", before)
        shown_summary = texts(summary)
        assert header(summary.args) == "Summary: Tuning protocol (session #1)"
        assert OFF_TOPIC not in shown_summary
        for said in (PRESENTED, CLARIFYING, WARM_COOL, WARM_COOL_2, REFLECTED):
            assert said in shown_summary
        assert f"Jo Okafor: {EXAMINED}" in shown_summary
        assert f"Anonymous: {ANONYMOUS}" in shown_summary
        assert f"Sam Lee: {ANONYMOUS}" not in shown_summary
        assert f"Sam Lee: {PRESENTER_NOTE}" in shown_summary and "presenter's note" in shown_summary
        for person, next_step in NEXT_STEPS.items():
            assert f"{NAMES[person]}: {next_step}" in shown_summary

        # each next step reaches its author's DM as a commitment draft to confirm
        for person, next_step in NEXT_STEPS.items():
            drafts = [
                c
                for c in fake.calls_to("chat.postMessage")
                if c.landed == "D" + person and "Your next step from the meeting" in texts(c)
            ]
            assert len(drafts) == 1, person
            assert next_step in texts(drafts[0])

        # Sam presses Commit in his DM: the modal has the step and "by Friday" as its date
        [(dm, dm_ts)] = [k for k in fake.messages if k[0] == "D" + SAM]
        before = len(fake.calls)
        await session.press(SAM, "Commit", channel=dm, channel_name="directmessage", ts=dm_ts)
        [opened] = session.posted("views.open", before)
        values = initial_values(opened["view"])
        assert values["what"] == "Rewrite the final task with a compare-two-recipes prompt"
        assert values["due"] == "2026-11-27"  # "by Friday", read from the step
        assert (await slack.submit(opened["view"], values, user=SAM)).status == 200
        await slack.settled()

        async with slack.bot.db.read() as db:
            rows = (
                await db.execute(
                    select(CommitmentRow, MemberRow.user_id).join(
                        MemberRow, MemberRow.id == CommitmentRow.owner_id
                    )
                )
            ).all()
        assert [(r.what, r.due_on.isoformat(), r.session_id, who) for r, who in rows] == [
            ("Rewrite the final task with a compare-two-recipes prompt", "2026-11-27", 1, SAM)
        ]

    everything = "\n".join(texts(c) for c in fake.sent)
    assert "Sorry" not in everything and "no longer works" not in everything
