"""A message stored in a retry job comes back exactly as it was rendered, every block kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.message_json import message_from_json, message_to_json
from bot.messages import (
    Attachment,
    Button,
    Choice,
    Countdown,
    Divider,
    Field,
    Fields,
    Form,
    Image,
    Input,
    Link,
    ListBlock,
    ListItem,
    Mention,
    OutMessage,
    Section,
    Strong,
)

EVERYTHING = OutMessage(
    title="Tuning protocol: step 2 of 9",
    blocks=(
        Section(("Over to ", Mention("U0SAM", "Sam"), ": ", Strong("clarifying questions")), "Now"),
        Fields((Field("Presenter", (Mention("U0SAM", "Sam"),)), Field("Minutes", ("5",)))),
        ListBlock((ListItem(("Ana",), "done"), ListItem(("Ben",))), "Turns", ordered=True),
        Countdown("Clarifying questions", 300, ends_at=datetime(2026, 11, 23, 9, 5, tzinfo=UTC)),
        Countdown("Paused step", 300, remaining_seconds=42),
        Image(b"\x89PNG\r\n\x1a\n\x00\xff", "a chart", "Chart"),
        Divider(),
        Section((Link("https://nsrfharmony.org/protocols/", "NSRF"),)),
    ),
    buttons=(Button("Next", "protocol.next", "1:2", "primary", confirm="Move on?"),),
    form=Form(
        "protocol.add",
        "Add a contribution",
        (
            Input("text", "What would you add?", "multiline", max_length=2000),
            Input("anonymous", "Name", "choice", (Choice("named", "With my name"),), "named"),
        ),
        value="1",
        text_command="/protocol add TEXT",
    ),
    footer="Anyone can contribute.",
    attachment=Attachment("summary.md", b"# Notes\n", "text/markdown"),
)


def test_every_kind_of_block_survives_a_trip_through_json() -> None:
    stored = json.loads(json.dumps(message_to_json(EVERYTHING)))  # as a job's payload holds it
    assert message_from_json(stored) == EVERYTHING
