"""plcbot's real web server with the Teams adapter, on a port the OS picks, for tests.

Activities are posted over HTTP to ``/api/messages`` exactly as the Bot Connector would; the
adapter's replies go to the :class:`~tests.support.fake_connector.FakeConnector` named in each
activity's ``serviceUrl``. A test that needs its own commands registers a small test-only
:class:`~bot.features.Feature` (a user of the public API) with ``features=``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from adapters.teams.messenger import TeamsMessenger
from bot.app import PlcBot, build_app
from bot.clock import FakeClock
from bot.features import Feature
from bot.ports import Adapter
from bot.server import build_web_app
from bot.settings import load_settings
from tests.support.fake_connector import FakeConnector
from tests.support.harness import settings_for

ANONYMOUS = {"TEAMS_ALLOW_ANONYMOUS": "true"}


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def text(self) -> str:
        return json.dumps(self.body)


class TeamsServer:
    def __init__(self, bot: PlcBot, url: str, http: aiohttp.ClientSession) -> None:
        self.bot = bot
        self.url = url
        self.http = http

    @property
    def messenger(self) -> TeamsMessenger:
        """The running Teams adapter's messenger, to send as scheduled work would."""
        [adapter] = self.bot.adapters
        found = getattr(adapter, "messenger", None)
        assert isinstance(found, TeamsMessenger)
        return found

    async def post(
        self,
        activity: Any,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        sent_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(activity).encode()
        async with self.http.post(
            self.url + "/api/messages", data=data, headers=sent_headers
        ) as response:
            body: Any = None
            content = await response.read()
            if content:
                try:
                    body = json.loads(content)
                except ValueError:
                    body = content.decode(errors="replace")
            return Answer(response.status, body)


@asynccontextmanager
async def teams_server(
    db_url: str,
    clock: FakeClock,
    *,
    env: dict[str, str] | None = None,
    features: Sequence[Callable[[PlcBot], Feature]] = (),
    adapter: Callable[[PlcBot], Adapter] | None = None,
) -> AsyncIterator[TeamsServer]:
    """A running plcbot with Teams. ``env`` defaults to anonymous mode (local development).

    ``adapter`` builds the Teams adapter by hand (to pass the SDK a loopback token provider);
    otherwise the composition root creates it from the settings, as in production.
    """
    settings = load_settings(
        settings_for(db_url, **(ANONYMOUS if env is None else env)), env_file=None
    )
    bot = build_app(settings, clock=clock, platforms=[] if adapter else ["teams"])
    if adapter is not None:
        bot.add_adapter(adapter(bot))
    for make in features:
        feature = make(bot)
        feature.install(bot.router)
        bot.features.append(feature)
    async with bot.running():
        runner = web.AppRunner(build_web_app(bot), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            async with aiohttp.ClientSession() as http:
                yield TeamsServer(bot, f"http://{host}:{port}", http)
        finally:
            await runner.cleanup()


@asynccontextmanager
async def fake_connector(**kwargs: Any) -> AsyncIterator[FakeConnector]:
    async with FakeConnector(**kwargs).running() as fake:
        yield fake
