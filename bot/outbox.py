"""Sending without an inbound request: to a team's channel, to a member's 1:1 chat.

Scheduled work (prompts, reminders, step timers) has only database ids. The outbox turns them
back into the platform references stored when the team or member last spoke to the bot, and
hands the message to that platform's messenger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.clock import Clock
from bot.events import ConversationKind, ConversationRef, MemberRef
from bot.messages import OutMessage
from bot.ports import DeliveryError, Messenger, SentMessage
from storage import identity
from storage.db import Database
from storage.identity import Member, StoredConversation, Team


def member_ref(member: Member) -> MemberRef:
    return MemberRef(
        member.platform,
        member.workspace_external_id,
        member.user_id,
        member.display_name,
        member.timezone,
    )


def conversation_ref(stored: StoredConversation) -> ConversationRef:
    return ConversationRef(
        platform=stored.platform,
        workspace_id=stored.workspace_external_id,
        conversation_id=stored.conversation_id,
        kind=ConversationKind(stored.kind),
        name=stored.name,
        platform_data=stored.platform_data,
    )


def sent_to_json(sent: SentMessage) -> dict[str, Any]:
    """A :class:`SentMessage` as plain JSON, for storing beside the thing it shows."""
    c = sent.conversation
    return {
        "platform": c.platform,
        "workspace_id": c.workspace_id,
        "conversation_id": c.conversation_id,
        "kind": c.kind.value,
        "name": c.name,
        "thread_id": c.thread_id,
        "platform_data": dict(c.platform_data),
        "message_id": sent.message_id,
    }


def opened_direct(member_id: int, sent: SentMessage) -> identity.OpenedDirect | None:
    """What to remember of a 1:1 chat a message was just sent in, if it is one."""
    c = sent.conversation
    if c.kind != ConversationKind.DIRECT:
        return None
    return identity.OpenedDirect(member_id, c.conversation_id, c.name, c.platform_data)


def sent_from_json(data: Mapping[str, Any]) -> SentMessage:
    return SentMessage(
        ConversationRef(
            platform=data["platform"],
            workspace_id=data["workspace_id"],
            conversation_id=data["conversation_id"],
            kind=ConversationKind(data.get("kind", "channel")),
            name=data.get("name"),
            thread_id=data.get("thread_id"),
            platform_data=data.get("platform_data") or {},
        ),
        data["message_id"],
    )


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._messengers: dict[str, Messenger] = {}

    def add(self, messenger: Messenger) -> None:
        self._messengers[messenger.platform] = messenger

    def messenger(self, platform: str) -> Messenger:
        try:
            return self._messengers[platform]
        except KeyError:
            raise DeliveryError(
                f"cannot send to {platform}: that platform is not configured in this process"
            ) from None

    def has(self, platform: str) -> bool:
        return platform in self._messengers

    async def post(self, conversation: ConversationRef, message: OutMessage) -> SentMessage:
        return await self.messenger(conversation.platform).post(conversation, message)

    async def update(self, sent: SentMessage, message: OutMessage) -> None:
        await self.messenger(sent.conversation.platform).update(sent, message)

    async def team_conversation(self, team: Team) -> ConversationRef:
        async with self.db.read() as session:
            stored = await identity.conversation_for(
                session, team.workspace_id, team.conversation_id
            )
        if stored is None:
            return ConversationRef(
                team.platform, team.workspace_external_id, team.conversation_id, name=team.name
            )
        return conversation_ref(stored)

    async def to_team(self, team: Team, message: OutMessage) -> SentMessage:
        return await self.post(await self.team_conversation(team), message)

    async def to_member(self, member: Member, message: OutMessage) -> SentMessage:
        """A 1:1 message, through the member's known direct chat when there is one (a chat
        opened to send this one is remembered for the next)."""
        async with self.db.read() as session:
            known = await identity.direct_conversations(session, [member.id])
        via = conversation_ref(known[member.id]) if member.id in known else None
        sent = await self.messenger(member.platform).post_direct(member_ref(member), message, via)
        opened = opened_direct(member.id, sent) if via is None else None
        if opened is not None:
            async with self.db.write() as session:
                await identity.save_direct_conversations(session, [opened], self.clock.now())
        return sent
