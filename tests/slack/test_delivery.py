"""Rate limits and pacing: 429s are waited out or handed back, nothing is dropped."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.directory import Directory
from adapters.slack.messenger import SlackMessenger
from adapters.slack.pacing import ChannelPacer
from adapters.slack.webapi import INTERACTIVE, FixedToken, SlackApi
from bot.clock import FakeClock
from bot.events import ConversationKind, ConversationRef, MemberRef
from bot.messages import Button, OutMessage, Section, say, text
from bot.ports import DeliveryError, RateLimited
from tests.slack.test_commands import texts
from tests.slack.workspace import CHANNEL, MARIA, SlackWorkspace
from tests.support.fake_slack import BOT_TOKEN, FakeSlack


class FakeTime:
    """Monotonic time that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
async def api(fake: FakeSlack):  # type: ignore[no-untyped-def]
    time = FakeTime()
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(base_url=fake.api_url, session=session)
        pacer = ChannelPacer(monotonic=time.monotonic, sleep=time.sleep)
        yield SlackApi(client, FixedToken(BOT_TOKEN), pacer, sleep=time.sleep), time


async def post(api: SlackApi, text: str = "hi") -> str:
    response = await api.call("T0PLC", "chat_postMessage", pace=CHANNEL, channel=CHANNEL, text=text)
    return str(response["ts"])


async def test_an_interactive_send_waits_out_a_429(
    fake: FakeSlack, api: tuple[SlackApi, FakeTime], clock: FakeClock
) -> None:
    """Someone who just pressed or typed something waits out even a Retry-After longer than a
    job would (the one below is handed back), and the card is posted once."""
    slack_api, time = api
    messenger = SlackMessenger(slack_api, Directory(slack_api), clock)
    channel = ConversationRef("slack", "T0PLC", CHANNEL, ConversationKind.CHANNEL, "plc-math")
    card = OutMessage(
        title="Tuning protocol: step 1 of 9",
        blocks=(Section(text("Welcome, norms and roles")),),
        buttons=(Button("Next step", "protocol.next", "1:1", style="primary"),),
    )
    fake.rate_limit("chat.postMessage", retry_after=30)
    token = INTERACTIVE.set(True)
    try:
        sent = await messenger.post(channel, card)
    finally:
        INTERACTIVE.reset(token)
    refused, accepted = fake.calls_to("chat.postMessage")
    assert refused.args == accepted.args  # the same card, sent again
    assert time.slept == [30.0]  # Retry-After honoured, on the fake clock
    assert list(fake.messages) == [(CHANNEL, sent.message_id)]  # and the card was posted once


async def test_a_scheduled_send_hands_a_long_429_back_to_the_scheduler(
    fake: FakeSlack, api: tuple[SlackApi, FakeTime]
) -> None:
    slack_api, time = api
    fake.rate_limit("chat.postMessage", retry_after=30)
    with pytest.raises(RateLimited) as raised:
        await post(slack_api)
    assert raised.value.retry_after == 30
    assert time.slept == []  # a job never sleeps 30 seconds in a worker
    # the channel is held for everyone until then
    assert slack_api.pacer.delay_for(CHANNEL) == pytest.approx(30)


async def test_a_short_429_is_waited_out_in_place(
    fake: FakeSlack, api: tuple[SlackApi, FakeTime]
) -> None:
    slack_api, time = api
    fake.rate_limit("chat.postMessage", retry_after=2)
    assert await post(slack_api)
    assert time.slept == [2.0]
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_interactive_sends_wait_even_long_429s(
    fake: FakeSlack, api: tuple[SlackApi, FakeTime]
) -> None:
    slack_api, time = api
    fake.rate_limit("users.info", retry_after=30, times=2)
    token = INTERACTIVE.set(True)
    try:
        response = await slack_api.call("T0PLC", "users_info", user=MARIA)
    finally:
        INTERACTIVE.reset(token)
    assert response["user"]["id"] == MARIA
    assert time.slept == [30.0, 30.0]


async def test_interactive_sends_give_up_after_three_minutes(
    fake: FakeSlack, api: tuple[SlackApi, FakeTime]
) -> None:
    slack_api, _ = api
    fake.rate_limit("users.info", retry_after=100, times=3)
    token = INTERACTIVE.set(True)
    try:
        with pytest.raises(DeliveryError, match="kept rate-limiting"):
            await slack_api.call("T0PLC", "users_info", user=MARIA)
    finally:
        INTERACTIVE.reset(token)


async def test_pacing_spaces_messages_in_one_channel_not_across_channels() -> None:
    time = FakeTime()
    pacer = ChannelPacer(rate=1.0, burst=3, monotonic=time.monotonic, sleep=time.sleep)
    waits = [pacer.delay_for("C1") for _ in range(6)]
    assert waits == [0, 0, 0, 1, 2, 3]  # a burst of three, then one a second, in order
    assert pacer.delay_for("C2") == 0
    time.now += 10
    assert pacer.delay_for("C1") == 0  # refilled
    pacer.hold("C1", 20)
    assert pacer.delay_for("C1") == pytest.approx(20)
    await pacer.wait("C2")
    assert time.slept == []


async def test_permanent_refusals_are_delivery_errors(slack: SlackWorkspace) -> None:
    slack.fake.fail("chat.postMessage", "is_archived")
    channel = ConversationRef("slack", "T0PLC", CHANNEL, name="plc-math")
    with pytest.raises(DeliveryError, match="archived"):
        await slack.bot.core.outbox.post(channel, say("Reminder"))


async def test_plcbot_joins_a_public_channel_it_was_used_in(slack: SlackWorkspace) -> None:
    slack.fake.add_channel("C0SCI", "plc-science", [MARIA], bot_is_member=False)
    await slack.command("/show", "card", channel="C0SCI", channel_name="plc-science")
    await slack.settled()
    assert [c.method for c in slack.fake.calls if c.method.startswith(("chat", "conv"))] == [
        "conversations.info",
        "chat.postMessage",
        "conversations.join",
        "chat.postMessage",
    ]
    assert len(slack.fake.messages) == 1


async def test_private_messages_fall_back_to_a_dm(slack: SlackWorkspace) -> None:
    messenger = slack.adapter.messenger
    maria = MemberRef("slack", "T0PLC", MARIA, "Maria Garcia")
    channel = ConversationRef("slack", "T0PLC", CHANNEL, ConversationKind.CHANNEL)
    await messenger.post_private(channel, maria, say("Just for you"))
    (ephemeral,) = slack.fake.calls_to("chat.postEphemeral")
    assert ephemeral["user"] == MARIA and "Just for you" in texts(ephemeral)

    slack.fake.add_channel("G0PRIV", "leads", [MARIA], private=True, bot_is_member=False)
    private = ConversationRef("slack", "T0PLC", "G0PRIV", ConversationKind.CHANNEL)
    await messenger.post_private(private, maria, say("Also for you"))
    dm = slack.fake.calls_to("chat.postMessage")[-1]
    assert dm.landed == "D" + MARIA and "Also for you" in texts(dm)


async def test_a_scheduled_send_to_a_held_channel_is_handed_back_too(
    fake: FakeSlack, api: tuple[SlackApi, FakeTime]
) -> None:
    slack_api, time = api
    slack_api.pacer.hold(CHANNEL, 60)
    with pytest.raises(RateLimited) as raised:
        await post(slack_api)
    assert raised.value.retry_after == pytest.approx(60)
    assert time.slept == [] and fake.calls_to("chat.postMessage") == []
    token = INTERACTIVE.set(True)  # a person waiting is served as soon as Slack allows
    try:
        assert await post(slack_api)
    finally:
        INTERACTIVE.reset(token)
    assert time.slept == [pytest.approx(60)]
