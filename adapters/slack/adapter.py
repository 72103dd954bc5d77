"""The Slack adapter: a bolt ``AsyncApp`` on plcbot's own aiohttp server, or over Socket Mode.

Three ways to run, chosen by settings:

- one workspace over HTTP: ``SLACK_BOT_TOKEN`` + ``SLACK_SIGNING_SECRET``; Slack posts to
  ``/slack/events``;
- one workspace over Socket Mode: add ``SLACK_APP_TOKEN`` and plcbot opens the connection
  itself, so no public URL is needed (the signing secret is then optional);
- many workspaces: ``SLACK_CLIENT_ID`` + ``SLACK_CLIENT_SECRET`` + ``SLACK_SIGNING_SECRET``, with
  ``/slack/install`` and ``/slack/oauth_redirect`` and tokens kept in plcbot's database.

``SLACK_API_URL`` replaces ``https://slack.com/api/`` for every Web API call, the OAuth token
exchange included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.answer import ANSWER_WAIT_SECONDS, MAX_ANSWER_WAIT_MS
from adapters.slack.directory import Directory
from adapters.slack.gate import PayloadGate
from adapters.slack.intake import MAX_WAITING, WORKERS, Tracker
from adapters.slack.listeners import Listeners
from adapters.slack.messenger import SlackMessenger
from adapters.slack.oauth import INSTALL_PATH, REDIRECT_PATH, InstalledTokens, oauth_settings
from adapters.slack.pacing import ChannelPacer
from adapters.slack.translate import PLATFORM, Translator
from adapters.slack.webapi import FixedToken, SlackApi, SlackRefused, TokenSource
from bot.app import PlcBot
from bot.ports import Adapter
from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"
STOP_WAIT_SECONDS = 10.0
NOT_INSTALLED = (
    "plcbot isn't set up for this Slack workspace yet. Please ask whoever looks after Slack at "
    "your school to install it."
)


# slack_sdk and bolt build their DEBUG messages (f-strings of whole payloads and responses)
# whenever the logger's *own* level is at most DEBUG, and an unset level (NOTSET) counts: with
# nobody asking for debug output, that formatting was an eighth of the CPU of sending a prompt.
SDK_LOGGERS = (
    "slack_sdk.web.async_base_client",  # AsyncWebClient
    "slack_sdk.webhook.async_client",  # AsyncWebhookClient (response_url answers)
    "slack_bolt.AsyncApp",  # bolt's dispatch, once per middleware per request
)


def skip_sdk_debug(log_level: str) -> None:
    """Give the SDK loggers an explicit level above DEBUG unless plcbot logs at DEBUG."""
    if log_level == "DEBUG":
        return
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(max(logger.getEffectiveLevel(), logging.INFO))


def api_url(settings: Settings) -> str:
    return settings.slack_api_url or DEFAULT_API_URL


def _whole_number(
    settings: Settings, name: str, default: int, *, low: int, high: int | None, expected: str
) -> int:
    raw = settings.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        raise SettingsError(f"{name}: expected {expected}, got {raw!r}")
    return value


def _positive(settings: Settings, name: str, default: int) -> int:
    return _whole_number(
        settings, name, default, low=1, high=None, expected="a whole number of at least 1"
    )


def _answer_wait(settings: Settings) -> float:
    """``PLCBOT_SLACK_ANSWER_WAIT``: milliseconds a slash command's ack may wait for its first
    answer (adapters/slack/answer.py); 0 acks at once and answers through the response URL."""
    wait = _whole_number(
        settings,
        "PLCBOT_SLACK_ANSWER_WAIT",
        round(ANSWER_WAIT_SECONDS * 1000),
        low=0,
        high=MAX_ANSWER_WAIT_MS,
        expected=f"milliseconds from 0 to {MAX_ANSWER_WAIT_MS}",
    )
    return wait / 1000


def _repair_form_body(request: AsyncBoltRequest) -> None:
    """Work around bolt reading any form body that mentions "payload" as an interaction.

    ``parse_body`` checks ``"payload" in body`` on the raw text, so a slash command whose text
    contains the word (``/reflect my payload of duties``) arrives empty and is dropped. The
    signature was checked on the raw body, which is unchanged; only the parsed view is fixed.
    """
    if request.body or not request.raw_body or request.raw_body.lstrip().startswith("{"):
        return
    params = dict(parse_qsl(request.raw_body, keep_blank_values=True))
    if "payload" not in params and "command" in params:
        request.body = params
        request.context = build_async_context(AsyncBoltContext({}), params)


class SlackAdapter(Adapter):
    platform = PLATFORM
    messenger: SlackMessenger

    def __init__(self, bot: PlcBot, *, pacer: ChannelPacer | None = None) -> None:
        """``pacer`` replaces Slack's one-message-a-second-per-channel pacing (tests that send
        a burst on purpose pass a permissive one)."""
        settings = bot.settings
        skip_sdk_debug(settings.log_level)
        self.bot = bot
        self.settings = settings
        self.multi_workspace = bool(settings.slack_client_id)
        tokens: TokenSource
        if self.multi_workspace:
            assert settings.slack_client_id and settings.slack_client_secret
            tokens = InstalledTokens(settings.slack_client_id, bot.db)
            app_client = AsyncWebClient(base_url=api_url(settings))
        else:
            if not settings.slack_bot_token:
                raise ValueError("the Slack adapter needs SLACK_BOT_TOKEN or SLACK_CLIENT_ID")
            tokens = FixedToken(settings.slack_bot_token)
            app_client = AsyncWebClient(base_url=api_url(settings), token=settings.slack_bot_token)
        self.tracker = Tracker(
            workers=_positive(settings, "PLCBOT_SLACK_WORKERS", WORKERS),
            max_waiting=_positive(settings, "PLCBOT_SLACK_QUEUE", MAX_WAITING),
        )
        self.client = AsyncWebClient(base_url=api_url(settings))
        self.api = SlackApi(self.client, tokens, pacer or ChannelPacer(), sleep=self.tracker.sleep)
        self.directory = Directory(self.api)
        self.messenger = SlackMessenger(self.api, self.directory, bot.core.clock)
        self.translator = Translator(self.directory, bot.core.clock, set())
        self.app = AsyncApp(
            name="plcbot",
            signing_secret=settings.slack_signing_secret or "",
            client=app_client,
            process_before_response=False,
            before_authorize=PayloadGate(),
            user_facing_authorize_error_message=NOT_INSTALLED,
            oauth_settings=(
                oauth_settings(
                    settings.slack_client_id,
                    settings.slack_client_secret,
                    bot.db,
                )
                if settings.slack_client_id and settings.slack_client_secret
                else None
            ),
        )
        self.listeners = Listeners(
            bot,
            self.messenger,
            self.translator,
            self.tracker,
            answer_wait=_answer_wait(settings),
        )
        self.listeners.register(self.app, oauth=self.multi_workspace)
        self.socket: AsyncSocketModeHandler | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- HTTP ------------------------------------------------------------------------------

    def routes(self) -> Sequence[web.RouteDef]:
        if not self.settings.slack_signing_secret:
            return ()  # Socket Mode only: nothing may reach bolt over HTTP unsigned
        routes = [web.post(EVENTS_PATH, self.events)]
        if self.multi_workspace:
            routes += [web.get(INSTALL_PATH, self.install), web.get(REDIRECT_PATH, self.redirect)]
        return routes

    async def events(self, request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError, KeyError, UnicodeDecodeError) as exc:
            log.warning("refused a request to %s that is not Slack's format: %s", request.path, exc)
            return web.json_response({"error": "malformed request"}, status=400)
        _repair_form_body(bolt_request)
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def install(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        self.app.client.session = self._session
        self.messenger.session = self._session
        try:
            if not self.multi_workspace:
                await self._check_token()
            if self.settings.slack_app_token:
                await self._connect_socket(self.settings.slack_app_token)
        except BaseException:
            await self._close_session()
            raise
        mode = "multi-workspace (OAuth)" if self.multi_workspace else "single workspace"
        where = "Socket Mode" if self.socket else f"HTTP at {EVENTS_PATH}"
        log.info("Slack adapter ready: %s, %s, Web API %s", mode, where, api_url(self.settings))

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        try:
            await asyncio.wait_for(self.settled(), STOP_WAIT_SECONDS)
        except TimeoutError:
            log.warning("stopped with %d Slack request(s) still being handled", self.tracker.busy)
        await self._close_session()

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.client.session = None
        self.app.client.session = None
        self.messenger.session = None

    async def _check_token(self) -> None:
        """Fail fast on a wrong bot token; carry on (and say so) if Slack is unreachable."""
        try:
            response = await self.api.call("", "auth_test")
        except SlackRefused as exc:
            raise SettingsError(
                f"SLACK_BOT_TOKEN: Slack refused it ({exc.code}); copy the Bot User OAuth Token "
                "(xoxb-...) from your Slack app's OAuth & Permissions page"
            ) from None
        except (SlackApiError, aiohttp.ClientError, OSError) as exc:
            log.warning("could not reach Slack to check SLACK_BOT_TOKEN (%s); carrying on", exc)
            return
        if response.get("user_id"):
            self.translator.bot_user_ids.add(str(response["user_id"]))
        log.info(
            "signed in to Slack workspace %s (%s) as %s",
            response.get("team"),
            response.get("team_id"),
            response.get("user"),
        )

    async def _connect_socket(self, app_token: str) -> None:
        # slack-sdk's Socket Mode client retries a refused token forever: check it once first.
        try:
            await self.app.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            raise SettingsError(
                f"SLACK_APP_TOKEN: Slack refused it ({exc.response.get('error')}); generate an "
                "app-level token with the connections:write scope under Basic Information"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            log.warning("could not reach Slack for Socket Mode yet (%s); retrying", exc)
        self.socket = AsyncSocketModeHandler(self.app, app_token)
        await self.socket.connect_async()  # type: ignore[no-untyped-call]
        log.info("connected to Slack over Socket Mode")

    async def settled(self) -> None:
        """Wait until every acknowledged request has been handled (replies sent)."""
        await self.tracker.settled()


__all__ = ["EVENTS_PATH", "SlackAdapter"]
