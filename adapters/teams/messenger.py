"""The core's :class:`~bot.ports.Messenger` for Teams.

Every send names its conversation by a :class:`~bot.events.ConversationRef` whose
``platform_data`` (stored by the core on each inbound activity) holds the service URL, tenant
and bot id. That is all a proactive send needs, so prompts and reminders work after a
restart. A member with no known 1:1 chat gets one opened through the connector, using any
stored reference from the same tenant for the service URL.

Teams has no "only you can see this" message in channels, so private replies go to the
member's 1:1 chat; if Teams won't allow that (the app isn't installed for them), a short
note in the channel tells them how to open one, without the private content.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from microsoft_agents.activity import Activity

from adapters.teams.cards import Json, attachment_for, render_cards
from adapters.teams.connector import Connector
from adapters.teams.inbound import PLATFORM, THREAD_MARK
from bot.clock import Clock
from bot.events import ConversationKind, ConversationRef, MemberRef
from bot.messages import Mention, OutMessage, Section, text
from bot.ports import DeliveryError, Messenger, RateLimited, SentMessage
from storage import identity
from storage.db import Database

log = logging.getLogger(__name__)

DIRECT_CACHE_SIZE = 5_000
SUMMARY_CHARS = 250
PART_ATTEMPTS = 3  # tries for each later part of a split message
PART_WAIT_SECONDS = 30.0  # the longest "slow down" a later part waits out
_UPDATED: ContextVar[dict[str, Json] | None] = ContextVar("teams_updated_cards", default=None)


@contextmanager
def recording_updates() -> Iterator[dict[str, Json]]:
    """Collects the cards updated in place while one turn is handled, by message id.

    An ``Action.Execute`` answer can then tell whether the pressed card was already redrawn.
    """
    record: dict[str, Json] = {}
    token = _UPDATED.set(record)
    try:
        yield record
    finally:
        _UPDATED.reset(token)


def wire_id(conversation: ConversationRef, message_id: str | None = None) -> str:
    """The conversation id the connector wants: a channel thread is ``CHANNEL;messageid=ROOT``."""
    if conversation.kind == ConversationKind.CHANNEL:
        root = conversation.thread_id or message_id
        if root:
            return f"{conversation.conversation_id}{THREAD_MARK}{root}"
    return conversation.conversation_id


class TeamsMessenger(Messenger):
    platform = PLATFORM
    help_command = "help"

    def __init__(self, connector: Connector, db: Database, clock: Clock) -> None:
        self.connector = connector
        self.db = db
        self.clock = clock
        self._direct: OrderedDict[tuple[str, str], ConversationRef] = OrderedDict()

    # -- building and routing -------------------------------------------------------------

    def cards(self, message: OutMessage) -> list[Json]:
        """Usually one card; several, in order, for a message too long for one."""
        return render_cards(message, self.clock.now())

    @staticmethod
    def activity(card: Json, message: OutMessage) -> Activity:
        return Activity.model_validate(
            {
                "type": "message",
                "attachments": [attachment_for(card)],
                "summary": message.fallback[:SUMMARY_CHARS] or "plcbot",
            }
        )

    async def post_rest(
        self, conversation: ConversationRef, message: OutMessage, cards: Sequence[Json]
    ) -> None:
        """The later parts of a split message, after its first part is out (posted, updated
        or shown as an ``Action.Execute`` answer). A "slow down" is waited out here: handing
        it back would make the retry repeat the part already shown."""
        if not cards:
            return
        data = await self._route(conversation)
        where = wire_id(conversation)
        for card in cards:
            for attempt in range(PART_ATTEMPTS):
                try:
                    await self.connector.send(
                        data["service_url"], where, self.activity(card, message)
                    )
                    break
                except RateLimited as exc:
                    if attempt == PART_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(min(exc.retry_after, PART_WAIT_SECONDS))

    async def _route(self, conversation: ConversationRef) -> Mapping[str, Any]:
        """The reference's platform data, or the tenant's latest one if it has none."""
        if conversation.platform_data.get("service_url"):
            return conversation.platform_data
        async with self.db.read() as session:
            stored = await identity.latest_conversation(
                session, PLATFORM, conversation.workspace_id
            )
        if stored is None or not stored.platform_data.get("service_url"):
            raise DeliveryError(
                f"no Teams service URL is known for tenant {conversation.workspace_id}: "
                "plcbot can message a tenant only after someone there has talked to it"
            )
        return stored.platform_data

    # -- the Messenger port ---------------------------------------------------------------

    async def post(self, conversation: ConversationRef, message: OutMessage) -> SentMessage:
        data = await self._route(conversation)
        first, *rest = self.cards(message)
        activity = self.activity(first, message)
        message_id = await self.connector.send(data["service_url"], wire_id(conversation), activity)
        await self.post_rest(conversation, message, rest)
        return SentMessage(conversation, message_id)

    async def update(self, sent: SentMessage, message: OutMessage) -> None:
        data = await self._route(sent.conversation)
        first, *rest = self.cards(message)
        activity = self.activity(first, message)
        activity.id = sent.message_id
        await self.connector.update(
            data["service_url"],
            wire_id(sent.conversation, sent.message_id),
            sent.message_id,
            activity,
        )
        record = _UPDATED.get()
        if record is not None:
            record[sent.message_id] = first
        # a card that outgrew one message keeps its place; the rest follows in its thread
        thread = sent.conversation.in_thread(sent.conversation.thread_id or sent.message_id)
        await self.post_rest(thread, message, rest)

    async def post_private(
        self, conversation: ConversationRef, member: MemberRef, message: OutMessage
    ) -> None:
        try:
            await self.post_direct(member, message)
        except DeliveryError as exc:
            if conversation.kind == ConversationKind.DIRECT:
                raise
            log.warning(
                "could not message %s privately in Teams (%s); told them in the channel",
                member.user_id,
                exc,
            )
            note = text(
                Mention(member.user_id, member.display_name),
                ", I have something for you alone but Teams won't let me message you yet. "
                "Find plcbot under Apps in Teams, open a chat with it, and try again.",
            )
            await self.post(conversation, OutMessage(blocks=(Section(note),)))

    async def post_direct(
        self, member: MemberRef, message: OutMessage, via: ConversationRef | None = None
    ) -> SentMessage:
        conversation = via or await self.direct_conversation(member)
        return await self.post(conversation, message)

    async def roster(self, conversation: ConversationRef) -> Sequence[MemberRef]:
        data = await self._route(conversation)
        return await self.connector.members(
            data["service_url"], conversation.conversation_id, conversation.workspace_id
        )

    # -- 1:1 chats ------------------------------------------------------------------------

    async def direct_conversation(self, member: MemberRef) -> ConversationRef:
        """The member's 1:1 chat with the bot, opened through the connector if need be."""
        key = (member.workspace_id, member.user_id)
        known = self._direct.get(key)
        if known is not None:
            self._direct.move_to_end(key)
            return known
        tenant_ref = ConversationRef(PLATFORM, member.workspace_id, "", ConversationKind.DIRECT)
        data = await self._route(tenant_ref)
        conversation_id = await self.connector.open_direct(
            data["service_url"], str(data.get("bot_id", "")), member.workspace_id, member.user_id
        )
        conversation = ConversationRef(
            PLATFORM,
            member.workspace_id,
            conversation_id,
            ConversationKind.DIRECT,
            member.display_name,
            platform_data={
                "service_url": data["service_url"],
                "tenant_id": member.workspace_id,
                "bot_id": data.get("bot_id", ""),
                "bot_name": data.get("bot_name", ""),
                "conversation_type": "personal",
            },
        )
        await self._remember_direct(member, conversation)
        self._direct[key] = conversation
        while len(self._direct) > DIRECT_CACHE_SIZE:
            self._direct.popitem(last=False)
        return conversation

    async def _remember_direct(self, member: MemberRef, conversation: ConversationRef) -> None:
        """Store the new chat as the member's direct conversation, so restarts reuse it."""
        now = self.clock.now()
        async with self.db.write() as session:
            workspace_id = await identity.find_workspace(session, PLATFORM, member.workspace_id)
            if workspace_id is None:
                return
            found = await identity.find_member(session, workspace_id, member.user_id)
            if found is None:
                return
            await identity.save_conversation(
                session,
                workspace_id,
                conversation.conversation_id,
                ConversationKind.DIRECT.value,
                conversation.name,
                found.id,
                conversation.platform_data,
                now,
            )
