"""What members and teams see: the prompt with its one-tap answer, the reminder, the digest."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from bot.indicators import label
from bot.messages import (
    Button,
    Choice,
    Field,
    Fields,
    Form,
    Input,
    ListBlock,
    ListItem,
    OutMessage,
    Section,
    Strong,
    text,
)
from storage.reflection_answers import ANON_MINIMUM, Participation, SharedAnswer

ANSWER_LIMIT = 3000
SHARE_CHOICES = (
    Choice("private", "Keep it private (only me)"),
    Choice("team", "Share with my team, with my name"),
    Choice("anon", "Share with my team anonymously"),
)
PRIVACY_NOTE = (
    "Your answer is private unless you choose to share it. Leads see how many people answered, "
    "never private answers. /reflect mine lists your answers; you can delete any of them."
)


def answer_form(delivery_id: int, *, initial_share: str = "private") -> Form:
    return Form(
        action_id="reflect.answer",
        title="Your reflection",
        inputs=(
            Input(
                "answer",
                "Your answer (a sentence or two is plenty)",
                "multiline",
                max_length=ANSWER_LIMIT,
            ),
            Input("share", "Who can read it?", "choice", SHARE_CHOICES, initial=initial_share),
        ),
        value=str(delivery_id),
        submit_label="Save",
        text_command=f"/reflect answer {delivery_id} YOUR ANSWER [--share team|anon]",
    )


def prompt_message(delivery_id: int, indicator: str, prompt: str) -> OutMessage:
    return OutMessage(
        title="A moment to reflect",
        blocks=(
            Section(text(Strong(prompt))),
            Section(text("Linked to ", label(indicator), ".")),
        ),
        form=answer_form(delivery_id),
        buttons=(Button("Skip this one", "reflect.skip", str(delivery_id)),),
        footer=PRIVACY_NOTE + " In this chat you can also just type your answer.",
    )


def reminder_message(delivery_id: int, indicator: str, prompt: str) -> OutMessage:
    return OutMessage(
        title="A gentle nudge",
        blocks=(
            Section(
                text(
                    "No pressure: if you have two minutes, here is this week's reflection "
                    "again. If not, that's fine too; skip it and I won't ask again this round."
                )
            ),
            Section(text(Strong(prompt)), heading=label(indicator)),
        ),
        form=answer_form(delivery_id),
        buttons=(Button("Skip this one", "reflect.skip", str(delivery_id)),),
        footer=PRIVACY_NOTE,
    )


def channel_prompt(round_id: int, indicator: str, prompt: str) -> OutMessage:
    return OutMessage(
        title="This week's reflection",
        blocks=(
            Section(text(Strong(prompt))),
            Section(text("Linked to ", label(indicator), ". ", PRIVACY_NOTE)),
        ),
        buttons=(Button("Answer privately", "reflect.start", str(round_id), style="primary"),),
        footer=f"Or answer in a direct message: /reflect answer round {round_id} YOUR ANSWER",
    )


def digest_message(
    indicator: str,
    counts: Participation,
    shared: Sequence[SharedAnswer],
    follow_up: str,
) -> OutMessage:
    blocks: list[Section | Fields | ListBlock] = [
        Fields(
            (
                Field("Topic", text(label(indicator))),
                Field("Answered", text(f"{counts.answered} of {counts.reached}")),
            )
        )
    ]
    if shared:
        for code, group in groupby(shared, key=lambda a: a.indicator):
            items = tuple(
                ListItem(text(a.body, f" - {a.author}" if a.author else " - anonymous"))
                for a in group
            )
            blocks.append(ListBlock(items, heading=f"Shared with the team: {label(code)}"))
    else:
        blocks.append(Section(text("No answers to show the team this time; that's fine.")))
    if counts.answered < ANON_MINIMUM:
        blocks.append(
            Section(
                text(
                    f"Anonymous answers are shown only when at least {ANON_MINIMUM} people "
                    "answered, so nobody can be picked out."
                )
            )
        )
    blocks.append(Section(text(follow_up), heading="A question for your next meeting"))
    return OutMessage(
        title="Reflection round: what the team shared",
        blocks=tuple(blocks),
        footer="Private answers stay private. Thank you for taking the time to reflect.",
    )
