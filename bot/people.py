"""Turning ``@name`` in a command into team members."""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import UserError
from bot.parsing import find_mention, normalise_name
from bot.turn import Turn
from storage import identity as repo
from storage.identity import Member, Team


async def resolve_person(turn: Turn, token: str, team: Team) -> Member:
    """The member ``token`` (``@maria``) names: one the platform resolved, else by team name.

    A member the platform resolved but who never spoke to the bot is added to the team, since
    being mentioned in the team's channel is as good an introduction as any.
    """
    mentions = getattr(turn.event, "mentions", ())
    ref = find_mention(token, mentions)
    now = turn.now
    async with turn.core.db.write() as session:
        if ref is not None:
            member_id = await repo.ensure_member(
                session, team.workspace_id, ref.user_id, ref.display_name, ref.timezone, now
            )
            await repo.ensure_membership(session, team.id, member_id, now, may_lead=False)
            member = await repo.get_member(session, member_id)
            assert member is not None
            return member
        wanted = normalise_name(token)
        matches = [
            tm.member
            for tm in await repo.team_members(session, team.id)
            if wanted in (normalise_name(tm.member.display_name), normalise_name(tm.member.user_id))
        ]
    if len(matches) == 1:
        return matches[0]
    name = token if token.startswith("@") else "@" + token
    if matches:
        raise UserError(
            f"More than one person in this team is called {name}; please @mention them."
        )
    raise UserError(
        f"I don't know {name} in this team yet. @mention them so the chat app tells me who they "
        "are, or ask them to say hello to me here first."
    )


async def resolve_people(turn: Turn, tokens: Sequence[str], team: Team) -> list[Member]:
    found: list[Member] = []
    for token in tokens:
        member = await resolve_person(turn, token, team)
        if all(m.id != member.id for m in found):
            found.append(member)
    return found
