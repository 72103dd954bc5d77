"""Turning what someone typed (a command or a form) into a checked plan or set of changes.

Everything is read and checked before anything is written, so a bad date or an unknown peer
leaves nothing half-stored. Peers are only found here; the service adds the ones new to the
team in the same transaction as the commitment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date

from bot.commitment.dates import EXAMPLES, DateQuestion, UnreadableDate, parse_due
from bot.commitment.forms import KNOW_LIMIT, LINK_LIMIT, NOTE_LIMIT, WHAT_LIMIT
from bot.commitment.grammar import DATE_WORDS, CommitText, parse_commit_text
from bot.errors import UserError
from bot.indicators import parse_codes
from bot.parsing import clean_text
from bot.people import Named, find_people
from bot.turn import Turn
from storage.commitments import PRIVATE, SHARED
from storage.identity import Member, Team

MAX_PEERS = 5


@dataclass(frozen=True, slots=True)
class Plan:
    team: Team
    owner: Member
    what: str
    due_on: date
    how_know: str | None
    peers: tuple[Named, ...]
    indicators: tuple[str, ...]
    visibility: str
    session_id: int | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    what: str | None = None
    due_on: date | None = None
    how_know: str | None = None
    peers: tuple[Named, ...] | None = None
    indicators: tuple[str, ...] | None = None
    visibility: str | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def today_for(turn: Turn, team: Team) -> date:
    return turn.now.astimezone(turn.core.zone_for(turn.member, team)).date()


def read_what(raw: str) -> str:
    if not any(ch.isalnum() for ch in raw):
        raise UserError(
            "What will you do? Write it after /commit, for example: "
            "/commit Try exit tickets in period 3 by Friday with @ben"
        )
    # A commitment reads as a phrase inside other sentences ("Ben committed to: ... (by Fri)"),
    # so a closing full stop is dropped; "?" and "!" say something and stay.
    return clean_text(raw, limit=WHAT_LIMIT, what="commitment").rstrip(" .")


def read_due(raw: str | None, today: date) -> date:
    if raw is None or not raw.strip():
        raise DateQuestion(
            f"By when? Add 'by' and a date at the end, for example {EXAMPLES}. "
            "(Or type /commitments new for a form with a date picker.)"
        )
    return parse_due(raw, today)


def read_know(raw: str | None) -> str | None:
    if raw is None:
        return None
    return clean_text(raw, limit=KNOW_LIMIT, what="'how I'll know'", allow_empty=True) or None


def read_note(raw: str) -> str:
    return clean_text(raw, limit=NOTE_LIMIT, what="note")


def read_link(raw: str) -> str | None:
    link = clean_text(raw, limit=LINK_LIMIT, what="link", allow_empty=True)
    if not link:
        return None
    if not re.fullmatch(r"https?://\S+", link):
        raise UserError(
            "An evidence link should be a web address starting with https:// "
            "(a shared document, a photo album, a slide)."
        )
    return link


def read_indicators(raw: str | None) -> tuple[str, ...]:
    try:
        return parse_codes(raw or "")
    except ValueError as exc:
        raise UserError(
            f"{exc} isn't one of the standard's indicators. The codes are A1-A5, B1-B4 and "
            "C1-C5 (or A, B, C for a whole element)."
        ) from None


def read_visibility(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    if not value:
        return None
    if value not in (SHARED, PRIVATE):
        raise UserError("Choose who can see it: shared (the team) or private (you and peers).")
    return value


def peer_tokens(raw: str) -> list[str]:
    """``"@ben, @Maria Lopez and carla"`` -> ``["@ben", "@Maria Lopez", "@carla"]``."""
    parts = re.split(r"[,;@]|\band\b|&", raw)
    return ["@" + p.strip() for p in parts if p.strip()]


async def read_peers(
    turn: Turn, team: Team, tokens: Sequence[str], owner: Member
) -> tuple[Named, ...]:
    if len(tokens) > MAX_PEERS:
        raise UserError(f"Name up to {MAX_PEERS} peers; a few people who will really check in.")
    people = await find_people(turn, tokens, team)
    if any(p.is_member(owner) for p in people):
        raise UserError(
            "You can't be your own accountability partner; name a colleague who will check in."
        )
    return tuple(people)


def mentioned_names(turn: Turn) -> list[str]:
    names: list[str] = []
    for ref in getattr(turn.event, "mentions", ()):
        names += [ref.display_name, ref.user_id]
    return names


def parse_text(turn: Turn, raw: str) -> CommitText:
    return parse_commit_text(raw, mentioned_names(turn))


async def plan_from_text(
    turn: Turn,
    team: Team,
    parts: CommitText,
    *,
    session_id: int | None = None,
    default_due: date | None = None,
    default_indicators: tuple[str, ...] = (),
) -> Plan:
    what = read_what(parts.what)
    today = today_for(turn, team)
    due = default_due if parts.due_text is None and default_due else None
    try:
        due = due or read_due(parts.due_text, today)
    except UnreadableDate as exc:
        raise DateQuestion(
            f"{exc} (If 'by {parts.due_text}' is part of what you'll do, put the date at the "
            f"very end: ... by {parts.due_text} by Friday.)"
        ) from None
    know = read_know(parts.how_know)
    peers = await read_peers(turn, team, parts.peers, turn.member)
    return Plan(
        team=team,
        owner=turn.member,
        what=what,
        due_on=due,
        how_know=know,
        peers=peers,
        indicators=parts.indicators or default_indicators,
        visibility=parts.visibility or SHARED,
        session_id=session_id,
    )


async def plan_from_form(
    turn: Turn, team: Team, form: Mapping[str, str], *, session_id: int | None = None
) -> Plan:
    what = read_what(form.get("what", ""))
    due = read_due(form.get("due"), today_for(turn, team))
    indicators = read_indicators(form.get("indicators"))
    know = read_know(form.get("know"))
    visibility = read_visibility(form.get("visibility")) or SHARED
    peers = await read_peers(turn, team, peer_tokens(form.get("peers", "")), turn.member)
    return Plan(
        team=team,
        owner=turn.member,
        what=what,
        due_on=due,
        how_know=know,
        peers=peers,
        indicators=indicators,
        visibility=visibility,
        session_id=session_id,
    )


def _bare_keyword(what: str) -> None:
    """``edit 12 by`` is a date still to come, not a new name for the commitment."""
    word = " ".join(what.lower().split())
    if word in DATE_WORDS:
        raise DateQuestion(
            f"By when? Write the new date after '{word}', for example: by next Friday "
            f"(or {EXAMPLES})."
        )
    if word == "with":
        raise UserError("With whom? @mention the peers after 'with', for example: with @ben.")


async def changes_from_text(turn: Turn, team: Team, raw: str) -> Changes:
    parts = parse_text(turn, raw)
    _bare_keyword(parts.what)
    today = today_for(turn, team)
    what = read_what(parts.what) if parts.what else None
    due_on = parse_due(parts.due_text, today) if parts.due_text else None
    know = read_know(parts.how_know)
    return Changes(
        what=what,
        due_on=due_on,
        how_know=know,
        peers=await read_peers(turn, team, parts.peers, turn.member) if parts.peers else None,
        indicators=parts.indicators or None,
        visibility=parts.visibility,
    )


async def changes_from_form(turn: Turn, team: Team, form: Mapping[str, str]) -> Changes:
    """A submitted edit form holds every field; an emptied optional field clears it."""
    today = today_for(turn, team)
    return Changes(
        what=read_what(form["what"]) if "what" in form else None,
        due_on=read_due(form["due"], today) if "due" in form else None,
        how_know=(read_know(form["know"]) or "") if "know" in form else None,
        peers=(
            await read_peers(turn, team, peer_tokens(form["peers"]), turn.member)
            if "peers" in form
            else None
        ),
        indicators=read_indicators(form["indicators"]) if "indicators" in form else None,
        visibility=read_visibility(form.get("visibility")),
    )
