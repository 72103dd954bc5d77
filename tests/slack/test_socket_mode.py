"""Socket Mode: no public URL; plcbot connects out to Slack and gets the same deliveries."""

from __future__ import annotations

import json

import pytest

from bot.clock import FakeClock
from bot.settings import SettingsError
from tests.slack.showcase import Showcase
from tests.slack.test_commands import texts
from tests.slack.workspace import CHANNEL, MARIA, running_slack
from tests.support.fake_slack import APP_ID, APP_TOKEN, FakeSlack


async def test_commands_and_events_arrive_over_socket_mode(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    showcase = Showcase()
    env = {"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": ""}
    async with running_slack(sqlite_url, clock, fake, features=[showcase], **env) as slack:
        await fake.wait_for("socket.connected")
        assert fake.calls_to("apps.connections.open")[0].token == APP_TOKEN
        # without a signing secret nothing is served over HTTP
        async with slack.http.post(slack.base_url + "/slack/events", data="{}") as response:
            assert response.status in (404, 405)

        command = {
            "team_id": fake.team_id,
            "channel_id": CHANNEL,
            "channel_name": "plc-math",
            "user_id": MARIA,
            "user_name": "maria.g",
            "command": "/team",
            "text": "",
            "api_app_id": APP_ID,
            "response_url": fake.response_url(),
            "trigger_id": "1.2.socket",
        }
        await fake.socket_send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "payload": command,
                "accepts_response_payload": True,
            }
        )
        event = slack.event_body(slack.message_event("over the socket", thread_ts="1.5"))
        for attempt in (0, 1):  # the second is Slack's retry of the same event
            await fake.socket_send(
                {
                    "envelope_id": f"env-ev{attempt}",
                    "type": "events_api",
                    "payload": json.loads(event),
                    "retry_attempt": attempt,
                    "retry_reason": "timeout" if attempt else "",
                }
            )
        acks = await fake.wait_for("socket.ack", 3)
        assert {a["envelope_id"] for a in acks} == {"env-1", "env-ev0", "env-ev1"}
        await fake.wait_for("chat.postMessage")
        await slack.settled()
        assert any("Team plc-math" in texts(c) for c in fake.answers())
        assert [e.text for e in showcase.seen] == ["over the socket"]
    assert not slack.adapter.socket  # closed on stop


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-wrong"}, "SLACK_BOT_TOKEN: Slack refused it (invalid_auth)"),
        ({"SLACK_APP_TOKEN": "xapp-wrong"}, "SLACK_APP_TOKEN: Slack refused it (invalid_auth)"),
    ],
)
async def test_a_wrong_token_stops_start_up_with_one_clear_line(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack, env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        async with running_slack(sqlite_url, clock, fake, **env):
            pass
    assert str(raised.value).startswith(named)
