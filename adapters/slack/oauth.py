"""Multi-workspace install: "Add to Slack", the OAuth redirect, and each workspace's token.

Installations and OAuth states live in plcbot's own database through slack-sdk's truly async
SQLAlchemy stores (tables made by migration ``0005``, never by ``create_tables``), so several
replicas share them. Bolt runs the OAuth flow itself; its Web API client has plcbot's base URL,
so ``SLACK_API_URL`` applies to ``oauth.v2.access`` too.
"""

from __future__ import annotations

import time
from functools import cache
from importlib import resources

import yaml
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import select

from adapters.slack import tables
from bot.ports import DeliveryError
from storage.db import Database

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 10 * 60
TOKEN_CACHE_SECONDS = 5 * 60.0


@cache
def manifest() -> dict[str, object]:
    text = resources.files("adapters.slack").joinpath("manifest.yml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def bot_scopes() -> list[str]:
    """The bot scopes of ``manifest.yml``: one list for the app settings and the install link."""
    oauth = manifest()["oauth_config"]
    assert isinstance(oauth, dict)
    return [str(s) for s in oauth["scopes"]["bot"]]


def oauth_settings(client_id: str, client_secret: str, db: Database) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=bot_scopes(),
        installation_store=AsyncSQLAlchemyInstallationStore(
            client_id=client_id,
            engine=db.engine,
            bots_table_name=tables.BOTS,
            installations_table_name=tables.INSTALLATIONS,
        ),
        installation_store_bot_only=True,
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=db.engine, table_name=tables.OAUTH_STATES
        ),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )


class InstalledTokens:
    """Each workspace's bot token, from the installation store (for sends nobody asked for).

    Read straight from slack-sdk's bots table by workspace id, newest install first, because a
    scheduled send knows the workspace but not its Enterprise Grid org id, which the store's
    own ``find_bot`` also needs. Org-wide installs (no workspace id) are not supported.
    """

    def __init__(self, client_id: str, db: Database) -> None:
        self.client_id = client_id
        self.db = db
        self._cache: dict[str, tuple[float, str]] = {}

    async def token_for(self, workspace_id: str) -> str:
        hit = self._cache.get(workspace_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        bots = tables.bots.c
        async with self.db.read() as session:
            token = await session.scalar(
                select(bots.bot_token)
                .where(bots.client_id == self.client_id, bots.team_id == workspace_id)
                .order_by(bots.installed_at.desc(), bots.id.desc())
                .limit(1)
            )
        if not token:
            raise DeliveryError(
                f"plcbot is not installed in Slack workspace {workspace_id}; install it from "
                f"{INSTALL_PATH} on this server"
            )
        self._cache[workspace_id] = (time.monotonic() + TOKEN_CACHE_SECONDS, str(token))
        return str(token)

    def forget(self, workspace_id: str) -> None:
        self._cache.pop(workspace_id, None)
