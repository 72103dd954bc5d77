"""What the Block Kit cache may share between messages, and what it must build each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.slack.render import render_message
from bot.messages import Countdown, OutMessage, Section, text
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
