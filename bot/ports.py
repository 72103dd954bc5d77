"""The ports the core talks through: how messages leave, and what an adapter provides.

Each adapter implements :class:`Messenger` for its platform. Use cases never ask which
platform they are on; they hand a neutral :class:`~bot.messages.OutMessage` to a messenger.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from bot.events import ConversationKind, ConversationRef, InboundEvent, MemberRef
from bot.messages import Form, OutMessage

if TYPE_CHECKING:
    from aiohttp import web


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent, so it can be updated in place later (a session's card)."""

    conversation: ConversationRef
    message_id: str


class DeliveryError(Exception):
    """The platform refused the message for good (no access, user gone); retrying won't help."""


class RateLimited(Exception):
    """The platform said "slow down"; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited; retry after {retry_after:g}s")
        self.retry_after = retry_after


class Messenger(ABC):
    platform: str
    # How people ask this platform's plcbot for help: Slack apps can't own "/help", so there it
    # is "/plcbot help"; in Teams it is the word "help". Core texts use this, never a literal.
    help_command: str = "/help"

    @abstractmethod
    async def post(self, conversation: ConversationRef, message: OutMessage) -> SentMessage:
        """Post for everyone in the conversation (in ``conversation.thread_id`` if set)."""

    @abstractmethod
    async def update(self, sent: SentMessage, message: OutMessage) -> None:
        """Replace a message the bot posted earlier."""

    @abstractmethod
    async def post_private(
        self, conversation: ConversationRef, member: MemberRef, message: OutMessage
    ) -> None:
        """Show a message only to ``member`` (Slack ephemeral; elsewhere a direct message)."""

    @abstractmethod
    async def post_direct(
        self, member: MemberRef, message: OutMessage, via: ConversationRef | None = None
    ) -> SentMessage:
        """Message a member 1:1; ``via`` is their known direct conversation, if any."""

    async def open_form(self, event: InboundEvent, form: Form) -> bool:
        """Open ``form`` as a dialog in answer to ``event``; False when the platform can't."""
        return False

    async def roster(self, conversation: ConversationRef) -> Sequence[MemberRef]:
        """The people in a team's channel, as the platform lists them."""
        return ()

    async def reply(self, event: InboundEvent, message: OutMessage, *, private: bool) -> None:
        """Answer an inbound event; adapters override this where the platform has a better way."""
        conversation = event.conversation
        if private and conversation.kind != ConversationKind.DIRECT:
            await self.post_private(conversation, event.actor, message)
        else:
            await self.post(conversation, message)


class Adapter(ABC):
    """A platform plugged into the composition root: its messenger, its routes, its lifecycle."""

    platform: str
    messenger: Messenger

    def routes(self) -> Sequence[web.RouteDef]:
        return ()

    async def start(self) -> None:  # noqa: B027 - most adapters have nothing to start
        """Open long-lived connections (Socket Mode); HTTP routes need nothing here."""

    async def stop(self) -> None:  # noqa: B027
        """Close what :meth:`start` opened and flush pending sends."""


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """An open item a team carries into its next meeting (an open commitment)."""

    owner: str
    text: str
    due: date | None
    status: str
    ref: str  # what the team types to act on it, e.g. "#12"


class TeamAgenda(Protocol):
    """What is still open for a team; the commitments feature provides it, protocols show it."""

    async def open_items(self, team_id: int) -> Sequence[AgendaItem]: ...


class QuietDays(Protocol):
    """The school calendar: days when nothing should be sent (breaks, holidays, testing windows).

    The reflections feature keeps the calendar (``/reflect holidays``); commitments and anything
    else that reaches out to people on a schedule asks it before sending.
    """

    async def is_quiet(self, team_id: int, day: date) -> bool: ...

    async def next_open_day(self, team_id: int, day: date) -> date | None:
        """``day`` itself if it is a school day, else the next one (None past the school year)."""
        ...


@dataclass(frozen=True, slots=True)
class ProposedCommitment:
    """A next step someone named in a protocol, for them to confirm or edit as a commitment."""

    team_id: int
    owner_member_id: int
    text: str
    session_id: int | None = None
    indicators: tuple[str, ...] = ()


class CommitmentDrafts(Protocol):
    """The commitments feature: asks each owner to confirm (or edit) a proposed commitment."""

    async def propose(self, proposals: Sequence[ProposedCommitment]) -> None: ...
