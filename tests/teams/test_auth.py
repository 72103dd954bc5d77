"""Who may post to /api/messages: signed Bot Framework tokens, or nobody.

The signed path is tested for real: a JWT signed with an RSA key whose public half is served
by a loopback JWKS endpoint, checked by the Agents SDK's own validator. The SDK fetches keys
from fixed Microsoft URLs (login.botframework.com), so the test registers a JWK client for
that URL, pointed at the loopback endpoint, in the SDK's per-URL key-client cache; that cache
is the only way to make the SDK trust another key source. Outbound tokens come from a token
provider plugged in through the SDK's ``ConnectionManager`` (MSAL itself accepts only https
authorities, so it can't be pointed at a loopback server).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import jwt
import pytest
from aiohttp import web
from azure.core.credentials_async import AsyncTokenCredential
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    JwtTokenValidator,
    OutboundHostValidator,
)
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator

from adapters.teams.adapter import TeamsAdapter
from adapters.teams.auth import SERVICE_CONNECTION, auth_configuration
from bot.app import PlcBot, build_app
from bot.clock import FakeClock
from bot.events import ConversationKind, ConversationRef
from bot.messages import say
from bot.ports import DeliveryError
from bot.settings import SettingsError, load_settings
from tests.support.fake_connector import FakeConnector
from tests.support.harness import settings_for
from tests.teams.activities import CHANNEL, MARIA, TENANT, Teams
from tests.teams.harness import teams_server

APP_ID = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
SIGNED_ENV = {
    "MICROSOFT_APP_ID": APP_ID,
    "MICROSOFT_APP_PASSWORD": "test-client-secret",
    "MICROSOFT_APP_TENANT_ID": TENANT,
}
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
OUTBOUND_TOKEN = "outbound-token-from-entra"


class Signer:
    def __init__(self, kid: str = "plcbot-test-key") -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def token(self, service_url: str, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": APP_ID,
            "nbf": now - 60,
            "exp": now + 3600,
            "serviceurl": service_url,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})


@asynccontextmanager
async def jwks_server(signer: Signer) -> AsyncIterator[str]:
    async def keys(_request: web.Request) -> web.Response:
        return web.json_response({"keys": [signer.jwk()]})

    app = web.Application()
    app.router.add_get("/keys", keys)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/keys"
    finally:
        await runner.cleanup()


@contextmanager
def sdk_trusts(jwks_url: str) -> Iterator[None]:
    """Point the SDK's key clients for Bot Framework and for this tenant's Entra ID tokens at
    ``jwks_url`` for a while (so a token with another issuer is checked on its issuer alone)."""
    cache = JwtTokenValidator._jwk_client_manager._cache
    official = (
        AuthenticationConstants.PUBLIC_ABS_JWKS_URL,
        f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys",
    )
    previous = {url: cache.get(url) for url in official}
    for url in official:
        cache[url] = jwt_token_validator._JwkClientCacheEntry(
            PyJWKClient(jwks_url), threading.Lock()
        )
    try:
        yield
    finally:
        for url, entry in previous.items():
            if entry is None:
                cache.pop(url, None)
            else:
                cache[url] = entry


class LoopbackTokens(AccessTokenProviderBase):
    """Entra ID's part in tests: hands out a fixed token for outbound calls."""

    def __init__(self, configuration: AgentAuthConfiguration) -> None:
        self._configuration = configuration
        self.requested: list[tuple[str, list[str]]] = []

    @property
    def configuration(self) -> AgentAuthConfiguration:
        return self._configuration

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        self.requested.append((resource_url, scopes))
        return OUTBOUND_TOKEN

    def get_token_credential(self) -> AsyncTokenCredential:
        return AnonymousTokenProvider().get_token_credential()


def signed_adapter(bot: PlcBot) -> TeamsAdapter:
    """Production's adapter but for two loopback seams the SDK offers: token provider and
    host validator (the real one refuses http and loopback service URLs, as it should)."""
    connections = ConnectionManager(
        provider_factory=LoopbackTokens,
        connections_configurations={SERVICE_CONNECTION: auth_configuration(bot.settings)},
    )
    return TeamsAdapter(
        bot, connections=connections, host_validator=OutboundHostValidator(enabled=False)
    )


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
async def trusted(signer: Signer) -> AsyncIterator[None]:
    async with jwks_server(signer) as url:
        with sdk_trusts(url):
            yield


async def test_with_an_app_id_an_unsigned_activity_is_refused(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock, env=SIGNED_ENV) as server:
        post = teams.channel_message(MARIA, "team")
        assert (await server.post(post)).status == 401
        assert (await server.post(post, token="not-a-jwt")).status == 401
        assert (await server.post(post, headers={"Authorization": "Basic abc"})).status == 401
    assert fake.requests == []


async def test_without_an_app_id_or_anonymous_mode_everything_is_refused(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock, env={}) as server:
        assert (await server.post(teams.personal_message(MARIA, "help"))).status == 401
        assert (await server.post(teams.personal_message(MARIA, "help"), token="x")).status == 401
    assert fake.requests == []


async def test_anonymous_mode_warns_loudly_at_start_up(
    sqlite_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        async with teams_server(sqlite_url, clock):
            pass
    assert any("UNAUTHENTICATED" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("trusted")
async def test_a_signed_activity_is_handled_and_replies_carry_the_bots_token(
    sqlite_url: str, clock: FakeClock, signer: Signer, teams: Teams
) -> None:
    async with (
        FakeConnector(expected_token=OUTBOUND_TOKEN).running() as fake,
        teams_server(sqlite_url, clock, env=SIGNED_ENV, adapter=signed_adapter) as server,
    ):
        teams = Teams(fake.url)
        post = teams.personal_message(MARIA, "help")
        answer = await server.post(post, token=signer.token(fake.url))
        assert answer.status == 202
        [reply] = fake.posted
        assert "plcbot: what I can do" in reply.text
        assert {r.authorization for r in fake.requests} == {f"Bearer {OUTBOUND_TOKEN}"}

        for bad in (
            signer.token(fake.url, aud="someone-elses-app"),
            signer.token(fake.url, exp=int(time.time()) - 3600),
            signer.token(fake.url, iss="https://issuer.example.com/"),  # a key it may hold
            Signer().token(fake.url),  # same key id, another key
        ):
            refused = teams.personal_message(MARIA, "help")
            assert (await server.post(refused, token=bad)).status == 401
        assert len(fake.posted) == 1


@pytest.mark.usefixtures("trusted")
async def test_production_refuses_service_urls_that_are_not_microsofts(
    sqlite_url: str, clock: FakeClock, signer: Signer, fake: FakeConnector, teams: Teams
) -> None:
    """Even correctly signed, an activity naming a loopback http service URL is refused, and
    plcbot won't send to such a URL from a stored reference either."""
    async with teams_server(sqlite_url, clock, env=SIGNED_ENV) as server:
        post = teams.channel_message(MARIA, "team")
        answer = await server.post(post, token=signer.token(fake.url))
        assert answer.status == 401
        where = ConversationRef(
            "teams",
            TENANT,
            CHANNEL,
            ConversationKind.CHANNEL,
            platform_data={"service_url": fake.url},
        )
        with pytest.raises(DeliveryError, match="not a Microsoft Teams service URL"):
            await server.bot.core.outbox.post(where, say("hello"))
    assert fake.requests == []


def test_an_app_id_without_its_tenant_stops_start_up_with_one_clear_line(
    sqlite_url: str, clock: FakeClock
) -> None:
    env = {k: v for k, v in SIGNED_ENV.items() if k != "MICROSOFT_APP_TENANT_ID"}
    settings = load_settings(settings_for(sqlite_url, **env), env_file=None)
    with pytest.raises(SettingsError, match=r"^MICROSOFT_APP_TENANT_ID: required with"):
        build_app(settings, clock=clock, platforms=["teams"])


class RefusingTokens(LoopbackTokens):
    """Entra ID refusing plcbot's client secret (expired, say)."""

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        raise ValueError("AADSTS7000222: the provided client secret keys are expired")


@pytest.mark.usefixtures("trusted")
async def test_when_plcbot_cannot_get_its_own_token_teams_retries_and_the_log_says_why(
    sqlite_url: str,
    clock: FakeClock,
    signer: Signer,
    fake: FakeConnector,
    teams: Teams,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def adapter(bot: PlcBot) -> TeamsAdapter:
        connections = ConnectionManager(
            provider_factory=RefusingTokens,
            connections_configurations={SERVICE_CONNECTION: auth_configuration(bot.settings)},
        )
        return TeamsAdapter(
            bot, connections=connections, host_validator=OutboundHostValidator(enabled=False)
        )

    async with teams_server(sqlite_url, clock, env=SIGNED_ENV, adapter=adapter) as server:
        answer = await server.post(
            teams.personal_message(MARIA, "help"), token=signer.token(fake.url)
        )
    assert answer.status == 503
    assert "AADSTS" not in answer.text
    logged = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert any("MICROSOFT_APP_PASSWORD (client secrets expire)" in text for text in logged)
    assert fake.requests == []
