"""Who may post activities to ``/api/messages``, and the token plcbot sends back with.

Three modes, chosen from the settings once at start-up:

- **signed** (``MICROSOFT_APP_ID`` set): every request must carry a Bot Framework JWT for this
  app id, checked by the Agents SDK's :class:`JwtTokenValidator` against Microsoft's published
  signing keys; outbound calls carry an Entra ID token from MSAL; service URLs are limited to
  Microsoft's hosts (the SDK's outbound host validation).
- **anonymous** (no app id, ``TEAMS_ALLOW_ANONYMOUS=true``): anything is accepted and nothing
  is signed. For a laptop and for tests only; start-up says so loudly.
- **closed** (neither): every request is refused with 401, so a half-configured server never
  accepts forged activities.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass
from enum import StrEnum

from jwt import PyJWKClientConnectionError, PyJWTError
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectionManager,
    Connections,
    JwtTokenValidator,
    OutboundHostValidator,
)

from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

SERVICE_CONNECTION = "SERVICE_CONNECTION"
BOT_FRAMEWORK_SCOPE = AuthenticationConstants.AGENTS_SDK_SCOPE
TOKEN_REFRESH_MARGIN = 300.0  # seconds before expiry that a cached token is renewed
UNKNOWN_EXPIRY_SECONDS = 600.0  # cache an opaque token this long


class Mode(StrEnum):
    SIGNED = "signed"
    ANONYMOUS = "anonymous"
    CLOSED = "closed"


class Unauthorized(Exception):
    """The request is not from the Bot Framework for this bot (401)."""


class KeysUnavailable(Exception):
    """Microsoft's signing keys could not be fetched, so no token can be checked (503)."""


class TokenUnavailable(RuntimeError):
    """plcbot could not get its own token from Microsoft Entra ID, so it can't send."""


def mode_for(settings: Settings) -> Mode:
    if settings.microsoft_app_id:
        return Mode.SIGNED
    if settings.teams_allow_anonymous:
        return Mode.ANONYMOUS
    return Mode.CLOSED


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's view of the bot's Azure registration (anonymous when there is none)."""
    if not settings.microsoft_app_id:
        return AgentAuthConfiguration(anonymous_allowed=True, connection_name=SERVICE_CONNECTION)
    if not settings.microsoft_app_tenant_id:
        raise SettingsError(
            "MICROSOFT_APP_TENANT_ID: required with MICROSOFT_APP_ID (the Directory (tenant) ID "
            "on your Azure bot's app registration; new Azure bots are single-tenant)"
        )
    return AgentAuthConfiguration(
        client_id=settings.microsoft_app_id,
        tenant_id=settings.microsoft_app_tenant_id,
        client_secret=settings.microsoft_app_password,
        connection_name=SERVICE_CONNECTION,
        anonymous_allowed=False,
        # The SDK checks issuers only when asked: accept tokens from the Bot Framework and
        # this tenant's Entra ID (its default allow-list), not from any signer of a known key.
        validate_issuer=True,
    )


def default_connections(config: AgentAuthConfiguration, mode: Mode) -> Connections:
    """MSAL client credentials in production; a token-less provider otherwise."""
    if mode is Mode.SIGNED:
        return MsalConnectionManager(connections_configurations={SERVICE_CONNECTION: config})
    return ConnectionManager(
        provider_factory=lambda _config: AnonymousTokenProvider(),
        connections_configurations={SERVICE_CONNECTION: config},
    )


def default_host_validator(mode: Mode) -> OutboundHostValidator:
    """Production sends only to Microsoft's Bot Framework and Teams hosts, over HTTPS."""
    return OutboundHostValidator(enabled=mode is Mode.SIGNED)


@dataclass
class InboundAuth:
    mode: Mode
    config: AgentAuthConfiguration

    async def authenticate(self, header: str | None) -> ClaimsIdentity:
        if self.mode is Mode.CLOSED:
            raise Unauthorized(
                "Teams is not configured (no MICROSOFT_APP_ID), so plcbot accepts no activities"
            )
        if self.mode is Mode.ANONYMOUS:
            return ClaimsIdentity()
        if not header:
            raise Unauthorized("no Authorization header")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(ch.isspace() for ch in token):
            raise Unauthorized("the Authorization header is not a bearer token")
        try:
            return await JwtTokenValidator(self.config).validate_token(token)
        except PyJWKClientConnectionError as exc:
            raise KeysUnavailable(str(exc)) from exc
        except (PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise Unauthorized(f"the token was refused ({type(exc).__name__})") from exc


class TokenSource:
    """The bearer token for calls to the Bot Connector, renewed shortly before it expires.

    MSAL caches tokens too, but every lookup runs in a worker thread; remembering the token
    and its expiry here keeps each send on the event loop.
    """

    def __init__(self, provider: AccessTokenProviderBase | None) -> None:
        self._provider = provider
        self._token = ""
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        if self._provider is None:
            return ""
        if self._token and time.monotonic() < self._renew_at:
            return self._token
        async with self._lock:  # one renewal at a time, however many sends are waiting
            if self._token and time.monotonic() < self._renew_at:
                return self._token
            try:
                token = await self._provider.get_access_token(
                    BOT_FRAMEWORK_SCOPE, [f"{BOT_FRAMEWORK_SCOPE}/.default"]
                )
            except Exception as exc:
                raise TokenUnavailable(
                    "Microsoft Entra ID gave plcbot no token for the Bot Framework: check "
                    "MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD (client secrets expire) and "
                    "MICROSOFT_APP_TENANT_ID, and that login.microsoftonline.com is reachable "
                    f"({type(exc).__name__})"
                ) from exc
            self._token = token
            self._renew_at = time.monotonic() + _lifetime(token) - TOKEN_REFRESH_MARGIN
            return token


def _lifetime(token: str) -> float:
    """Seconds until a JWT's ``exp``; a fixed guess for tokens that don't say."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return max(0.0, float(claims["exp"]) - time.time())
    except (IndexError, ValueError, KeyError, TypeError):
        return UNKNOWN_EXPIRY_SECONDS + TOKEN_REFRESH_MARGIN
