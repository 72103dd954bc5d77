"""What reaches /slack/events: only signed, fresh requests from Slack, and nothing makes a 5xx."""

from __future__ import annotations

import json
import socket
import time

import pytest

from bot.clock import FakeClock
from tests.slack.test_oauth import OAUTH_ENV
from tests.slack.workspace import SlackWorkspace, running_slack
from tests.support.fake_slack import FakeSlack


async def test_url_verification_echoes_the_challenge(slack: SlackWorkspace) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "t", "challenge": challenge, "type": "url_verification"})
    answer = await slack.post(body)
    assert answer.status == 200
    assert json.loads(answer.text)["challenge"].startswith("3eZbrw1a")


@pytest.mark.parametrize(
    ("how", "sign"),
    [
        ("forged", {"secret": "not-the-signing-secret"}),
        ("stale", {"skew": -6 * 60}),
        ("from the future", {"skew": 6 * 60}),
    ],
)
async def test_badly_signed_requests_are_refused(
    slack: SlackWorkspace, how: str, sign: dict[str, object]
) -> None:
    answer = await slack.command("/team")  # a good one works...
    assert answer.status == 200
    await slack.settled()
    answered = len(slack.fake.sent)
    assert answered >= 1
    fields = {
        "command": "/team",
        "text": "",
        "team_id": "T0PLC",
        "user_id": "U0MARIA",
        "channel_id": "C0MATH",
        "trigger_id": "t1",
    }
    if "skew" in sign:  # relative to now, not to when the tests were collected
        sign = {"timestamp": int(time.time()) + int(str(sign["skew"]))}
    answer = await slack.post_form(fields, **sign)
    assert answer.status == 401, how
    await slack.settled()
    assert len(slack.fake.sent) == answered  # the bad one was not handled at all


async def test_unsigned_requests_are_refused(slack: SlackWorkspace) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc"})
    async with slack.http.post(
        slack.base_url + "/slack/events", data=body, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 401
    answer = await slack.post(body, headers={"X-Slack-Signature": ""})
    assert answer.status == 401


async def test_a_changed_body_breaks_the_signature(slack: SlackWorkspace) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc"})
    headers = {"Content-Type": "application/json"}
    from tests.slack.workspace import signed_headers

    headers.update(signed_headers(body, "application/json"))
    tampered = body.replace("abc", "abd")
    async with slack.http.post(
        slack.base_url + "/slack/events", data=tampered, headers=headers
    ) as response:
        assert response.status == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("[1, 2, 3]", "application/json"),
        ("payload=%5B1%5D", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_bodies_get_400(
    slack: SlackWorkspace, body: str, content_type: str
) -> None:
    answer = await slack.post(body, content_type)
    assert answer.status == 400
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "user": {"id": "U0MARIA"}},
        {"type": "block_actions", "user": {"id": "U0MARIA"}, "actions": [{"value": "x"}]},
        {"type": "view_submission", "user": {"id": "U0MARIA"}},
        {"type": "view_submission", "view": {"callback_id": "plcbot.form"}},
        {"type": "view_submission", "user": {"id": "U0MARIA"}, "view": {"callback_id": "x.y"}},
        {"type": "view_closed", "user": {"id": "U0MARIA"}, "view": {"callback_id": "plcbot.form"}},
        {"type": "event_callback", "event_id": "Ev1"},
        {"type": "event_callback", "event": {"type": "message"}},
    ],
)
async def test_signed_payloads_missing_fields_get_400(
    slack: SlackWorkspace, payload: dict[str, object]
) -> None:
    if payload["type"] == "event_callback":
        answer = await slack.post(json.dumps({"team_id": "T0PLC", **payload}))
    else:
        answer = await slack.interaction({"team": {"id": "T0PLC"}, **payload})
    assert answer.status == 400


async def test_unknown_payload_types_are_acknowledged_and_ignored(slack: SlackWorkspace) -> None:
    answer = await slack.interaction({"type": "message_action", "team": {"id": "T0PLC"}})
    assert answer.status == 200
    answer = await slack.post(json.dumps({"type": "something_new", "team_id": "T0PLC"}))
    assert answer.status == 200
    answer = await slack.event({"type": "reaction_added", "user": "U0MARIA"})
    assert answer.status == 200
    await slack.settled()
    assert slack.fake.sent == []


async def test_payloads_that_make_no_sense_are_ignored_quietly(slack: SlackWorkspace) -> None:
    """Shaped right but inconsistent (no channel, an unknown modal): 200, nothing sent."""
    answer = await slack.command("/team", channel="")
    assert answer.status == 200
    view = {"callback_id": "plcbot.form", "private_metadata": "not json", "blocks": []}
    answer = await slack.submit(view, {})
    assert answer.status == 200
    answer = await slack.submit({**view, "callback_id": "someone.else"}, {})
    assert answer.status == 200
    answer = await slack.click("plcbot.slack.open_form#0", "{not a form")
    assert answer.status == 200
    await slack.settled()
    assert slack.fake.sent == []


async def test_a_workspace_that_never_installed_plcbot_gets_no_server_error(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    """Bolt tells such a person through the response_url before acking; if that URL cannot be
    reached, the request is still acknowledged."""
    async with running_slack(sqlite_url, clock, fake, **OAUTH_ENV) as slack:
        nowhere = f"http://127.0.0.1:{closed_port()}/response/unreachable"
        answer = await slack.command("/team", team="T0NOPE", response_url=nowhere)
        assert answer.status == 200 and "Traceback" not in answer.text
        answer = await slack.command("/team", team="T0NOPE", response_url="not a url")
        assert answer.status == 200
        await slack.settled()
        assert fake.sent == [] and not fake.calls_to("users.info")  # nobody was served


def closed_port() -> int:
    """A loopback port the OS just handed out and nobody listens on any more."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
