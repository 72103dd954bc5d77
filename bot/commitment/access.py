"""Who may see or change which commitment, and finding one by the number people type.

The rules: members see their own and their team's shared commitments; a private one is seen
only by its owner and the peers it names; only the owner changes it; owner and peers write to
each other about it. Numbers are per team, so "#12" is looked up in the channel's team, or in a
1:1 chat across the member's teams. An answer never reveals a private commitment: someone else's
private number reads exactly like a number that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import NotAllowed, UserError
from bot.parsing import first_word
from bot.turn import Turn
from storage import commitments as repo
from storage import identity
from storage.commitments import Commitment
from storage.identity import Team

LIST_HINT = "Type /commitments to see yours, or /commitments team for the team's."


@dataclass(frozen=True, slots=True)
class Found:
    commitment: Commitment
    team: Team
    rest: str  # what followed the number


def read_number(word: str, usage: str) -> int:
    cleaned = word.strip().lstrip("#")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise UserError(f"Say which commitment by its number: {usage}. {LIST_HINT}")
    return int(cleaned)


async def my_team_ids(turn: Turn, *, everywhere: bool = False) -> list[int]:
    """The channel's team, or (in a 1:1 chat, or ``everywhere``) all the member's teams."""
    if turn.in_channel and turn.team is not None and not everywhere:
        return [turn.team.id] if turn.role is not None else []
    async with turn.core.db.read() as session:
        return [team.id for team, _role in await identity.teams_of(session, turn.member.id)]


async def _candidates(turn: Turn, number: int) -> list[Commitment]:
    team_ids = await my_team_ids(turn)
    async with turn.core.db.read() as session:
        return await repo.by_number(session, team_ids, number)


async def _team(turn: Turn, team_id: int) -> Team:
    if turn.team is not None and turn.team.id == team_id:
        return turn.team
    async with turn.core.db.read() as session:
        team = await identity.get_team(session, team_id)
    if team is None:
        raise UserError("That team no longer exists.")
    return team


def _one(found: list[Commitment], number: int) -> Commitment:
    if len(found) > 1:
        raise UserError(
            f"There is a #{number} in more than one of your teams. Use the command in the "
            "team's channel so I know which one you mean."
        )
    return found[0]


async def own(turn: Turn, args: str, *, doing: str, usage: str) -> Found:
    """The actor's own commitment named by the first word of ``args``."""
    word, rest = first_word(args)
    number = read_number(word, usage)
    candidates = await _candidates(turn, number)
    me = turn.member.id
    mine = [c for c in candidates if c.is_owner(me)]
    if mine:
        c = _one(mine, number)
        return Found(c, await _team(turn, c.team_id), rest)
    seen = [c for c in candidates if c.visible_to(me)]
    if seen:
        c = seen[0]
        hint = (
            f" As their peer you can write to them with /commitments reply {number} TEXT."
            if c.is_peer(me)
            else ""
        )
        raise NotAllowed(
            f"#{number} is {c.owner.name}'s commitment, so only {c.owner.name} can {doing}."
            f"{hint} {LIST_HINT}"
        )
    raise UserError(f"You have no commitment #{number} here. {LIST_HINT}")


async def visible(turn: Turn, args: str, *, usage: str) -> Found:
    """A commitment the actor may see, named by the first word of ``args``."""
    word, rest = first_word(args)
    number = read_number(word, usage)
    me = turn.member.id
    seen = [c for c in await _candidates(turn, number) if c.visible_to(me)]
    if not seen:
        raise UserError(f"I can't find a commitment #{number} that you can see. {LIST_HINT}")
    mine = [c for c in seen if c.is_owner(me)] or seen
    c = _one(mine, number)
    return Found(c, await _team(turn, c.team_id), rest)


async def by_id(turn: Turn, raw_id: str, *, need: str) -> tuple[Commitment, Team]:
    """The commitment a button or form names, if the actor may use it.

    ``need`` is ``owner`` (change it), ``party`` (owner or a peer: write about it), or ``see``.
    """
    try:
        commitment_id = int(raw_id.split(":", 1)[0])
    except ValueError:
        raise UserError("That button is out of date; type /commitments to start again.") from None
    me = turn.member.id
    async with turn.core.db.read() as session:
        c = await repo.get(session, commitment_id)
        member_of = c is not None and await identity.role_in(session, c.team_id, me) is not None
    if c is None:
        raise UserError("That commitment no longer exists.")
    allowed = {
        "owner": c.is_owner(me),
        "party": c.is_owner(me) or c.is_peer(me),
        "see": c.is_owner(me) or c.is_peer(me) or (member_of and c.visible_to(me)),
    }[need]
    if not allowed:
        if need == "owner" and c.visible_to(me) and member_of:
            raise NotAllowed(f"Only {c.owner.name} can change {c.ref}.")
        raise NotAllowed("That isn't yours to act on. " + LIST_HINT)
    return c, await _team(turn, c.team_id)
