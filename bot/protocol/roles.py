"""Sharing the roles around (shared leadership): who might take which role this time.

A suggestion, never an assignment: the bot names people who did not hold a role last time,
and whoever agrees takes it with ``/protocol role``.
"""

from __future__ import annotations

from bot.messages import Inline, Mention, Text, text
from bot.protocol.texts import ROLE_LABELS
from protocols.schema import Protocol, Role
from protocols.state import State

SUGGESTED = (Role.TIMEKEEPER, Role.NOTE_TAKER)
VERBS = {
    Role.FACILITATOR: "facilitated",
    Role.PRESENTER: "presented",
    Role.TIMEKEEPER: "kept time",
    Role.NOTE_TAKER: "took notes",
}


def last_time(previous: State | None) -> Text | None:
    if previous is None:
        return None
    said = [
        f"{previous.name_of(getattr(previous, role.value))} {VERBS[role]}"
        for role in Role
        if getattr(previous, role.value) is not None
    ]
    return text("Last time, " + ", ".join(said) + ".") if said else None


def suggestions(definition: Protocol, state: State, previous: State | None) -> list[Text]:
    """Lines suggesting who could take the open roles, favouring people who had none last time."""
    held_now = {getattr(state, role.value) for role in Role} - {None}
    held_before = {getattr(previous, role.value) for role in Role} - {None} if previous else set()
    free = [p for p in state.people if p.id not in held_now]
    free.sort(key=lambda p: p.id in held_before)  # stable: people with no role last time first
    lines: list[Text] = []
    offers: list[Inline] = []
    for role in SUGGESTED:
        if role not in definition.roles or getattr(state, role.value) is not None or not free:
            continue
        person = free.pop(0)
        if offers:
            offers.append(" and ")
        offers += [Mention(person.user_id, person.name), f" as {ROLE_LABELS[role]}"]
    if offers:
        lines.append(
            text(
                "To share the roles, how about ",
                *offers,
                "? Take one with /protocol role timekeeper @name.",
            )
        )
    others = [p for p in state.people if p.id != state.facilitator]
    others.sort(key=lambda p: p.id in held_before)
    if previous is not None and previous.facilitator == state.facilitator and others:
        nxt = others[0]
        lines.append(
            text(
                f"{state.name_of(state.facilitator)} facilitated last time too. Next time, maybe ",
                Mention(nxt.user_id, nxt.name),
                " could lead (/protocol role facilitator @name hands over, even mid-session).",
            )
        )
    return lines
