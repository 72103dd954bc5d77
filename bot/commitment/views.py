"""How commitments read in chat: one-line items, a full card, the team note, home sections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.indicators import label
from bot.messages import (
    Block,
    Field,
    Fields,
    Inline,
    Link,
    ListBlock,
    ListItem,
    Mention,
    OutMessage,
    Section,
    Text,
    text,
)
from bot.timefmt import day, when
from storage.commitments import (
    DONE,
    DROPPED,
    NOT_YET,
    OPEN,
    PARTLY,
    PRIVATE,
    Commitment,
    HistoryEntry,
    Person,
)

STATUS_LABELS = {
    OPEN: "open",
    DONE: "done",
    PARTLY: "partly",
    NOT_YET: "not yet",
    DROPPED: "dropped",
}


def mention(person: Person) -> Mention:
    return Mention(person.user_id, person.name)


def peers_text(c: Commitment) -> Text:
    parts: list[Inline] = []
    for i, peer in enumerate(c.peers):
        if i:
            parts.append(" and " if i == len(c.peers) - 1 else ", ")
        parts.append(mention(peer))
    return tuple(parts)


def marker(c: Commitment, today: date) -> str:
    if not c.active:
        return STATUS_LABELS[c.status]
    if c.due_on < today:
        return "overdue"
    if c.due_on == today:
        return "due today"
    return STATUS_LABELS[c.status]


def item(
    c: Commitment,
    today: date,
    *,
    show_owner: bool = True,
    team_name: str | None = None,
    show_marker: bool = True,
) -> ListItem:
    """``#12 @Ana: Try exit tickets (due Fri 27 Nov, with @Ben)``."""
    parts: list[Inline] = [c.ref, " "]
    if team_name:
        parts.append(f"[{team_name}] ")
    if show_owner:
        parts += [mention(c.owner), ": "]
    parts.append(c.what)
    parts.append(f" (due {day(c.due_on, today)}")
    if c.peers:
        parts += [", with ", *peers_text(c)]
    if c.visibility == PRIVATE:
        parts.append(", private")
    parts.append(")")
    return ListItem(tuple(parts), marker(c, today) if show_marker else None)


def items(
    commitments: Sequence[Commitment],
    today: date,
    heading: str,
    *,
    show_owner: bool = True,
    team_names: Mapping[int, str] | None = None,
    empty: str = "(none)",
) -> ListBlock:
    names = team_names or {}
    return ListBlock(
        tuple(
            item(c, today, show_owner=show_owner, team_name=names.get(c.team_id))
            for c in commitments
        ),
        heading=heading,
        empty_text=empty,
    )


def team_note(c: Commitment, today: date) -> OutMessage:
    """The short note in the team's channel when a shared commitment is made."""
    body: list[Inline] = [
        mention(c.owner),
        " committed to: ",
        c.what,
        f" (by {day(c.due_on, today)}",
    ]
    if c.peers:
        body += [", with ", *peers_text(c), " checking in"]
    body.append(f"). That's {c.ref}.")
    blocks: list[Block] = [Section(tuple(body))]
    if c.indicators:
        blocks.append(Section(text("Indicators: " + ", ".join(c.indicators))))
    return OutMessage(blocks=tuple(blocks))


def created_reply(
    c: Commitment, today: date, team_name: str | None, *, teams: int = 1
) -> OutMessage:
    """``teams``: how many teams the owner is in, when they made it in a private chat, where
    the team is the one they used last; with more than one they are told how to pick."""
    where = f" for {team_name}" if team_name else ""
    lines: list[Block] = [
        Section(
            text(
                f"Saved as {c.ref}{where}: ",
                c.what,
                f", due {full_day(c.due_on, today)}.",
            )
        )
    ]
    if team_name and teams > 1:
        lines.append(
            Section(
                text(
                    f"You're in {teams} teams and {team_name} is the one you used last. For "
                    "another team, type /commit in that team's channel (and /commitments drop "
                    f"{c.number} here if this one was meant for it)."
                )
            )
        )
    if c.visibility == PRIVATE:
        lines.append(Section(text("It's private: only you and the peers you named can see it.")))
    lines.append(
        Section(
            text(
                "I'll remind you the day before and ask how it went on the day. "
                f"Change it with /commitments edit {c.number}."
            )
        )
    )
    return OutMessage(blocks=tuple(lines))


def card(
    c: Commitment,
    today: date,
    zone: ZoneInfo,
    history: Sequence[HistoryEntry],
    *,
    viewer_id: int,
    team_name: str | None = None,
) -> OutMessage:
    fields = [
        Field("Owner", text(mention(c.owner))),
        Field("Due", text(day(c.due_on, today))),
        Field("Status", text(marker(c, today))),
        Field("Visibility", text("private" if c.visibility == PRIVATE else "shared with the team")),
    ]
    if c.peers:
        fields.append(Field("Peers", peers_text(c)))
    if c.indicators:
        fields.append(Field("Indicators", text(", ".join(label(code) for code in c.indicators))))
    blocks: list[Block] = [Fields(tuple(fields))]
    if c.how_know:
        blocks.append(Section(text(c.how_know), heading="How I'll know"))
    outcome = c.outcome_visible_to(viewer_id)  # the owner shares it when they are ready
    if c.outcome_note and outcome:
        blocks.append(Section(text(c.outcome_note), heading="What happened"))
    if c.evidence_url and outcome:
        blocks.append(Section(text(Link(c.evidence_url, "Evidence")), heading="Evidence"))
    private_talk = c.is_owner(viewer_id) or c.is_peer(viewer_id)
    blocks.append(
        ListBlock(
            tuple(
                ListItem(history_line(entry, zone, show_words=private_talk)) for entry in history
            ),
            heading="History",
        )
    )
    footer = f"From protocol session {c.session_id}." if c.session_id else None
    title = f"{c.ref} {c.what}"
    if team_name:
        title += f" ({team_name})"
    return OutMessage(title=title[:150], blocks=tuple(blocks), footer=footer)


def history_line(entry: HistoryEntry, zone: ZoneInfo, *, show_words: bool) -> Text:
    stamp = when(entry.at, zone)
    who = entry.actor or "plcbot"
    d = entry.detail
    if entry.kind == "created":
        what = "made it" + (f" in protocol session {d['session']}" if d.get("session") else "")
    elif entry.kind == "status":
        what = f"marked it {STATUS_LABELS.get(str(d.get('to')), d.get('to'))}"
        if d.get("note") and show_words:
            what += f": {d['note']}"
    elif entry.kind == "edited":
        what = "changed " + ", ".join(sorted(d.get("changes", {})))
    elif entry.kind == "note":
        what = "added a note" + (f": {d.get('note')}" if show_words else "")
    elif entry.kind == "link":
        what = "added an evidence link"
    elif entry.kind == "asked":
        what = "asked the peers to check in"
    elif entry.kind == "shared":
        what = "shared the outcome with the team"
    elif entry.kind == "message":
        what = f"wrote to {d.get('to', 'the peers')}" + (f": {d.get('text')}" if show_words else "")
    else:
        what = entry.kind
    return text(f"{stamp} ", who, " ", what)


def full_day(value: date, today: date) -> str:
    """``tomorrow (Tue 24 Nov)``: relative words alone can be misread near midnight."""
    relative = day(value, today)
    if relative in ("today", "tomorrow", "yesterday"):
        return f"{relative} ({day(value)})"
    return relative


def commitment_line(c: Commitment, today: date) -> Text:
    return text(f"{c.ref} ", c.what, f" (due {day(c.due_on, today)})")
