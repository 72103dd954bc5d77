"""Who people are and what channels are called, from ``users.info`` and ``conversations.info``.

Every inbound request names people and channels by id only. Looking them up each time would
cost two Web API calls per command and run into Slack's per-method limits, so answers are
cached for a while (names change rarely) and concurrent look-ups of the same id share one call.
A failed look-up never stops a command: the payload's own hints (``user_name``,
``channel_name``) stand in, and the failure is not cached.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError

from adapters.slack.webapi import SlackApi
from bot.events import ConversationKind
from bot.ports import DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")
CACHE_SECONDS = 15 * 60.0
CACHE_SIZE = 20_000
NAME_CHARS = 200
MEMBERS_PAGE = 200
SLACKBOT = "USLACKBOT"


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    display_name: str
    timezone: str | None = None
    is_bot: bool = False
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Channel:
    channel_id: str
    kind: ConversationKind
    name: str | None = None


def _clean_name(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()[:NAME_CHARS]


def person_from(user: dict[str, Any]) -> Person:
    profile = user.get("profile") or {}
    name = next(
        (
            _clean_name(str(candidate))
            for candidate in (
                profile.get("display_name"),
                profile.get("real_name"),
                user.get("real_name"),
                user.get("name"),
            )
            if candidate and _clean_name(str(candidate))
        ),
        str(user.get("id") or "someone"),
    )
    timezone = user.get("tz")
    return Person(
        user_id=str(user.get("id")),
        display_name=name,
        timezone=str(timezone) if timezone else None,
        is_bot=bool(user.get("is_bot")) or user.get("id") == SLACKBOT,
        deleted=bool(user.get("deleted")),
    )


class _Cache:
    def __init__(self, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._values: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._pending: dict[tuple[str, ...], asyncio.Future[Any]] = {}

    async def get(self, key: tuple[str, ...], load: Callable[[], Awaitable[T]]) -> T:
        hit = self._values.get(key)
        if hit is not None and hit[0] > time.monotonic():
            value: T = hit[1]
            return value
        pending = self._pending.get(key)
        if pending is not None:
            shared: T = await asyncio.shield(pending)
            return shared
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            loaded = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) get it, nobody else must
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(loaded)
        if len(self._values) >= self.size:
            self._values.clear()
        self._values[key] = (time.monotonic() + self.seconds, loaded)
        return loaded

    def peek(self, key: tuple[str, ...]) -> Any:
        hit = self._values.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, key: tuple[str, ...], value: Any) -> None:
        self._values[key] = (time.monotonic() + self.seconds, value)


class Directory:
    def __init__(
        self, api: SlackApi, *, seconds: float = CACHE_SECONDS, size: int = CACHE_SIZE
    ) -> None:
        self.api = api
        self._people = _Cache(seconds, size)
        self._channels = _Cache(seconds, size)
        self._dms = _Cache(seconds * 8, size)

    async def person(self, workspace: str, user_id: str, hint: str | None = None) -> Person:
        async def load() -> Person:
            response = await self.api.call(workspace, "users_info", user=user_id)
            return person_from(dict(response.get("user") or {"id": user_id}))

        try:
            return await self._people.get((workspace, user_id), load)
        except (SlackApiError, DeliveryError) as exc:
            log.warning("could not look up Slack user %s (%s); using %r", user_id, exc, hint)
            return Person(user_id, _clean_name(hint or "") or user_id)

    async def channel(self, workspace: str, channel_id: str, *, hint: str | None = None) -> Channel:
        async def load() -> Channel:
            response = await self.api.call(workspace, "conversations_info", channel=channel_id)
            info = response.get("channel") or {}
            if info.get("is_im"):
                return Channel(channel_id, ConversationKind.DIRECT)
            if info.get("is_mpim"):
                return Channel(channel_id, ConversationKind.GROUP, info.get("name"))
            return Channel(channel_id, ConversationKind.CHANNEL, info.get("name"))

        try:
            return await self._channels.get((workspace, channel_id), load)
        except (SlackApiError, DeliveryError) as exc:
            # The bot cannot see the conversation: a private channel it was not invited to,
            # or a direct message between two other people.
            log.info("could not look up Slack conversation %s (%s)", channel_id, exc)
            if channel_id.startswith("D") or hint == "directmessage":
                return Channel(channel_id, ConversationKind.GROUP)
            if hint and hint.startswith("mpdm-"):
                return Channel(channel_id, ConversationKind.GROUP, hint)
            return Channel(channel_id, ConversationKind.CHANNEL, hint)

    def learn_channel(self, workspace: str, channel: Channel) -> None:
        """Remember what an event already told us (``channel_type`` of a message)."""
        self._channels.put((workspace, channel.channel_id), channel)

    async def direct_channel(self, workspace: str, user_id: str) -> str:
        """The bot's 1:1 conversation with a person (``conversations.open``), opened if needed."""

        async def load() -> str:
            response = await self.api.call(workspace, "conversations_open", users=user_id)
            return str((response.get("channel") or {})["id"])

        return await self._dms.get((workspace, user_id), load)

    def known_direct_channel(self, workspace: str, user_id: str) -> str | None:
        """The bot's DM with a person if this process already knows it, without asking Slack."""
        known = self._dms.peek((workspace, user_id))
        return str(known) if known is not None else None

    def learn_direct_channel(self, workspace: str, user_id: str, channel_id: str) -> None:
        """Remember the DM a post to the person's id landed in (Slack answers with it)."""
        self._dms.put((workspace, user_id), channel_id)

    async def member_ids(self, workspace: str, channel_id: str) -> list[str]:
        ids: list[str] = []
        cursor: str | None = None
        while True:
            response = await self.api.call(
                workspace,
                "conversations_members",
                channel=channel_id,
                limit=MEMBERS_PAGE,
                cursor=cursor,
            )
            ids.extend(str(m) for m in response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return ids
