"""Who is speaking and in which team: resolved once per inbound event, cached briefly.

Every inbound event may carry a new display name, time zone or conversation reference (a Teams
service URL can change). Writing them on every event would make each command a database write,
so a short-lived cache remembers what was last stored and writes only when something changed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.events import ConversationKind, InboundEvent, MemberRef
from storage import identity as repo
from storage.db import Database
from storage.identity import Member, Team

CACHE_SECONDS = 60.0
CACHE_SIZE = 10_000
ROSTER_GROUP = 500  # people per write transaction in a roster sync (see sync_roster)


@dataclass(frozen=True, slots=True)
class Resolved:
    member: Member
    team: Team | None  # the channel's team; in a 1:1 chat, the member's most recent team
    role: str | None  # the member's role in ``team``
    became_lead: bool = False  # this event made them the first member (and lead) of a new team


class Identity:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._cache: dict[tuple[object, ...], tuple[float, Resolved]] = {}

    def _signature(self, event: InboundEvent) -> tuple[object, ...]:
        a, c = event.actor, event.conversation
        data = json.dumps(dict(c.platform_data), sort_keys=True, default=str)
        return (a.key, a.display_name, a.timezone, c.key, c.kind, c.name, data)

    async def resolve(self, event: InboundEvent) -> Resolved:
        signature = self._signature(event)
        hit = self._cache.get(signature)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        resolved = await self._store(event)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        if not resolved.became_lead:
            self._cache[signature] = (time.monotonic() + CACHE_SECONDS, resolved)
        return resolved

    def forget_team(self, team_id: int) -> None:
        """Drop cached roles for a team after they change in this process."""
        self._cache = {
            k: v for k, v in self._cache.items() if not v[1].team or v[1].team.id != team_id
        }

    async def _store(self, event: InboundEvent) -> Resolved:
        now = self.clock.now()
        actor, conv = event.actor, event.conversation
        async with self.db.write() as session:
            ws = await repo.ensure_workspace(session, actor.platform, actor.workspace_id, now)
            team_id: int | None = None
            role: str | None = None
            became_lead = False
            if conv.kind == ConversationKind.CHANNEL:
                team_id = await repo.ensure_team(session, ws, conv.conversation_id, conv.name, now)
            member_id = await repo.ensure_member(
                session, ws, actor.user_id, actor.display_name, actor.timezone, now, team_id
            )
            if team_id is not None:
                role, added = await repo.ensure_membership(session, team_id, member_id, now)
                became_lead = added and role == repo.LEAD
            await repo.save_conversation(
                session,
                ws,
                conv.conversation_id,
                conv.kind.value,
                conv.name,
                member_id if conv.kind == ConversationKind.DIRECT else None,
                conv.platform_data,
                now,
            )
            member = await repo.get_member(session, member_id)
            assert member is not None
            if team_id is None and member.last_team_id is not None:
                team_id = member.last_team_id
                role = await repo.role_in(session, team_id, member_id)
            team = await repo.get_team(session, team_id) if team_id is not None else None
        return Resolved(member, team, role, became_lead)

    async def sync_roster(self, team: Team, people: Sequence[MemberRef]) -> int:
        """Record everyone the platform lists in a team's channel; returns how many there are.

        A few hundred people per write transaction, each a handful of statements for them all.
        One transaction per person for a whole district's channel (5,000 people) held the
        event loop for over 3 seconds on SQLite, whose writes run on the loop's thread: every
        other request waited, past Slack's 3 seconds. Between groups, other work goes first.
        """
        now = self.clock.now()
        for start in range(0, len(people), ROSTER_GROUP):
            group = people[start : start + ROSTER_GROUP]
            async with self.db.write() as session:
                ids = await repo.ensure_members(
                    session,
                    team.workspace_id,
                    [repo.Person(r.user_id, r.display_name, r.timezone) for r in group],
                    now,
                )
                await repo.ensure_memberships(session, team.id, list(ids.values()), now)
            await asyncio.sleep(0)
        self.forget_team(team.id)
        return len(people)
