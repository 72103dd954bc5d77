"""Neutral messages as Adaptive Cards: user text stays text, mentions are real, sizes fit."""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image as PILImage

from adapters.teams.cards import INLINE_IMAGE_CHARS, MAX_CARD_CHARS, ZWSP, render
from bot.charts import Bar, bar_chart
from bot.messages import (
    Attachment,
    Countdown,
    Divider,
    Field,
    Fields,
    Image,
    Link,
    ListBlock,
    ListItem,
    Mention,
    OutMessage,
    Section,
    Strong,
    text,
)
from tests.support.fake_connector import card_text

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOSTILE = "[click me](http://evil.example) <at>Sam Okafor</at> {{DATE(2017-02-14T06:00:00Z)}}"


def elements(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def test_user_text_without_mentions_is_shown_exactly_as_typed() -> None:
    card = render(OutMessage(title="Notes", blocks=(Section(text(HOSTILE)),)), NOW)
    [body] = [b for b in card["body"] if b["type"] == "RichTextBlock"][1:]
    [run] = body["inlines"]
    # TextRuns are never Markdown; only the date function is defused (invisibly)
    assert run["text"] == HOSTILE.replace("{{", "{" + ZWSP + "{")
    assert "selectAction" not in run
    assert "entities" not in card["msteams"]
    assert elements(card, "TextBlock") == []


def test_mentions_are_real_and_user_text_beside_them_cannot_link_or_mention() -> None:
    message = OutMessage(
        blocks=(Section(text(Mention("29:maria", "Maria Lopez"), " wrote: ", HOSTILE)),)
    )
    card = render(message, NOW)
    [block] = elements(card, "TextBlock")
    assert block["text"].startswith("<at>Maria Lopez</at> wrote: ")
    assert "](" not in block["text"] and "<at>Sam" not in block["text"]
    assert "{{" not in block["text"]
    assert block["text"].replace(ZWSP, "") == "<at>Maria Lopez</at> wrote: " + HOSTILE
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Maria Lopez</at>",
            "mentioned": {"id": "29:maria", "name": "Maria Lopez"},
        }
    ]


def test_links_strong_text_fields_lists_dividers_and_footers() -> None:
    message = OutMessage(
        title="Summary",
        blocks=(
            Section(
                text("See ", Link("https://example.org/p", "the protocol"), " and ", Strong("act"))
            ),
            Fields((Field("Due", text("Friday")), Field("Owner", text(Mention("29:sam", "Sam"))))),
            Divider(),
            ListBlock(
                (ListItem(text("first"), "done"), ListItem(text("second"))), "Steps", ordered=True
            ),
            ListBlock((), "Open items", empty_text="Nothing open."),
            Section(text("Evil ", Link("javascript:alert(1)", "link"))),
        ),
        footer="Type help for more.",
    )
    card = render(message, NOW)
    runs = elements(card, "TextRun")
    [link] = [r for r in runs if r.get("selectAction")]
    assert link["text"] == "the protocol"
    assert link["selectAction"] == {"type": "Action.OpenUrl", "url": "https://example.org/p"}
    assert any(r["text"] == "act" and r.get("weight") == "Bolder" for r in runs)
    shown = card_text(card)
    assert "Due: Friday" in shown and "**Owner:** <at>Sam</at>" in shown
    assert "1. first  (done)" in shown and "2. second" in shown
    assert "Nothing open." in shown
    assert "link (javascript:alert(1))" in shown  # shown, never clickable
    assert sum(1 for b in card["body"] if b.get("separator")) == 1
    assert card["body"][-1]["inlines"][0]["isSubtle"] is True
    assert card["fallbackText"] == "Summary"


def test_a_running_countdown_shows_time_left_and_a_local_end_time() -> None:
    running = Countdown("Clarifying questions", 600, ends_at=NOW + timedelta(minutes=4))
    paused = Countdown("Feedback", 600, remaining_seconds=90)
    over = Countdown("Reflection", 60, ends_at=NOW - timedelta(seconds=1))
    card = render(OutMessage(blocks=(running, paused, over)), NOW)
    lines = [b["text"] for b in elements(card, "TextBlock")]
    assert lines == [
        "⏱ Clarifying questions: 4 min left (until {{TIME(2026-11-23T09:04:00Z)}})",
        "⏸ Feedback: paused, 1:30 left",
        "⏱ Reflection: time is up",
    ]


def test_charts_are_inlined_when_small_and_described_when_not() -> None:
    chart = bar_chart(
        "Commitments by indicator",
        [Bar(code, (n % 5 + 1, n % 3)) for n, code in enumerate(["A1", "A2", "B1", "B2", "C1"])],
        ("done", "open"),
    )
    card = render(OutMessage(blocks=(chart,)), NOW)
    [image] = elements(card, "Image")
    assert image["url"].startswith("data:image/png;base64,")
    assert len(image["url"]) <= INLINE_IMAGE_CHARS
    decoded = PILImage.open(io.BytesIO(base64.b64decode(image["url"].split(",", 1)[1])))
    assert decoded.width > 100
    assert image["altText"] == chart.alt

    noise = PILImage.frombytes("RGB", (600, 600), random.Random(1).randbytes(600 * 600 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    big = Image(buffer.getvalue(), alt="A noisy picture, described in words.", title="Noise")
    card = render(OutMessage(blocks=(big,)), NOW)
    assert elements(card, "Image") == []
    assert "A noisy picture, described in words." in card_text(card)
    assert "too large to show" in card_text(card)


def test_files_are_shown_as_text_and_long_messages_are_cut_to_fit_teams() -> None:
    csv = Attachment("commitments.csv", b"owner,text\nMaria,Try exit tickets\n", "text/csv")
    card = render(OutMessage(title="Export", attachment=csv), NOW)
    shown = card_text(card)
    assert "File: commitments.csv" in shown and "Maria,Try exit tickets" in shown
    assert any(r.get("fontType") == "Monospace" for r in elements(card, "TextRun"))

    pdf = Attachment("record.pdf", b"%PDF-1.7", "application/pdf")
    assert "can't show in a chat" in card_text(render(OutMessage(attachment=pdf), NOW))

    many = tuple(Section(text(f"Contribution {n}: " + "x" * 400)) for n in range(200))
    card = render(OutMessage(title="Record", blocks=many), NOW)
    assert len(json.dumps(card)) <= MAX_CARD_CHARS
    assert "The rest was too long for one Teams message." in card_text(card)
    assert "Contribution 0:" in card_text(card)
