"""The App Home tab: each member's overview, contributed by the features."""

from __future__ import annotations

from bot.events import ActionEvent, ConversationKind
from tests.slack.showcase import Showcase
from tests.slack.test_commands import texts
from tests.slack.workspace import MARIA, SlackWorkspace


def home_opened(user: str = MARIA) -> dict[str, object]:
    return {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}


async def test_a_newcomer_sees_a_welcome(slack: SlackWorkspace) -> None:
    await slack.event(home_opened())
    await slack.settled()
    (published,) = slack.fake.calls_to("views.publish")
    assert published["user_id"] == MARIA and published["view"]["type"] == "home"
    shown = texts({"blocks": published["view"]["blocks"]})  # type: ignore[arg-type]
    assert "plcbot for Maria Garcia" in shown and "/plcbot help" in shown and "/team" in shown


async def test_a_member_sees_what_the_features_contribute(slack: SlackWorkspace) -> None:
    await slack.command("/team")
    await slack.settled()
    await slack.event(home_opened())
    await slack.event({**home_opened(), "tab": "messages"})  # the Messages tab: nothing to do
    await slack.settled()
    (published,) = slack.fake.calls_to("views.publish")
    shown = texts({"blocks": published["view"]["blocks"]})  # type: ignore[arg-type]
    assert "Your open commitments: 2" in shown


async def test_a_button_on_the_home_tab_acts_in_the_dm_and_refreshes_the_home(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    await slack.click("show.rate#0", "home-7", in_view=True)
    await slack.settled()
    event = showcase.seen[-1]
    assert isinstance(event, ActionEvent) and event.value == "home-7"
    assert event.conversation.kind == ConversationKind.DIRECT
    assert event.conversation.conversation_id == "D" + MARIA
    assert event.message_id is None
    reply = slack.fake.calls_to("chat.postMessage")[-1]
    assert reply["channel"] == "D" + MARIA and "Pressed show.rate with home-7" in texts(reply)
    assert slack.fake.calls_to("views.publish")
