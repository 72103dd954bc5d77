"""The session card: one message, posted once and updated in place as the session moves.

It carries everything a participant glancing at the channel needs (which step, why, who
speaks, how long is left, whose turn) and the buttons to move on. Every button carries the
session id and the state version it was drawn for, so a double click or an old card acts
once at most. The card stays small on purpose (about a dozen blocks, short sections), well
inside Slack's 50-block and 3000-character limits and an Adaptive Card's comfort zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import (
    Block,
    Button,
    Countdown,
    Field,
    Fields,
    Inline,
    ListBlock,
    ListItem,
    OutMessage,
    Section,
    Text,
    text,
)
from bot.protocol.texts import KIND_LABELS, ROLE_LABELS, mention, step_length, who_speaks
from protocols.schema import Protocol, Role
from protocols.state import Round, State, Status

MAX_TURNS_SHOWN = 20
ACTION = "protocol."


def button_value(session_id: int, version: int) -> str:
    return f"{session_id}:{version}"


def parse_button_value(value: str) -> tuple[int, int] | None:
    left, sep, right = value.partition(":")
    if not sep or not left.isdigit() or not right.isdigit():
        return None
    return int(left), int(right)


def roles_text(definition: Protocol, state: State) -> Text:
    parts: list[Inline] = []
    for i, role in enumerate(definition.roles):
        if i:
            parts.append(" · ")
        parts.append(ROLE_LABELS[role].capitalize() + ": ")
        parts.append(mention(state, getattr(state, role.value)))
    return tuple(parts)


def _turns(state: State, turn: Round) -> ListBlock:
    items = []
    current = turn.current
    for member_id in turn.order[:MAX_TURNS_SHOWN]:
        if member_id in turn.passed:
            marker = "passed"
        elif member_id in turn.spoke:
            marker = "done"
        elif member_id == current:
            marker = "speaking now"
        else:
            marker = None
        items.append(ListItem(text(state.name_of(member_id)), marker))
    if len(turn.order) > MAX_TURNS_SHOWN:
        items.append(ListItem(text(f"and {len(turn.order) - MAX_TURNS_SHOWN} more")))
    return ListBlock(tuple(items), heading="Turn order", ordered=True)


def session_card(
    definition: Protocol,
    state: State,
    *,
    session_id: int,
    version: int,
    now: datetime,
    zone: ZoneInfo,
) -> OutMessage:
    if state.status == Status.ENDED:
        return _ended_card(definition, state)
    index = state.step
    step = definition.steps[index]
    blocks: list[Block] = [
        Section(text(step.purpose), heading=step.title),
        Fields(
            (
                Field("Who speaks", who_speaks(state, step)),
                Field("Kind", text(KIND_LABELS[step.kind])),
                Field("Time", text(step_length(state, step, zone, now))),
            )
        ),
    ]
    if step.prompts:
        blocks.append(ListBlock(tuple(ListItem(text(p)) for p in step.prompts), heading="Prompts"))
    if state.status == Status.PAUSED:
        who = "The facilitator" + (" or the timekeeper" if state.timekeeper is not None else "")
        blocks.append(Section(text(f"Paused. {who} resumes when the group is ready.")))
    elif state.overtime(now):
        blocks.append(Section(text("Time's up for this step. The facilitator moves on.")))
    blocks.append(
        Countdown(
            label="Time left",
            total_seconds=state.total_seconds,
            ends_at=state.ends_at if state.status == Status.RUNNING else None,
            remaining_seconds=state.remaining(now) if state.status == Status.PAUSED else None,
        )
    )
    if state.round is not None:
        blocks.append(_turns(state, state.round))
    blocks.append(Section(roles_text(definition, state), heading="Roles"))
    value = button_value(session_id, version)
    buttons = [
        Button("Back", ACTION + "back", value),
        Button(
            "Next step" if index + 1 < len(definition.steps) else "Finish",
            ACTION + "next",
            value,
            style="primary",
        ),
        Button("Resume", ACTION + "resume", value)
        if state.status == Status.PAUSED
        else Button("Pause", ACTION + "pause", value),
    ]
    if state.round is not None and not state.round.done:
        buttons.append(Button("Pass", ACTION + "pass", value))
    if step.collect:
        buttons.append(Button("Add contribution", ACTION + "add", value))
    buttons.append(
        Button(
            "End",
            ACTION + "end",
            value,
            style="danger",
            confirm="End this session for everyone? I'll post the summary right away.",
        )
    )
    # Not "/protocol add --anon": in Teams a typed command is posted under the sender's name
    # for the whole channel to see. The form is private on every platform.
    anon = (
        " To add it without your name, use Add contribution: a message typed in the channel "
        "shows your name."
        if step.anonymous
        else ""
    )
    how = (
        "Reply to this message (or write in the channel) or use /protocol add TEXT to add to "
        f"this step.{anon}"
        if step.collect
        else "This step collects nothing; the facilitator moves on when ready."
    )
    return OutMessage(
        title=f"{definition.title}: step {index + 1} of {len(definition.steps)}",
        blocks=tuple(blocks),
        buttons=tuple(buttons),
        footer=f"Session #{session_id}. {how}",
    )


def _ended_card(definition: Protocol, state: State) -> OutMessage:
    if state.outcome == "completed":
        how = "completed all its steps"
    else:
        how = f"ended at step {state.step + 1} of {len(definition.steps)}"
    return OutMessage(
        title=f"{definition.title}: ended",
        blocks=(
            Section(
                text(
                    f"This session {how}. The summary is posted below; /protocol history "
                    "lists past sessions."
                )
            ),
            Section(roles_text(definition, state), heading="Roles"),
        ),
    )


def role_holders(definition: Protocol, state: State) -> dict[Role, int | None]:
    return {role: getattr(state, role.value) for role in definition.roles}
