"""``POST /api/messages``: Teams activities through the Agents SDK's ``CloudAdapter``.

The request is authenticated (see :mod:`adapters.teams.auth`), parsed and checked here, so a
malformed activity is a 400 before any plcbot code runs. The SDK then runs the turn: it checks
the service URL against its outbound host validator and the token's ``serviceurl`` claim,
and turns the answer of an ``Action.Execute`` invoke into the synchronous HTTP response Teams
waits for. The turn itself is the core's dispatcher: de-duplication by activity id, identity,
routing, replies through :class:`~adapters.teams.messenger.TeamsMessenger`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web
from microsoft_agents.activity import Activity, InvokeResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    ClaimsIdentity,
    Connections,
    HttpResponse,
    OutboundHostValidator,
    TurnContext,
)

from adapters.teams import inbound, invoke
from adapters.teams.auth import (
    InboundAuth,
    KeysUnavailable,
    Mode,
    TokenSource,
    Unauthorized,
    auth_configuration,
    default_connections,
    default_host_validator,
    mode_for,
)
from adapters.teams.cards import Json
from adapters.teams.connector import Connector
from adapters.teams.inbound import PLATFORM, BadActivity
from adapters.teams.messenger import TeamsMessenger, recording_updates
from adapters.teams.pages import ABOUT_PATH, about
from bot.events import ActionEvent, ConversationKind, ConversationRef, InboundEvent
from bot.messages import OutMessage, Section, Strong, say, text
from bot.ports import Adapter
from storage import events, identity

if TYPE_CHECKING:
    from bot.app import PlcBot

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
EXECUTE = "adaptiveCard/action"
ACTIVITY_LOGGER = "microsoft_agents.activity.activity"
SDK_LOGGER = "microsoft_agents"


class _OneLineRefusals(logging.Filter):
    """The SDK logs a full traceback for every activity that fails validation; plcbot
    checks activities first and logs a one-line 400 itself, so those records are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Validation error for Activity")


_ONE_LINE_REFUSALS = _OneLineRefusals()


class _ParsedRequest:
    """The request as the SDK's ``HttpRequestProtocol``, with the body already parsed and
    validated: its :meth:`json` hands the SDK the :class:`Activity` itself, which pydantic's
    ``model_validate`` returns as it is instead of validating the whole activity a second time
    (a tenth of the CPU a simple message costs)."""

    def __init__(self, request: web.Request, activity: Activity, claims: ClaimsIdentity) -> None:
        self._request = request
        self._activity = activity
        self._claims = claims

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def headers(self) -> Mapping[str, str]:
        return self._request.headers

    async def json(self) -> dict[str, Any]:
        # The protocol says a dict; the SDK only ever hands it to Activity.model_validate.
        return cast("dict[str, Any]", self._activity)

    def get_claims_identity(self) -> ClaimsIdentity:
        return self._claims

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


class _Turn:
    """The SDK's ``Agent`` for one activity: hands the turn back to the adapter."""

    def __init__(
        self, adapter: TeamsAdapter, raw: Mapping[str, Any], event: InboundEvent | None
    ) -> None:
        self.adapter = adapter
        self.raw = raw
        self.event = event

    async def on_turn(self, context: TurnContext) -> None:
        await self.adapter.on_turn(context, self.raw, self.event)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _to_aiohttp(response: HttpResponse) -> web.Response:
    if response.body is not None:
        return web.json_response(response.body, status=response.status_code)
    return web.Response(status=response.status_code)


class TeamsAdapter(Adapter):
    platform = PLATFORM

    def __init__(
        self,
        bot: PlcBot,
        *,
        connections: Connections | None = None,
        host_validator: OutboundHostValidator | None = None,
    ) -> None:
        """``connections`` and ``host_validator`` default to production's (MSAL, Microsoft
        hosts only); tests pass loopback-friendly ones through the SDK's own interfaces."""
        self.bot = bot
        settings = bot.settings
        if settings.log_level != "DEBUG":
            # The SDK logs two INFO lines for every message sent; at DEBUG they are useful.
            logging.getLogger(SDK_LOGGER).setLevel(logging.WARNING)
        activity_log = logging.getLogger(ACTIVITY_LOGGER)
        if _ONE_LINE_REFUSALS not in activity_log.filters:
            activity_log.addFilter(_ONE_LINE_REFUSALS)
        self.mode = mode_for(settings)
        config = auth_configuration(settings)
        self.auth = InboundAuth(self.mode, config)
        connections = connections or default_connections(config, self.mode)
        self.host_validator = host_validator or default_host_validator(self.mode)
        provider = connections.get_default_connection() if self.mode is Mode.SIGNED else None
        self.connector = Connector(TokenSource(provider), self.host_validator)
        self.cloud = CloudAdapter(
            channel_service_client_factory=self.connector, host_validator=self.host_validator
        )
        self.cloud.on_turn_error = self._turn_failed
        self.messenger: TeamsMessenger = TeamsMessenger(self.connector, bot.db, bot.core.clock)
        self._after_answers: set[asyncio.Task[None]] = set()

    def routes(self) -> Sequence[web.RouteDef]:
        return [web.post(MESSAGES_PATH, self.handle), web.get(ABOUT_PATH, about)]

    async def start(self) -> None:
        settings = self.bot.settings
        if self.mode is Mode.SIGNED:
            if settings.teams_allow_anonymous:
                log.warning(
                    "TEAMS_ALLOW_ANONYMOUS is ignored because MICROSOFT_APP_ID is set: "
                    "every Teams request must be signed"
                )
            log.info(
                "Teams: accepting activities signed for app %s (tenant %s) on %s; replies go "
                "only to Microsoft's Teams service URLs",
                settings.microsoft_app_id,
                settings.microsoft_app_tenant_id,
                MESSAGES_PATH,
            )
        elif self.mode is Mode.ANONYMOUS:
            log.warning(
                "!!! TEAMS_ALLOW_ANONYMOUS=true: %s accepts UNAUTHENTICATED activities from "
                "anyone who can reach this server, and plcbot will send to any service URL "
                "they name. Use this only on your own computer or in tests. In production set "
                "MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID and "
                "remove TEAMS_ALLOW_ANONYMOUS. !!!",
                MESSAGES_PATH,
            )
        else:
            log.warning(
                "Teams is loaded without MICROSOFT_APP_ID: %s refuses every request (401) "
                "until MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID "
                "are set",
                MESSAGES_PATH,
            )

    async def stop(self) -> None:
        if self._after_answers:  # the rest of long answers already promised
            await asyncio.wait(self._after_answers)
        await self.connector.close()

    # -- HTTP ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            claims = await self.auth.authenticate(request.headers.get("Authorization"))
        except Unauthorized as exc:
            log.warning("Teams: refused a request from %s: %s", request.remote, exc)
            return _error(401, "unauthorized")
        except KeysUnavailable as exc:
            log.error(
                "Teams: could not fetch Microsoft's token signing keys (%s); check that this "
                "server can reach https://login.botframework.com",
                exc,
            )
            return _error(503, "cannot verify the request right now; try again")
        body = await request.read()
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError):
            return self._bad(request, "the body is not JSON")
        if not isinstance(raw, dict):
            return self._bad(request, "the body is not a JSON object")
        try:
            inbound.check(raw, body)
            activity = Activity.model_validate(raw)
            event = self._event(raw)
        except BadActivity as exc:
            return self._bad(request, str(exc))
        except Exception as exc:  # pydantic's ValidationError and the SDK's own checks
            return self._bad(request, f"not a Bot Framework activity ({type(exc).__name__})")
        if raw["type"] == "invoke" and event is None:
            name = raw.get("name")
            log.info("Teams: answered 400 to an unsupported %r invoke", name)
            return web.json_response(
                invoke.error_body(400, f"plcbot does not handle {name!r} invokes"), status=400
            )
        try:
            response = await self.cloud.process_request(
                _ParsedRequest(request, activity, claims), _Turn(self, raw, event)
            )
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception(
                "Teams: could not handle a %s activity (reference %s); answered 503 so Teams "
                "sends it again. The error below says what failed: usually the database or "
                "plcbot's own Microsoft credentials.",
                raw["type"],
                reference,
            )
            return _error(503, f"temporarily unable to handle this activity ({reference})")
        return _to_aiohttp(response)

    def _bad(self, request: web.Request, why: str) -> web.Response:
        log.warning("Teams: answered 400 to a malformed request from %s: %s", request.remote, why)
        return _error(400, f"bad activity: {why}")

    def _event(self, raw: Mapping[str, Any]) -> InboundEvent | None:
        now = self.bot.core.clock.now()
        if raw["type"] == "message":
            return inbound.message_event(raw, now, self.bot.router.parse)
        if raw["type"] == "invoke" and raw.get("name") == EXECUTE:
            return inbound.execute_event(raw, now)
        return None

    # -- the turn -------------------------------------------------------------------------

    async def on_turn(
        self, context: TurnContext, raw: Mapping[str, Any], event: InboundEvent | None
    ) -> None:
        kind = raw["type"]
        if kind == "message" and event is not None:
            await self.bot.dispatcher.handle(event, self.messenger)
        elif kind == "invoke" and isinstance(event, ActionEvent):
            body = await self._execute(event)
            await self._answer(context, body)
        elif kind in ("conversationUpdate", "installationUpdate"):
            await self._welcome(raw)

    async def _execute(self, event: ActionEvent) -> dict[str, Any]:
        dispatcher = self.bot.dispatcher
        overflow: list[tuple[OutMessage, list[Json]]] = []

        def first_card(message: OutMessage) -> Json:
            """The answer shows one card; a longer message's other parts follow it."""
            first, *rest = self.messenger.cards(message)
            if rest:
                overflow.append((message, rest))
            return first

        with recording_updates() as updated:
            result = await dispatcher.handle(event, self.messenger, deliver=False)
            planned = invoke.answer(event, result, updated, first_card)
            for message, rest in overflow:
                self._after_answer(event.conversation, message, rest)
            await dispatcher.deliver(event, self.messenger, planned.deliver)
        return planned.body

    def _after_answer(self, where: ConversationRef, message: OutMessage, rest: list[Json]) -> None:
        """The later parts of a long answer to a button, sent after the press is answered:
        waiting out a "slow down" inside the invoke would make Teams call the press failed."""

        async def send() -> None:
            try:
                await self.messenger.post_rest(where, message, rest)
            except Exception:
                log.exception("Teams: could not post the rest of a long answer in %s", where.key)

        task = asyncio.create_task(send())
        self._after_answers.add(task)
        task.add_done_callback(self._after_answers.discard)

    async def _answer(self, context: TurnContext, body: dict[str, Any]) -> None:
        await context.send_activity(
            Activity(type="invokeResponse", value=InvokeResponse(status=200, body=body))
        )

    async def _turn_failed(self, context: TurnContext, error: Exception) -> None:
        """A failure the dispatcher couldn't turn into an answer (the database is down).

        A message fails the request, so Teams retries it (its id was not recorded); a
        button press gets an apology, since the person is waiting and can press again.
        """
        if context.activity.type != "invoke":
            raise error
        reference = uuid.uuid4().hex[:8]
        log.error("Teams: handling a button press failed (reference %s)", reference, exc_info=error)
        await self._answer(
            context,
            invoke.message_body(
                "Sorry, something went wrong on my side. Please try again in a moment; if "
                f"it keeps happening, give your IT contact this reference: {reference}."
            ),
        )

    # -- installation -----------------------------------------------------------------------

    async def _welcome(self, raw: Mapping[str, Any]) -> None:
        """Say hello once when plcbot is added to a team, a group chat or a person."""
        bot_id = str((raw.get("recipient") or {}).get("id", ""))
        added = [
            str(member.get("id", ""))
            for member in raw.get("membersAdded") or ()
            if isinstance(member, Mapping)
        ]
        installed = raw["type"] == "installationUpdate" and raw.get("action") == "add"
        if not installed and (not bot_id or bot_id not in added):
            return
        conversation = inbound.conversation_of(raw)
        await self._remember(raw, conversation)
        key = f"welcome:{conversation.conversation_id}"
        async with self.bot.db.write() as session:
            first = await events.claim_event(session, PLATFORM, key, self.bot.core.clock.now())
        if not first:
            return
        try:
            await self.messenger.post(conversation, welcome(conversation.kind, conversation.name))
        except Exception:
            log.exception("Teams: could not post the welcome message in %s", conversation.key)

    async def _remember(self, raw: Mapping[str, Any], conversation: ConversationRef) -> None:
        """Store the reference of where plcbot was just added, as every message plcbot acts
        on does: prompts and reminders can then reach a team or a person (and 1:1 chats be
        opened in that tenant) before anyone there has written to plcbot."""
        now = self.bot.core.clock.now()
        async with self.bot.db.write() as session:
            workspace = await identity.ensure_workspace(
                session, PLATFORM, conversation.workspace_id, now
            )
            member_id: int | None = None
            if conversation.kind == ConversationKind.DIRECT:
                person = inbound.actor_of(raw)  # installed for themselves: their 1:1 chat
                member_id = await identity.ensure_member(
                    session, workspace, person.user_id, person.display_name, person.timezone, now
                )
            await identity.save_conversation(
                session,
                workspace,
                conversation.conversation_id,
                conversation.kind.value,
                conversation.name,
                member_id,
                conversation.platform_data,
                now,
            )


def welcome(kind: ConversationKind, name: str | None) -> OutMessage:
    if kind == ConversationKind.DIRECT:
        return say(
            f"Hi{' ' + name if name else ''}! I'm plcbot. I help your PLC run discussion "
            "protocols, reflect on practice, and follow through on commitments together. "
            "Your reflection prompts and reminders will arrive here. Type help to see what I "
            "can do."
        )
    return OutMessage(
        blocks=(
            Section(
                text(
                    "Hello",
                    f", {name}" if name else "",
                    "! I'm plcbot. I help your PLC run discussion protocols, reflect on "
                    "practice, and follow through on commitments together. Mention me with ",
                    Strong("help"),
                    " to see what I can do. The first person to use me here becomes the "
                    "team's lead and can share that role with others.",
                )
            ),
        )
    )
