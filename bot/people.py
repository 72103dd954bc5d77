"""Turning ``@name`` in a command into team members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.events import MemberRef
from bot.parsing import find_mention, normalise_name
from bot.turn import Turn
from storage import identity as repo
from storage.identity import Member, Team


@dataclass(frozen=True, slots=True)
class Named:
    """Someone a command names, found without writing anything.

    A person the platform resolved (``ref``) may not be in the team yet; :func:`admit` adds
    them inside the transaction that stores whatever named them, so a command refused after
    the names were read leaves nobody added. ``member`` is set for someone found by name among
    the team's members (nothing to add); ``ref`` for someone the platform resolved.
    """

    workspace_id: int
    user_id: str
    display_name: str
    ref: MemberRef | None = None
    member: Member | None = None

    def is_member(self, member: Member) -> bool:
        return self.workspace_id == member.workspace_id and self.user_id == member.user_id


async def find_person(turn: Turn, token: str, team: Team) -> Named:
    """The person ``token`` (``@maria``) names: one the platform resolved, else by team name."""
    ref = find_mention(token, getattr(turn.event, "mentions", ()))
    if ref is not None:
        return Named(team.workspace_id, ref.user_id, ref.display_name, ref)
    async with turn.core.db.read() as session:
        wanted = normalise_name(token)
        matches = [
            tm.member
            for tm in await repo.team_members(session, team.id)
            if wanted in (normalise_name(tm.member.display_name), normalise_name(tm.member.user_id))
        ]
    if len(matches) == 1:
        m = matches[0]
        return Named(m.workspace_id, m.user_id, m.display_name, None, m)
    name = token if token.startswith("@") else "@" + token
    if matches:
        raise UserError(
            f"More than one person in this team is called {name}; please @mention them."
        )
    raise UserError(
        f"I don't know {name} in this team yet. @mention them so the chat app tells me who they "
        "are, or ask them to say hello to me here first."
    )


async def find_people(turn: Turn, tokens: Sequence[str], team: Team) -> list[Named]:
    found: list[Named] = []
    for token in tokens:
        named = await find_person(turn, token, team)
        if all(n.user_id != named.user_id for n in found):
            found.append(named)
    return found


async def admit(session: AsyncSession, team: Team, named: Named, now: datetime) -> Member:
    """The member ``named`` is, added to ``team`` in the caller's transaction if need be.

    A member the platform resolved but who never spoke to the bot is added to the team, since
    being mentioned in the team's channel is as good an introduction as any.
    """
    if named.member is not None:
        return named.member
    ref = named.ref
    assert ref is not None
    member_id = await repo.ensure_member(
        session, team.workspace_id, ref.user_id, ref.display_name, ref.timezone, now
    )
    await repo.ensure_membership(session, team.id, member_id, now, may_lead=False)
    member = await repo.get_member(session, member_id)
    assert member is not None
    return member


async def admit_all(
    session: AsyncSession, team: Team, people: Sequence[Named], now: datetime
) -> list[Member]:
    return [
        await admit(session, team, named, now) for named in people
    ]  # find_people left no repeats


async def resolve_person(turn: Turn, token: str, team: Team) -> Member:
    """:func:`find_person`, and :func:`admit` in a transaction of its own.

    For commands whose only write is this one; a command that stores more admits the people
    it names in its own transaction instead.
    """
    named = await find_person(turn, token, team)
    if named.member is not None:  # in the team already: nothing to write
        return named.member
    async with turn.core.db.write() as session:
        return await admit(session, team, named, turn.now)
