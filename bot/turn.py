"""One inbound event being handled: who, where, and the replies collected for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.errors import NotAllowed, UserError
from bot.events import ActionEvent, CommandEvent, ConversationKind, InboundEvent, MessageEvent
from bot.messages import Form, OutMessage, say
from bot.ports import Messenger
from storage.identity import LEAD, Member, Team

if TYPE_CHECKING:
    from bot.context import Core


@dataclass(frozen=True, slots=True)
class Reply:
    message: OutMessage
    private: bool = False
    form: Form | None = None  # open this as a dialog where the platform can


@dataclass
class Turn:
    event: InboundEvent
    core: Core
    messenger: Messenger
    member: Member
    team: Team | None
    role: str | None
    replies: list[Reply] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.core.clock.now()

    @property
    def is_lead(self) -> bool:
        return self.role == LEAD

    @property
    def in_channel(self) -> bool:
        return self.event.conversation.kind == ConversationKind.CHANNEL

    @property
    def command(self) -> CommandEvent:
        assert isinstance(self.event, CommandEvent)
        return self.event

    @property
    def message(self) -> MessageEvent:
        assert isinstance(self.event, MessageEvent)
        return self.event

    @property
    def action(self) -> ActionEvent:
        assert isinstance(self.event, ActionEvent)
        return self.event

    def reply(self, message: OutMessage | str, *, private: bool = False) -> None:
        self.replies.append(Reply(say(message) if isinstance(message, str) else message, private))

    def open_form(self, form: Form, fallback: OutMessage | None = None) -> None:
        """Ask for input: a dialog where the platform has one, else the form as a message."""
        message = fallback or OutMessage(title=form.title, form=form)
        self.replies.append(Reply(message, private=True, form=form))

    def require_team(self) -> Team:
        if self.team is None:
            raise UserError(
                "I don't know which team this is for yet. Use this command in your team's "
                "channel first, then I can follow up here too."
            )
        return self.team

    def require_channel(self, what: str) -> Team:
        if not self.in_channel or self.team is None:
            raise UserError(f"Please {what} in your team's channel, so everyone can take part.")
        return self.team

    def require_lead(self, what: str) -> None:
        if not self.is_lead:
            raise NotAllowed(f"Only a team lead can {what}. Ask a lead (see /team).")
