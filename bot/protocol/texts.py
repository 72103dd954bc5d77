"""The words a session uses: who speaks, what kind of step, what just happened.

Kept in one place so the card, the announcements and the summary describe things the same way.
Names of people come from the session state; the only way anyone is pinged is a ``Mention``.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.messages import Inline, Mention, Strong, Text, text
from bot.parsing import human_duration
from bot.timefmt import when
from protocols.engine import Announce, Record, Tell
from protocols.schema import Protocol, Role, Speaker, Step, StepKind
from protocols.state import Mode, State

KIND_LABELS = {
    StepKind.INSTRUCTIONS: "Instructions",
    StepKind.ROUND: "Round: one at a time, in turn",
    StepKind.OPEN: "Open contributions",
    StepKind.SILENT_WRITING: "Silent writing",
    StepKind.PRESENTER_RESPONSE: "The presenter responds",
    StepKind.NEXT_STEPS: "Next steps (each becomes a commitment to confirm)",
}

ROLE_LABELS = {
    Role.FACILITATOR: "facilitator",
    Role.PRESENTER: "presenter",
    Role.TIMEKEEPER: "timekeeper",
    Role.NOTE_TAKER: "note-taker",
}


def shown(typed: str, limit: int = 60) -> str:
    """Something a person typed, safe to repeat back: no control or format characters (a
    newline, a terminal escape, a right-to-left override), spaces collapsed, clipped."""
    visible = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in typed)
    words = " ".join(visible.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def mention(state: State, member_id: int | None) -> Inline:
    person = state.person(member_id)
    if person is None:
        return "nobody yet"
    return Mention(person.user_id, person.name)


def who_speaks(state: State, step: Step) -> Text:
    if step.who == Speaker.EVERYONE:
        return text("Everyone")
    if step.who == Speaker.FACILITATOR:
        return text("The facilitator, ", mention(state, state.facilitator))
    if step.who == Speaker.PRESENTER:
        return text("The presenter, ", mention(state, state.presenter))
    if step.presenter_silent:
        return text(
            "Everyone except the presenter; ",
            mention(state, state.presenter),
            " listens and takes notes",
        )
    return text("Everyone except the presenter, ", mention(state, state.presenter))


def human_duration_words(seconds: int) -> str:
    """``5 min``, ``1 min 30 s``, ``2d``: how long, for a sentence."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    return human_duration(timedelta(seconds=seconds))


def step_heading(definition: Protocol, index: int) -> str:
    return f"Step {index + 1} of {len(definition.steps)}: {definition.steps[index].title}"


def step_length(state: State, step: Step, zone: ZoneInfo, now: datetime) -> str:
    if state.mode == Mode.ASYNC and state.ends_at is not None:
        return f"open until {when(state.ends_at, zone, now)}"
    return f"{step.minutes} min"


def announcement(
    definition: Protocol, state: State, item: Announce, zone: ZoneInfo, now: datetime
) -> Text:
    """One line for something that just happened in the session."""
    index = item.step if item.step is not None else state.step
    step = definition.steps[min(index, len(definition.steps) - 1)]
    left = human_duration_words(state.remaining(now))
    if item.kind == "step":
        return text(
            Strong(step_heading(definition, index)),
            f" ({step_length(state, step, zone, now)}). ",
            step.purpose,
            " ",
            *_listening_note(state, step),
        )
    if item.kind == "back":
        time = f"with {left} left" if state.remaining(now) else "its time was already up"
        return text(
            f"Back to step {index + 1} of {len(definition.steps)}, ",
            Strong(step.title),
            f" (undoing a next); {time}.",
        )
    if item.kind == "skipped":
        return text(
            Strong(step_heading(definition, index)),
            f": {step.purpose} (Nothing to collect here, so I'm moving straight on.)",
        )
    if item.kind == "turn":
        return text(mention(state, item.person), ", your turn. Reply here, or /protocol pass.")
    if item.kind == "passed":
        return text(state.name_of(item.person), " passed.")
    if item.kind == "round_done":
        return text("Everyone has had a turn. Facilitator, move on when you're ready.")
    if item.kind == "warn":
        return text(f"One minute left for {step.title}.")
    if item.kind == "time_up":
        return text(
            f"Time's up for {step.title}. Facilitator: /protocol next to move on, or "
            "/protocol extend 5 for more time."
        )
    if item.kind == "auto_next":
        return text(f"Time's up for {step.title}, so I'm moving on.")
    if item.kind == "paused":
        return text(f"Paused with {left} left on this step. /protocol resume carries on.")
    if item.kind == "resumed":
        return text(f"Resumed: {left} left on this step.")
    if item.kind == "extended":
        return text(f"Added {item.minutes} min to this step: {left} left now.")
    role = ROLE_LABELS[item.role] if item.role else "role"
    if item.person is None:
        return text(f"Nobody is the {role} now.")
    return text(mention(state, item.person), f" is now the {role}.")


def _listening_note(state: State, step: Step) -> tuple[Inline, ...]:
    if step.presenter_silent and state.presenter is not None:
        return text(
            mention(state, state.presenter),
            " listens in this step; your messages here are kept as your notes.",
        )
    return ()


def tell(definition: Protocol, item: Tell) -> str:
    title = definition.steps[item.step].title
    if item.kind == "recorded":
        return f'Added to "{title}".'
    if item.kind == "recorded_anonymously":
        return f'Added to "{title}" without your name.'
    if item.kind == "earlier_step":
        return f'Added to "{title}", the step you wrote it for.'
    return (
        "This step is for listening, so I kept that as your notes. They appear in the summary "
        "as the presenter's notes, apart from the discussion."
    )


def mode_text(state: State) -> str:
    if state.mode == Mode.ASYNC:
        window = human_duration_words(state.window_seconds or 0)
        return f"asynchronous: each step stays open for {window} and moves on by itself"
    if state.mode == Mode.AUTO:
        return "live, moving on by itself when a step's time is up"
    return "live: the facilitator moves on; I keep time and warn"


def echo(definition: Protocol, state: State, item: Record) -> Text:
    """A contribution typed to the bot (a command, a form), shown to the group in the thread."""
    title = definition.steps[item.step].title
    if item.anonymous or item.person is None:
        return text(f"Added anonymously to {title}: ", item.text)
    return text(f"{state.name_of(item.person)} added to {title}: ", item.text)
