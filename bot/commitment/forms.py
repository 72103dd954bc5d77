"""The forms: make or edit a commitment, report an outcome, write to a peer, confirm a draft.

Slack shows them as modals, Teams as card inputs; each names the command that does the same
thing (``text_command``) for text-only surfaces. Values carry database ids, never trust: every
handler checks who may use them.
"""

from __future__ import annotations

from datetime import date

from bot.commitment.grammar import CommitText
from bot.messages import Choice, Form, Input
from storage.commitments import PRIVATE, SHARED, Commitment

WHAT_LIMIT = 400
KNOW_LIMIT = 400
NOTE_LIMIT = 2000
MESSAGE_LIMIT = 1000
LINK_LIMIT = 500

CREATE = "commit.create"
UPDATE = "commit.update"
OUTCOME_NOTE = "commit.note"
NEW_DATE = "commit.redate"
REPLY = "commit.reply"
DRAFT = "commit.draft"

VISIBILITY = (
    Choice(SHARED, "Shared with the team"),
    Choice(PRIVATE, "Private (me and my peers)"),
)


def _inputs(
    *,
    what: str | None = None,
    due: date | None = None,
    know: str | None = None,
    peers: str | None = None,
    visibility: str = SHARED,
    indicators: str | None = None,
) -> tuple[Input, ...]:
    return (
        Input(
            "what",
            "What will you do?",
            "multiline",
            initial=what,
            placeholder="Try exit tickets in period 3",
            max_length=WHAT_LIMIT,
        ),
        Input("due", "By when?", "date", initial=due.isoformat() if due else None),
        Input(
            "know",
            "How will you know it worked?",
            "multiline",
            initial=know,
            placeholder="Most tickets show the key idea",
            optional=True,
            max_length=KNOW_LIMIT,
        ),
        Input(
            "peers",
            "Who will check in with you?",
            initial=peers,
            placeholder="@ben @carla",
            optional=True,
        ),
        Input("visibility", "Who can see it?", "choice", VISIBILITY, initial=visibility),
        Input(
            "indicators",
            "Indicators (optional)",
            initial=indicators,
            placeholder="B3, A5",
            optional=True,
        ),
    )


def create_form(team_id: int, due: date | None = None, typed: CommitText | None = None) -> Form:
    """``typed``: what a /commit already said, when the form is its question back (a date
    plcbot won't guess), so only the date is left to pick."""
    typed = typed or CommitText("")
    inputs = _inputs(
        what=typed.what or None,
        due=due,
        know=typed.how_know,
        peers=" ".join(typed.peers) or None,
        visibility=typed.visibility or SHARED,
        indicators=", ".join(typed.indicators) or None,
    )
    return Form(
        CREATE,
        "New commitment",
        inputs,
        value=str(team_id),
        submit_label="Commit",
        text_command="/commit TEXT by DATE [with @peer ...] [#B3] [#private] [know: HOW]",
    )


def edit_form(c: Commitment) -> Form:
    return Form(
        UPDATE,
        f"Edit {c.ref}",
        _inputs(
            what=c.what,
            due=c.due_on,
            know=c.how_know,
            peers=" ".join("@" + p.name for p in c.peers),
            visibility=c.visibility,
            indicators=", ".join(c.indicators),
        ),
        value=str(c.id),
        submit_label="Save",
        text_command=(
            f"/commitments edit {c.number} [TEXT] [by DATE] [with @peer ...] [#B3] "
            "[#private|#shared] [know: HOW]"
        ),
    )


def outcome_form(c: Commitment) -> Form:
    return Form(
        OUTCOME_NOTE,
        f"What happened? ({c.ref})",
        (
            Input(
                "note",
                "What happened for students?",
                "multiline",
                initial=c.outcome_note,
                max_length=NOTE_LIMIT,
            ),
            Input(
                "link",
                "Link to evidence (optional)",
                initial=c.evidence_url,
                placeholder="https://...",
                optional=True,
                max_length=LINK_LIMIT,
            ),
        ),
        value=str(c.id),
        submit_label="Save",
        text_command=f"/commitments note {c.number} TEXT  (and /commitments link {c.number} URL)",
    )


def new_date_form(c: Commitment) -> Form:
    return Form(
        NEW_DATE,
        f"A new date for {c.ref}?",
        (Input("due", "New due date", "date"),),
        value=str(c.id),
        submit_label="Set the date",
        text_command=f"/commitments edit {c.number} by DATE",
    )


def reply_form(c: Commitment, to: str) -> Form:
    return Form(
        REPLY,
        f"A word for {to}",
        (
            Input(
                "message",
                "Encouragement or a question",
                "multiline",
                placeholder="How did the students take it?",
                max_length=MESSAGE_LIMIT,
            ),
        ),
        value=str(c.id),
        submit_label="Send",
        text_command=f"/commitments reply {c.number} TEXT",
    )


def draft_form(
    draft_id: int,
    *,
    what: str,
    due: date,
    peers: str,
    indicators: str,
    know: str | None = None,
) -> Form:
    return Form(
        DRAFT,
        "Confirm your next step",
        _inputs(what=what, due=due, know=know, peers=peers, indicators=indicators),
        value=str(draft_id),
        submit_label="Commit",
        text_command=(
            f"/commitments confirm {draft_id} [TEXT] [by DATE] [with @peer ...] [#B3] [#private]"
        ),
    )
