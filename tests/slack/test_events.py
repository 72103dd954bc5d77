"""Messages and thread replies as MessageEvents; retried deliveries take effect once."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.events import ConversationKind, MessageEvent
from tests.slack.showcase import Showcase
from tests.slack.test_commands import texts
from tests.slack.workspace import CHANNEL, MARIA, SAM, SlackWorkspace, running_slack
from tests.support.fake_slack import FakeSlack

CARD_TS = "1700000005.000500"


async def test_a_thread_reply_is_a_message_event_in_the_thread(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    answer = await slack.message(
        f"I wonder whether <@{SAM}> tried this &amp; more", user=MARIA, thread_ts=CARD_TS
    )
    assert answer.status == 200
    await slack.settled()
    (event,) = showcase.seen
    assert isinstance(event, MessageEvent)
    assert event.text == "I wonder whether @Sam_Lee tried this & more"
    assert [m.user_id for m in event.mentions] == [SAM]
    assert event.reply_to == CARD_TS
    assert event.conversation.thread_id == CARD_TS
    assert event.conversation.conversation_id == CHANNEL
    assert event.conversation.kind == ConversationKind.CHANNEL
    assert event.actor.display_name == "Maria Garcia"
    reply = slack.fake.calls_to("chat.postMessage")[-1]
    assert reply["thread_ts"] == CARD_TS and "Heard: I wonder whether" in texts(reply)


async def test_a_top_level_message_has_no_reply_to(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    await slack.message("Good morning, team")
    await slack.settled()
    (event,) = showcase.seen
    assert isinstance(event, MessageEvent) and event.reply_to is None
    assert event.conversation.thread_id is None
    assert not slack.fake.calls_to("chat.postMessage")  # nobody took it: no answer in a channel


async def test_a_broadcast_thread_reply_counts(slack: SlackWorkspace, showcase: Showcase) -> None:
    await slack.message("Also to the channel", thread_ts=CARD_TS, subtype="thread_broadcast")
    await slack.settled()
    assert [e.reply_to for e in showcase.seen] == [CARD_TS]


async def test_the_bots_own_messages_edits_and_other_subtypes_are_ignored(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    fake = slack.fake
    await slack.message("I said this", user=fake.bot_user_id, thread_ts=CARD_TS)
    await slack.message("another bot", user=SAM, bot_id="B0OTHER", thread_ts=CARD_TS)
    await slack.message("edited", user=SAM, subtype="message_changed", thread_ts=CARD_TS)
    await slack.message("joined", user=SAM, subtype="channel_join")
    await slack.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": CHANNEL,
            "ts": "1.2",
            "channel_type": "channel",
        }
    )
    await slack.settled()
    assert showcase.seen == []
    assert fake.sent == []


async def test_a_direct_message_gets_help(slack: SlackWorkspace, showcase: Showcase) -> None:
    await slack.message("hello?", channel="D" + MARIA, channel_type="im")
    await slack.settled()
    (event,) = showcase.seen
    assert event.conversation.kind == ConversationKind.DIRECT
    replies = slack.fake.calls_to("chat.postMessage")
    assert replies[-1]["channel"] == "D" + MARIA and "what I can do" in texts(replies[-1])
    assert not slack.fake.calls_to("conversations.info")  # the event said it was a DM


async def test_a_retried_event_is_applied_once(slack: SlackWorkspace, showcase: Showcase) -> None:
    event = slack.message_event("My contribution", thread_ts=CARD_TS)
    first = await slack.event(event, event_id="Ev0RETRY1")
    again = await slack.event(event, event_id="Ev0RETRY1", retry=1)
    assert (first.status, again.status) == (200, 200)
    await slack.settled()
    await slack.event(event, event_id="Ev0RETRY1", retry=2)
    await slack.settled()
    assert len(showcase.seen) == 1
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_a_retried_event_is_applied_once_across_a_restart(
    db_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    first, second = Showcase(), Showcase()
    async with running_slack(db_url, clock, fake, features=[first]) as slack:
        event = slack.message_event("Before the restart", thread_ts=CARD_TS)
        await slack.event(event, event_id="Ev0ACROSS")
    async with running_slack(db_url, clock, fake, features=[second]) as slack:
        await slack.event(event, event_id="Ev0ACROSS", retry=1)
        await slack.event(slack.message_event("A new one", thread_ts=CARD_TS))
    assert [e.text for e in first.seen] == ["Before the restart"]
    assert [e.text for e in second.seen] == ["A new one"]  # the retry was dropped


async def test_an_identical_interaction_payload_is_applied_once(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    """A double click is two payloads (and the feature's state version guards it); a replayed
    identical payload is one."""
    payload = slack.block_actions("show.rate#1", "session=42;v=7;low")
    await slack.interaction(payload)
    await slack.interaction(payload)
    await slack.settled()
    assert len(showcase.seen) == 1
    await slack.click("show.rate#1", "session=42;v=7;low")  # a second, real click
    await slack.settled()
    assert len(showcase.seen) == 2
