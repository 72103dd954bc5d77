"""What a feature (protocols, reflections, commitments, team settings) plugs into."""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Block
from bot.router import Router
from storage.identity import Member


class Feature:
    """A use case: it registers its commands, buttons, message handlers and job kinds.

    ``start`` runs after the database is migrated and before the scheduler catches up on missed
    work, so a feature can load what it needs (the protocol library) first.
    """

    name = "feature"

    def install(self, router: Router) -> None:
        raise NotImplementedError(f"{type(self).__name__} must register its commands")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def home(self, member: Member) -> Sequence[Block]:
        """This feature's part of a member's home view (Slack's App Home, Teams' ``home``)."""
        return ()
