"""The inbound event model: who did what, where, and when.

Adapters build these from their platform's payloads. Platform-specific details that are needed
later (a Teams service URL, a Slack trigger id) ride along in ``platform_data``, which the core
stores and hands back to the same adapter without looking inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


class ConversationKind(StrEnum):
    CHANNEL = "channel"  # a team's shared channel (a Slack channel, a Teams channel)
    DIRECT = "direct"  # a 1:1 chat between one member and the bot
    GROUP = "group"  # a group chat that is not a team channel


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A person as their platform knows them."""

    platform: str
    workspace_id: str
    user_id: str
    display_name: str
    timezone: str | None = None  # IANA name from the platform profile, when it tells us

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.workspace_id, self.user_id)


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where a message came from or should go, enough for a later proactive send."""

    platform: str
    workspace_id: str
    conversation_id: str
    kind: ConversationKind = ConversationKind.CHANNEL
    name: str | None = None
    thread_id: str | None = None
    platform_data: Mapping[str, Any] = field(
        default_factory=lambda: EMPTY, compare=False, hash=False
    )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.workspace_id, self.conversation_id)

    def in_thread(self, thread_id: str | None) -> ConversationRef:
        return ConversationRef(
            self.platform,
            self.workspace_id,
            self.conversation_id,
            self.kind,
            self.name,
            thread_id,
            self.platform_data,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Inbound:
    event_id: str  # the platform's id for this delivery; the key for de-duplication
    at: datetime
    actor: MemberRef
    conversation: ConversationRef
    platform_data: Mapping[str, Any] = field(
        default_factory=lambda: EMPTY, compare=False, hash=False
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandEvent(_Inbound):
    """``/protocol start tuning @maria``: ``name="protocol"``, ``text="start tuning @maria"``.

    ``mentions`` lists the members the platform resolved in ``text``, in order; the text shows
    each as ``@display name`` so parsing can match them up.
    """

    name: str
    text: str
    mentions: tuple[MemberRef, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent(_Inbound):
    """A plain message: a thread reply, a console line, a Teams message mentioning the bot."""

    text: str
    mentions: tuple[MemberRef, ...] = ()
    reply_to: str | None = None  # the message id it replies to (a Slack thread ts, ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionEvent(_Inbound):
    """A button press or a submitted form.

    ``action_id`` names what to do (``protocol.next``); ``value`` is what the button carried
    (ids, the version it was drawn for); ``form`` holds submitted input values by input id.
    ``message_id`` is the message the button was on, so the handler can update it.
    """

    action_id: str
    value: str = ""
    form: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False, hash=False)
    message_id: str | None = None


InboundEvent = CommandEvent | MessageEvent | ActionEvent
