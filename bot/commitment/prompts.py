"""What the follow-up says: the reminder, "How did it go?", the peer check-in, notes between
peers, and an outcome shared with the team. Warm and short: people read these between classes.
"""

from __future__ import annotations

from datetime import date

from bot.commitment import forms
from bot.commitment.views import STATUS_LABELS, commitment_line, mention
from bot.messages import Block, Button, Inline, Link, OutMessage, Section, text
from bot.timefmt import day
from storage.commitments import (
    DONE,
    DROPPED,
    NOT_YET,
    OPEN,
    PARTLY,
    PRIVATE,
    Commitment,
    Person,
)

OUTCOME = "commit.outcome"
EDIT = "commit.edit"
ADD_NOTE = "commit.addnote"
SHARE = "commit.share"
CHEER = "commit.cheer"
WRITE = "commit.write"

CHEER_TEXT = "Cheering you on! Thanks for trying this with your students."


def outcome_buttons(c: Commitment) -> tuple[Button, ...]:
    return (
        Button("Done", OUTCOME, f"{c.id}:{DONE}", "primary"),
        Button("Partly", OUTCOME, f"{c.id}:{PARTLY}"),
        Button("Not yet", OUTCOME, f"{c.id}:{NOT_YET}"),
        Button(
            "Drop it",
            OUTCOME,
            f"{c.id}:{DROPPED}",
            "danger",
            confirm="Drop this commitment? It stays in your history as dropped.",
        ),
    )


def reminder(c: Commitment, today: date) -> OutMessage:
    blocks: list[Block] = [
        Section(text("A friendly reminder: ", *commitment_line(c, today), ".")),
    ]
    if c.how_know:
        blocks.append(Section(text(c.how_know), heading="How you said you'd know"))
    return OutMessage(
        title=f"Coming up: {c.ref}",
        blocks=tuple(blocks),
        buttons=(
            Button("Already done", OUTCOME, f"{c.id}:{DONE}", "primary"),
            Button("Change the date", EDIT, str(c.id)),
        ),
        footer=f"Or type /commitments done {c.number} or /commitments edit {c.number} by DATE.",
    )


def check_in(c: Commitment, today: date) -> OutMessage:
    blocks: list[Block] = [Section(text(*commitment_line(c, today)))]
    if c.how_know:
        blocks.append(Section(text(c.how_know), heading="How you said you'd know"))
    blocks.append(
        Section(
            text("Whatever happened, it's worth knowing. One tap records it; add a note after.")
        )
    )
    return OutMessage(
        title="How did it go?",
        blocks=tuple(blocks),
        buttons=outcome_buttons(c),
        footer=(f"Or type /commitments done {c.number} NOTE (or partly, not-yet, drop)."),
    )


def recorded(c: Commitment, today: date, *, asking_peers: bool) -> OutMessage:
    """The owner's answer after reporting an outcome: what next, in one message."""
    status = c.status
    if status == DROPPED:
        return OutMessage(
            blocks=(
                Section(
                    text(
                        f"Dropped {c.ref}. Plans change; it stays in your history. "
                        "Make a new one any time with /commit."
                    )
                ),
            )
        )
    lead = {
        DONE: "Well done! Recorded as done.",
        PARTLY: "Recorded as partly done. Part of the way is still learning.",
        NOT_YET: "Recorded as not yet. That's useful to know too.",
    }[status]
    blocks: list[Block] = [Section(text(lead, " ", *commitment_line(c, today)))]
    buttons = [Button("Add a note", ADD_NOTE, str(c.id), "primary")]
    if status == NOT_YET:
        blocks.append(Section(text("Want another go? Set a new date and I'll follow up again.")))
        buttons.append(Button("Set a new date", EDIT, str(c.id)))
    if c.outcome_shared_at is None:
        buttons.append(
            Button(
                "Share with the team",
                SHARE,
                str(c.id),
                confirm="Post what happened in the team's channel?",
            )
        )
    if asking_peers:
        blocks.append(Section(text("I'll let ", *_names(c.peers), " know, so they can check in.")))
    return OutMessage(
        blocks=tuple(blocks),
        buttons=tuple(buttons),
        footer=(
            f"/commitments note {c.number} TEXT adds what happened for students; "
            f"/commitments share {c.number} posts it for the team."
        ),
    )


def _names(people: tuple[Person, ...]) -> list[Inline]:
    parts: list[Inline] = []
    for i, person in enumerate(people):
        if i:
            parts.append(" and " if i == len(people) - 1 else ", ")
        parts.append(mention(person))
    return parts


def peer_request(c: Commitment, today: date, *, reported: str | None) -> OutMessage:
    """Asks a peer to check in: after the owner reported ``reported``, or after silence (None)."""
    owner = mention(c.owner)
    if reported is not None:
        body: list[Inline] = [
            owner,
            f" reported on {c.ref}: ",
            c.what,
            f". Outcome: {STATUS_LABELS[reported]}.",
        ]
        if c.status == OPEN:
            body.append(f" New date: {day(c.due_on, today)}.")
        if c.outcome_note:
            body += [" What happened: ", c.outcome_note]
    else:
        body = [
            owner,
            f"'s commitment {c.ref} (",
            c.what,
            f") was due {day(c.due_on, today)} and I haven't heard how it went yet.",
        ]
    return OutMessage(
        title=f"A check-in for {c.owner.name}",
        blocks=(
            Section(tuple(body)),
            Section(
                text(
                    "You're their accountability partner: a word of encouragement or a "
                    "question goes a long way."
                )
            ),
        ),
        buttons=(Button("Send a cheer", CHEER, str(c.id), "primary"),),
        form=forms.reply_form(c, c.owner.name),
    )


def note_from(c: Commitment, sender: Person, words: str, *, reply_to: str) -> OutMessage:
    return OutMessage(
        title=f"A note from {sender.name} about {c.ref}",
        blocks=(
            Section(text(mention(sender), " wrote: ", words)),
            Section(text("About: ", c.what)),
        ),
        form=forms.reply_form(c, reply_to),
    )


def shared_outcome(c: Commitment, today: date) -> OutMessage:
    body: list[Inline] = [
        mention(c.owner),
        " tried: ",
        c.what,
        f". Outcome: {STATUS_LABELS[c.status]}.",
    ]
    blocks: list[Block] = [Section(tuple(body))]
    if c.outcome_note:
        blocks.append(Section(text(c.outcome_note), heading="What happened"))
    if c.evidence_url:
        blocks.append(Section(text(Link(c.evidence_url, "See the evidence"))))
    return OutMessage(
        title="Results shared with the team",
        blocks=tuple(blocks),
        footer=f"Ask about it with /commitments reply {c.number} TEXT, or search past "
        "outcomes with /commitments search WORDS.",
    )


def named_as_peer(c: Commitment, today: date) -> OutMessage:
    kind = "a private commitment" if c.visibility == PRIVATE else "a commitment"
    return OutMessage(
        blocks=(
            Section(
                text(
                    mention(c.owner),
                    f" named you as an accountability partner for {kind}: ",
                    *commitment_line(c, today),
                    ". I'll ask you to check in once they report how it went.",
                )
            ),
        )
    )
