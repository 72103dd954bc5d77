"""What the Block Kit cache may share between messages, and what it must build each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from adapters.slack.forms import encode_form
from adapters.slack.render import RenderError, render_message
from bot.messages import Button, Countdown, OutMessage, Section, text
from bot.reflection.messages import prompt_message

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
PROMPT = "What did you try this week that a colleague could use?"


def test_prompts_of_one_round_share_all_but_their_own_buttons() -> None:
    (first,) = render_message(prompt_message(101, "B3", PROMPT), now=NOW).chunks
    (second,) = render_message(prompt_message(102, "B3", PROMPT), now=NOW).chunks
    assert len(first) == len(second)
    shared = [a for a, b in zip(first, second, strict=True) if a is b]
    own = [(a, b) for a, b in zip(first, second, strict=True) if a is not b]
    # the title, the prompt, its indicator and the privacy note are built once
    assert [b["type"] for b in shared] == ["header", "section", "section", "context"]
    assert own  # the answer form's offer and the skip button name each delivery
    for a, b in own:
        assert a != b
        assert "101" in str(a) and "102" not in str(a)
        assert "102" in str(b) and "101" not in str(b)


def test_the_same_message_renders_the_same_json_each_time() -> None:
    message = prompt_message(7, "A1", PROMPT)
    once = render_message(message, now=NOW)
    again = render_message(message, now=NOW + timedelta(hours=1))
    assert once.chunks == again.chunks
    assert once.chunks is not again.chunks  # each caller gets its own lists to chunk and send


def test_a_countdown_is_rendered_for_the_moment_it_is_sent() -> None:
    ends = NOW + timedelta(minutes=5)
    message = OutMessage(
        blocks=(Section(text("Step 2")), Countdown("Probing questions", 300, ends_at=ends))
    )
    early = render_message(message, now=NOW).chunks[0][1]
    later = render_message(message, now=NOW + timedelta(minutes=1)).chunks[0][1]
    assert "5:00 left of 5:00" in early["elements"][0]["text"]
    assert "4:00 left of 5:00" in later["elements"][0]["text"]


def _button(label: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=label, emoji=True), action_id=action_id, value=value, style=style
    )


def test_values_filled_into_a_cached_layout_match_what_slack_sdk_builds() -> None:
    message = prompt_message(4321, "B3", PROMPT)
    assert message.form is not None
    blocks = render_message(message, now=NOW).chunks[0]
    offer = SectionBlock(
        text=MarkdownTextObject(
            text=f"*Your reflection*\nOr type: `{message.form.text_command}`", verbatim=True
        )
    )
    open_form = _button("Save", "plcbot.slack.open_form#1", encode_form(message.form), "primary")
    skip = _button("Skip this one", "reflect.skip#0", "4321")
    assert blocks[3:6] == [
        offer.to_dict(),
        ActionsBlock(elements=[open_form]).to_dict(),
        ActionsBlock(elements=[skip]).to_dict(),
    ]


def test_buttons_past_one_row_keep_their_own_values_in_order() -> None:
    buttons = tuple(Button(f"B{i}", "demo.pick", str(i) if i % 3 else "") for i in range(30))
    rows = render_message(OutMessage(buttons=buttons), now=NOW).chunks[0]
    expected = [_button(f"B{i}", f"demo.pick#{i}", str(i) if i % 3 else None) for i in range(30)]
    assert rows == [
        ActionsBlock(elements=expected[:25]).to_dict(),
        ActionsBlock(elements=expected[25:]).to_dict(),
    ]


def test_a_value_over_slacks_limit_is_refused_even_when_the_layout_is_cached() -> None:
    render_message(OutMessage(buttons=(Button("Go", "demo.go", "x"),)), now=NOW)
    with pytest.raises(RenderError):
        render_message(OutMessage(buttons=(Button("Go", "demo.go", "x" * 2001),)), now=NOW)
