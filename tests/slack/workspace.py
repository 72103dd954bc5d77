"""A whole plcbot in Slack for tests: the real bolt app on plcbot's aiohttp server (port 0),
signed requests built like Slack builds them, and a loopback fake Slack Web API.

    async with fake_slack() as fake, running_slack(sqlite_url, clock, fake) as slack:
        await slack.command("/team")
        await slack.settled()
        assert fake.calls_to("response_url")

Reusable by every Slack test (protocol sessions, commitments, reflections): add a feature with
``features=[...]``, drive it with ``command``, ``message``, ``click`` and ``submit``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from adapters.slack.adapter import EVENTS_PATH, SlackAdapter
from adapters.slack.pacing import ChannelPacer
from bot.app import PlcBot, build_app
from bot.clock import FakeClock
from bot.features import Feature
from bot.server import build_web_app
from bot.settings import load_settings
from tests.support.fake_slack import APP_ID, FakeSlack

SIGNING_SECRET = "plcbot-test-signing-secret"
CHANNEL = "C0MATH"
CHANNEL_NAME = "plc-math"
MARIA, SAM, JO = "U0MARIA", "U0SAM", "U0JO"


def populate(fake: FakeSlack) -> FakeSlack:
    """Three teachers and their PLC's channel."""
    fake.add_user(MARIA, "maria.g", display_name="Maria Garcia", tz="America/Chicago")
    fake.add_user(SAM, "slee", display_name="Sam Lee", tz="America/New_York")
    fake.add_user(JO, "jo", real_name="Jo Okafor", tz="Europe/London")
    fake.add_channel(CHANNEL, CHANNEL_NAME, [MARIA, SAM, JO, fake.bot_user_id])
    return fake


@asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield populate(fake)


def signed_headers(
    body: str, content_type: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


@dataclass
class Answer:
    status: int
    text: str


class SlackWorkspace:
    """Talks to a running plcbot the way Slack does."""

    def __init__(self, bot: PlcBot, fake: FakeSlack, base_url: str, http: aiohttp.ClientSession):
        self.bot = bot
        self.fake = fake
        self.base_url = base_url
        self.http = http
        self._ids = itertools.count(1)

    @property
    def adapter(self) -> SlackAdapter:
        adapter = next(a for a in self.bot.adapters if isinstance(a, SlackAdapter))
        return adapter

    async def settled(self) -> None:
        """Wait until everything plcbot acknowledged has been handled."""
        await self.adapter.settled()

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):05d}"

    # -- raw requests ----------------------------------------------------------------------

    async def post(
        self,
        body: str,
        content_type: str = "application/json",
        *,
        headers: Mapping[str, str] | None = None,
        path: str = EVENTS_PATH,
        **sign: Any,
    ) -> Answer:
        all_headers = signed_headers(body, content_type, **sign)
        all_headers.update(headers or {})
        async with self.http.post(self.base_url + path, data=body, headers=all_headers) as r:
            return Answer(r.status, await r.text())

    async def post_form(self, fields: Mapping[str, str], **kwargs: Any) -> Answer:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    # -- what people do --------------------------------------------------------------------

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = MARIA,
        channel: str = CHANNEL,
        channel_name: str = CHANNEL_NAME,
        team: str | None = None,
        **extra: str,
    ) -> Answer:
        user_name = self.fake.users.get(user, {}).get("name", "someone")
        fields = {
            "token": "legacy-verification-token",
            "team_id": team or self.fake.team_id,
            "team_domain": "lincoln",
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(),
            "trigger_id": self.next_id("13345224609.738474920.trig"),
            **extra,
        }
        sent = time.monotonic()
        answer = await self.post_form(fields)
        if answer.status == 200 and answer.text:  # the ack carried plcbot's first answer
            await self.fake.acked(fields["response_url"], json.loads(answer.text), at=sent)
        return answer

    def event_body(
        self, event: Mapping[str, Any], *, event_id: str | None = None, team: str | None = None
    ) -> str:
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": team or self.fake.team_id,
                "api_app_id": APP_ID,
                "event": dict(event),
                "type": "event_callback",
                "event_id": event_id or self.next_id("Ev0"),
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "team_id": team or self.fake.team_id,
                        "user_id": self.fake.bot_user_id,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
            }
        )

    async def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry: int | None = None,
        team: str | None = None,
    ) -> Answer:
        headers = {}
        if retry is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(
            self.event_body(event, event_id=event_id, team=team), headers=headers
        )

    def message_event(
        self,
        text: str,
        *,
        user: str = MARIA,
        channel: str = CHANNEL,
        channel_type: str = "channel",
        ts: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "channel_type": channel_type,
            "user": user,
            "text": text,
            "ts": ts or f"{1_800_000_000 + next(self._ids)}.000100",
            **extra,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    async def message(self, text: str, *, event_id: str | None = None, **kwargs: Any) -> Answer:
        return await self.event(self.message_event(text, **kwargs), event_id=event_id)

    async def interaction(self, payload: Mapping[str, Any]) -> Answer:
        return await self.post_form({"payload": json.dumps(payload)})

    def block_actions(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user: str = MARIA,
        channel: str | None = CHANNEL,
        message_ts: str = "1700000001.000001",
        thread_ts: str | None = None,
        in_view: bool = False,
    ) -> dict[str, Any]:
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": "b1",
            "text": {"type": "plain_text", "text": "Go"},
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.fake.team_id, "domain": "lincoln"},
            "user": {"id": user, "username": self.fake.users[user]["name"], "team_id": "T"},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": self.next_id("13345224609.738474920.act"),
            "actions": [action],
        }
        if in_view:
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home"}
        else:
            container = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            if thread_ts:
                container["thread_ts"] = thread_ts
            payload["container"] = container
            payload["channel"] = {"id": channel, "name": CHANNEL_NAME}
            payload["message"] = {"ts": message_ts, "type": "message"}
            payload["response_url"] = self.fake.response_url()
        return payload

    async def click(self, action_id: str, value: str | None = None, **kwargs: Any) -> Answer:
        return await self.interaction(self.block_actions(action_id, value, **kwargs))

    async def click_button(self, blocks: Iterable[Mapping[str, Any]], label: str, **kw: Any):  # type: ignore[no-untyped-def]
        """Press the button labelled ``label`` among ``blocks``, exactly as Slack sends it."""
        for block in blocks:
            for element in block.get("elements") or []:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    return await self.click(element["action_id"], element.get("value"), **kw)
        raise AssertionError(f"no button labelled {label!r}")

    async def submit(
        self,
        view: Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        user: str = MARIA,
    ) -> Answer:
        """Submit a modal plcbot opened (as recorded by the fake), filling inputs by block id."""
        state: dict[str, dict[str, Any]] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            entry: dict[str, Any] = {"type": element["type"]}
            if element["type"] == "plain_text_input":
                entry["value"] = value
            elif element["type"] == "datepicker":
                entry["selected_date"] = value
            elif element["type"] == "static_select":
                entry["selected_option"] = (
                    None if value is None else {"value": value, "text": {"type": "plain_text"}}
                )
            state[block["block_id"]] = {element["action_id"]: entry}
        payload = {
            "type": "view_submission",
            "team": {"id": self.fake.team_id, "domain": "lincoln"},
            "user": {"id": user, "username": self.fake.users[user]["name"], "team_id": "T"},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": self.next_id("13345224609.738474920.sub"),
            "view": {
                "id": "V0FORM",
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "state": {"values": state},
                "hash": "1700000000.abcdef",
            },
        }
        return await self.interaction(payload)


def slack_env(db_url: str, fake: FakeSlack, **env: str) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "PLCBOT_TIMEZONE": "UTC",
        "SLACK_BOT_TOKEN": next(iter(fake.tokens)),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        **env,
    }


@asynccontextmanager
async def running_slack(
    db_url: str,
    clock: FakeClock,
    fake: FakeSlack,
    *,
    features: Iterable[Feature] = (),
    pacer: ChannelPacer | None = None,
    **env: str,
) -> AsyncIterator[SlackWorkspace]:
    settings = load_settings(slack_env(db_url, fake, **env), env_file=None)
    bot = build_app(settings, clock=clock, platforms=[] if pacer else ["slack"])
    if pacer is not None:
        bot.add_adapter(SlackAdapter(bot, pacer=pacer))
    for feature in features:
        feature.install(bot.router)
        bot.features.append(feature)
    async with bot.running(), aiohttp.ClientSession() as http:
        runner = web.AppRunner(build_web_app(bot), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        workspace = SlackWorkspace(bot, fake, f"http://{host}:{port}", http)
        try:
            yield workspace
            await workspace.settled()
        finally:
            await runner.cleanup()
