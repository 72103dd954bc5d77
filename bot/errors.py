"""Errors that are the user's to fix, answered in chat in plain words."""

from __future__ import annotations

from bot.messages import OutMessage, say


class UserError(Exception):
    """Something the person asked can't be done as asked; ``str(self)`` tells them what to do.

    Raised anywhere in a handler, it becomes a private, friendly reply and nothing is stored
    half-way (the handler's open transaction rolls back).
    """

    def __init__(self, message: str | OutMessage) -> None:
        self.reply = message if isinstance(message, OutMessage) else say(message)
        super().__init__(self.reply.fallback)


class NotAllowed(UserError):
    """The person may not do this (only a facilitator or a lead may)."""
