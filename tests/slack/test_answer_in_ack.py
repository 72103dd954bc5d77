"""A slash command's first private answer comes back in its ack (adapters/slack/answer.py)."""

from __future__ import annotations

import json

import pytest

from bot.clock import FakeClock
from bot.settings import SettingsError
from tests.slack.showcase import Showcase
from tests.slack.test_commands import texts
from tests.slack.workspace import SlackWorkspace, running_slack
from tests.support.fake_slack import FakeSlack


async def test_a_quick_private_answer_rides_on_the_ack(slack: SlackWorkspace) -> None:
    await slack.command("/team")  # Maria's welcome as the channel's first member is said
    await slack.settled()
    before = len(slack.fake.answers())
    answer = await slack.command("/show", "whisper <!channel> and <!here> come and see")
    await slack.settled()
    assert answer.status == 200
    body = json.loads(answer.text)
    assert body["response_type"] == "ephemeral"  # only the person who typed it sees it
    assert "Only you see this: @channel and @here come and see" in texts(body)
    assert "<!channel>" not in answer.text and "<!here>" not in answer.text
    [told] = slack.fake.answers()[before:]
    assert told.method == "ack"  # nothing went to the response URL as well


async def test_an_answer_too_long_for_one_message_goes_to_the_response_url(
    slack: SlackWorkspace,
) -> None:
    await slack.command("/team")
    await slack.settled()
    before = len(slack.fake.answers())
    answer = await slack.command("/show", "long private")
    await slack.settled()
    assert answer.status == 200 and answer.text == ""  # acknowledged empty once handled
    parts = slack.fake.answers()[before:]
    assert [p.method for p in parts] == ["response_url", "response_url"]
    assert all(len(p["blocks"]) <= 50 for p in parts)
    assert "Item 59" in texts(parts[-1])


async def test_with_no_wait_the_ack_is_empty_and_the_answer_follows(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    env = {"PLCBOT_SLACK_ANSWER_WAIT": "0"}
    async with running_slack(sqlite_url, clock, fake, features=[Showcase()], **env) as slack:
        answer = await slack.command("/show", "whisper hello")
        assert answer.status == 200 and answer.text == ""
        await slack.settled()
        answers = fake.answers()  # the new lead's welcome, then the whisper
        assert [a.method for a in answers] == ["response_url", "response_url"]
        assert "Only you see this: hello" in texts(answers[-1])


@pytest.mark.parametrize("wait", ["soon", "-5", "2500"])
async def test_a_wrong_answer_wait_is_named_at_start_up(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack, wait: str
) -> None:
    with pytest.raises(SettingsError, match="PLCBOT_SLACK_ANSWER_WAIT: expected milliseconds"):
        async with running_slack(sqlite_url, clock, fake, PLCBOT_SLACK_ANSWER_WAIT=wait):
            pass
