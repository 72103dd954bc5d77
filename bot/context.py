"""The core services every feature is built with, wired once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.identity import Identity
from bot.outbox import Outbox
from bot.scheduler import Scheduler
from bot.settings import Settings
from storage.db import Database
from storage.identity import Member, Team


@dataclass(frozen=True)
class Core:
    settings: Settings
    db: Database
    clock: Clock
    scheduler: Scheduler
    outbox: Outbox
    identity: Identity

    def zone_for(self, member: Member | None = None, team: Team | None = None) -> ZoneInfo:
        """A member's own time zone, else their team's, else ``PLCBOT_TIMEZONE``."""
        for name in (member.timezone if member else None, team.timezone if team else None):
            if name:
                try:
                    return ZoneInfo(name)
                except (KeyError, ValueError):
                    continue
        return self.settings.zone
