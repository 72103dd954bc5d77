"""What every protocol handler needs: the library, the runner, and who is acting in which role."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.context import Core
from bot.errors import UserError
from bot.protocol.runner import Loaded, Ports, Runner
from bot.turn import Turn
from protocols.engine import Actor
from protocols.loader import Library, load_library
from protocols.schema import Protocol
from protocols.state import Person
from storage import identity
from storage.identity import LEAD, Member

log = logging.getLogger(__name__)

MAX_CONTRIBUTION = 3000  # characters; a Slack section holds 3000


def person(member: Member) -> Person:
    return Person(id=member.id, user_id=member.user_id, name=member.display_name)


NO_SESSION = (
    "No protocol is running in this channel. Start one with /protocol start NAME "
    "(/protocol list shows them all)."
)


@dataclass
class ProtocolContext:
    core: Core
    ports: Ports
    runner: Runner
    custom_dir: Path | None = None
    _library: Library | None = field(default=None, repr=False)

    @property
    def library(self) -> Library:
        if self._library is None:
            self.reload()
        assert self._library is not None
        return self._library

    def reload(self) -> Library:
        self._library = load_library(self.custom_dir)
        log.info(
            "protocol library: %d protocols (%d custom), %d problem(s) in files",
            len(self._library),
            len(self._library.custom),
            len(self._library.problems),
        )
        return self._library

    def find(self, name: str) -> Protocol:
        name = name.strip()
        if not name:
            raise UserError(
                "Which protocol? For example /protocol start tuning @maria. "
                "/protocol list shows them all."
            )
        found = self.library.find(name)
        if found is not None:
            return found
        guesses = self.library.suggest(name)
        hint = f" Did you mean {', '.join(guesses)}?" if guesses else ""
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise UserError(
            f"I don't know a protocol called {shown!r}.{hint} /protocol list shows them all."
        )

    async def session(self, turn: Turn) -> Loaded:
        team = turn.require_team()
        loaded = await self.runner.active(team.id)
        if loaded is None:
            raise UserError(NO_SESSION)
        return loaded

    async def actor(self, turn: Turn, loaded: Loaded) -> Actor:
        """The acting person, and whether they lead the session's team (not just any team)."""
        if turn.team is not None and turn.team.id == loaded.row.team_id:
            is_lead = turn.is_lead
        else:
            async with self.core.db.read() as s:
                is_lead = await identity.role_in(s, loaded.row.team_id, turn.member.id) == LEAD
        return Actor(person(turn.member), is_lead)


def stale_text(loaded: Loaded) -> str:
    if loaded.state.ended:
        return "That already happened: this session has ended. /protocol history has its summary."
    index = loaded.state.step
    return (
        f"That already happened: the session has moved on and is now on step {index + 1} of "
        f"{len(loaded.definition.steps)} ({loaded.definition.steps[index].title}). The card "
        "shows where it is."
    )
