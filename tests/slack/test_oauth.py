"""Multi-workspace install: Add to Slack, the OAuth redirect, and each workspace's own token."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from adapters.slack import tables
from adapters.slack.oauth import bot_scopes
from bot.clock import FakeClock
from bot.events import ConversationRef
from bot.messages import say
from tests.slack.test_commands import texts
from tests.slack.workspace import MARIA, SlackWorkspace, running_slack
from tests.support.fake_slack import FakeSlack

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

OAUTH_ENV = {
    "SLACK_BOT_TOKEN": "",
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret",
}


async def start_install(slack: SlackWorkspace) -> tuple[str, str]:
    """Open "Add to Slack": the state in the authorize link, and the cookie that binds it."""
    async with slack.http.get(slack.base_url + "/slack/install", allow_redirects=False) as page:
        assert page.status == 200
        html = await page.text()
        cookie = page.headers["Set-Cookie"].split(";")[0]
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', html)
    assert link is not None
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == ["1111.2222"]
    assert query["scope"][0].split(",") == bot_scopes()
    return query["state"][0], cookie


async def finish_install(slack: SlackWorkspace, code: str, state: str, cookie: str) -> str:
    async with slack.http.get(
        slack.base_url + "/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": cookie},
    ) as done:
        return f"{done.status} {await done.text()}"


async def install(slack: SlackWorkspace, code: str) -> str:
    return await finish_install(slack, code, *await start_install(slack))


async def test_install_then_use_a_second_workspace(
    db_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    fake.add_oauth_code("code-sci", team_id="T0SCI", team_name="Science", token="xoxb-science")
    async with running_slack(db_url, clock, fake, **OAUTH_ENV) as slack:
        result = await install(slack, "code-sci")
        assert result.startswith("200") and "Thank you" in result
        (exchange,) = fake.calls_to("oauth.v2.access")
        assert exchange["code"] == "code-sci"

        async with slack.bot.db.read() as session:
            rows = await session.execute(select(tables.bots.c.team_id, tables.bots.c.bot_token))
            assert rows.all() == [("T0SCI", "xoxb-science")]

        await slack.command("/team", team="T0SCI")
        await slack.settled()
        assert "Team plc-math" in texts(fake.calls_to("response_url")[-1])
        assert {c.token for c in fake.calls_to("users.info")} == {"xoxb-science"}

        channel = ConversationRef("slack", "T0SCI", "C0MATH", name="plc-math")
        await slack.bot.core.outbox.post(channel, say("A scheduled note"))
        assert fake.calls_to("chat.postMessage")[-1].token == "xoxb-science"

        # a workspace that never installed plcbot is not served
        looked_up = len(fake.calls_to("users.info"))
        answer = await slack.command("/team", team="T0NOPE", user=MARIA)
        await slack.settled()
        assert answer.status == 200
        assert "isn't set up for this Slack workspace" in fake.calls_to("response_url")[-1]["text"]
        assert len(fake.calls_to("users.info")) == looked_up  # the core never saw it


async def test_a_forged_or_replayed_state_is_refused(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    fake.add_oauth_code("code-x", team_id="T0X", team_name="X", token="xoxb-x")
    async with running_slack(sqlite_url, clock, fake, **OAUTH_ENV) as slack:
        async with slack.http.get(
            slack.base_url + "/slack/oauth_redirect", params={"code": "code-x", "state": "made-up"}
        ) as response:
            assert response.status == 400
        assert not fake.calls_to("oauth.v2.access")
        assert (await install(slack, "wrong-code")).startswith("401")
        state, cookie = await start_install(slack)
        assert (await finish_install(slack, "code-x", state, cookie)).startswith("200")
        replayed = await finish_install(slack, "code-x", state, cookie)
        assert replayed.startswith("401") and "invalid_state" in replayed
        assert len(fake.calls_to("oauth.v2.access")) == 2


async def test_install_routes_exist_only_in_multi_workspace_mode(slack: SlackWorkspace) -> None:
    async with slack.http.get(slack.base_url + "/slack/install") as response:
        assert response.status in (404, 405)
