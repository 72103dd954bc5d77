"""Calls to the Bot Connector through the Agents SDK's ``TeamsConnectorClient``.

One client (one HTTP connection pool) per service URL, kept for the life of the process, with
the bearer token renewed in place. Errors come back as the core's words: 429 is
:class:`~bot.ports.RateLimited` with Teams' ``Retry-After``; a refusal that retrying won't fix
(the bot was removed, the user can't be messaged, a malformed card) is
:class:`~bot.ports.DeliveryError`; anything else (Teams down, a timeout) is raised as is, for
the scheduler's retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity, ConversationParameters, PagedMembersResult
from microsoft_agents.hosting.core import (
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorClientBase,
    OutboundHostValidator,
    TeamsConnectorClient,
    TurnContext,
    UserTokenClient,
    UserTokenClientBase,
)

from adapters.teams.auth import TokenSource
from bot.events import MemberRef
from bot.ports import DeliveryError, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")
TIMEOUT_SECONDS = 30
DEFAULT_RETRY_AFTER = 1.0
PAGE_SIZE = 200
MAX_PAGES = 100  # 20,000 people: far beyond any team, and a guard against a looping token


def retry_after(headers: Any) -> float:
    raw = (headers or {}).get("Retry-After", "") if hasattr(headers, "get") else ""
    if not raw:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _PooledClient(TeamsConnectorClient):
    """A connector client shared by every turn: the SDK closes a turn's clients when the turn
    ends, which for this one does nothing; :meth:`release` closes it for good."""

    async def close(self) -> None:
        return None

    async def release(self) -> None:
        await super().close()


class _IdleUserTokens(UserTokenClient):
    """plcbot never asks the Bot Framework token service for user tokens (no sign-in cards),
    but the SDK hands every turn a client for it; one shared, never-used client will do."""

    async def close(self) -> None:
        return None

    async def release(self) -> None:
        await super().close()


class Connector:
    def __init__(self, tokens: TokenSource, host_validator: OutboundHostValidator) -> None:
        self.tokens = tokens
        self.host_validator = host_validator
        self._clients: dict[str, tuple[_PooledClient, str]] = {}
        self._lock = asyncio.Lock()
        self._user_tokens: _IdleUserTokens | None = None

    async def _client(self, service_url: str) -> TeamsConnectorClient:
        if not self.host_validator.is_allowed(service_url):
            raise DeliveryError(
                f"refusing to send to {service_url}: not a Microsoft Teams service URL"
            )
        token = await self.tokens.token()
        known = self._clients.get(service_url)
        if known is not None:
            client, sent_token = known
            if sent_token != token:
                client.client.headers["Authorization"] = f"Bearer {token}"
                self._clients[service_url] = (client, token)
            return client
        async with self._lock:
            known = self._clients.get(service_url)
            if known is not None:
                return known[0]
            base = service_url if service_url.endswith("/") else service_url + "/"
            session = self.host_validator.client(
                {
                    "base_url": base,
                    "timeout": aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                }
            )
            client = _PooledClient(endpoint=base, token=token, session=session)
            self._clients[service_url] = (client, token)
            return client

    async def _call(
        self,
        service_url: str,
        what: str,
        call: Callable[[TeamsConnectorClient], Awaitable[T]],
    ) -> T:
        client = await self._client(service_url)
        try:
            return await call(client)
        except aiohttp.ClientResponseError as exc:
            if exc.status == 429:
                raise RateLimited(
                    retry_after(exc.headers), f"Teams asked plcbot to slow down ({what})"
                ) from exc
            if exc.status in (400, 403, 404, 410, 413):
                raise DeliveryError(
                    f"Teams refused to {what} (HTTP {exc.status}: {exc.message[:200]})"
                ) from exc
            raise
        except ValueError as exc:  # the SDK's checks, and its outbound host validation
            raise DeliveryError(f"could not {what}: {exc}") from exc

    async def send(self, service_url: str, conversation_id: str, activity: Activity) -> str:
        response = await self._call(
            service_url,
            "post a message",
            lambda c: c.conversations.send_to_conversation(conversation_id, activity),
        )
        return response.id or ""

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: Activity
    ) -> None:
        await self._call(
            service_url,
            "update a message",
            lambda c: c.conversations.update_activity(conversation_id, activity_id, activity),
        )

    async def open_direct(self, service_url: str, bot_id: str, tenant_id: str, user_id: str) -> str:
        """The 1:1 chat between the bot and a user (Teams returns the existing one if any)."""
        parameters = ConversationParameters.model_validate(
            {
                "isGroup": False,
                "bot": {"id": bot_id},
                "members": [{"id": user_id}],
                "tenantId": tenant_id,
                "channelData": {"tenant": {"id": tenant_id}},
            }
        )
        response = await self._call(
            service_url,
            "open a 1:1 chat",
            lambda c: c.create_conversation(parameters),
        )
        if not response.id:
            raise DeliveryError("Teams opened a 1:1 chat but did not say its id")
        return response.id

    async def members(
        self, service_url: str, conversation_id: str, tenant_id: str
    ) -> list[MemberRef]:
        people: list[MemberRef] = []
        token: str | None = None
        for _page in range(MAX_PAGES):
            page = await self._call(
                service_url, "list the channel's members", _paged(conversation_id, token)
            )
            for member in page.members or ():
                if member.id:
                    people.append(
                        MemberRef("teams", tenant_id, member.id, member.name or member.id)
                    )
            token = page.continuation_token
            if not token:
                break
        return people

    # -- the SDK's ChannelServiceClientFactoryBase: the turn's clients are the pooled ones --

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        """Creating a client (and its HTTP session) for every turn, as the SDK's default
        factory does, costs more than the rest of a simple reply; plcbot sends every reply,
        proactive or not, through the same per-service-URL clients."""
        return await self._client(service_url)

    async def create_user_token_client(
        self,
        context: TurnContext,
        claims_identity: ClaimsIdentity,
        use_anonymous: bool = False,
    ) -> UserTokenClientBase:
        if self._user_tokens is None:
            self._user_tokens = _IdleUserTokens(
                app_id=claims_identity.get_app_id() or "plcbot",
                endpoint=AuthenticationConstants.AGENTS_SDK_OAUTH_URL,
                token="",
            )
        return self._user_tokens

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        closing: list[_PooledClient | _IdleUserTokens] = [c for c, _token in clients.values()]
        if self._user_tokens is not None:
            closing.append(self._user_tokens)
            self._user_tokens = None
        for client in closing:
            try:
                await client.release()
            except Exception:
                log.exception("closing a Bot Connector client failed")


def _paged(
    conversation_id: str, token: str | None
) -> Callable[[TeamsConnectorClient], Awaitable[PagedMembersResult]]:
    async def call(client: TeamsConnectorClient) -> PagedMembersResult:
        return await client.conversations.get_conversation_paged_members(
            conversation_id, PAGE_SIZE, token
        )

    return call
