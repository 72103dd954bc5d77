"""Neutral messages as Adaptive Cards: user text stays text, mentions are real, sizes fit."""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image as PILImage

from adapters.teams.cards import (
    INLINE_IMAGE_CHARS,
    MAX_CARD_CHARS,
    ZWSP,
    _build,
    _card,
    render_cards,
)
from bot.charts import Bar, bar_chart
from bot.messages import (
    Attachment,
    Button,
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
    text,
)
from bot.protocol.summary import summary_message
from tests.support.fake_connector import card_text

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOSTILE = "[click me](http://evil.example) <at>Sam Okafor</at> {{DATE(2017-02-14T06:00:00Z)}}"


def render(message: OutMessage) -> dict[str, Any]:
    """The one card an ordinary message becomes."""
    [card] = render_cards(message, NOW)
    return card


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
    card = render(OutMessage(title="Notes", blocks=(Section(text(HOSTILE)),)))
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
    card = render(message)
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
    card = render(message)
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
    card = render(OutMessage(blocks=(running, paused, over)))
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
    card = render(OutMessage(blocks=(chart,)))
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
    card = render(OutMessage(blocks=(big,)))
    assert elements(card, "Image") == []
    assert "A noisy picture, described in words." in card_text(card)
    assert "too large to show" in card_text(card)


def test_files_are_shown_as_text_in_the_card() -> None:
    csv = Attachment("commitments.csv", b"owner,text\nMaria,Try exit tickets\n", "text/csv")
    card = render(OutMessage(title="Export", attachment=csv))
    shown = card_text(card)
    assert "File: commitments.csv" in shown and "Maria,Try exit tickets" in shown
    assert any(r.get("fontType") == "Monospace" for r in elements(card, "TextRun"))

    pdf = Attachment("record.pdf", b"%PDF-1.7", "application/pdf")
    assert "can't show in a chat" in card_text(render(OutMessage(attachment=pdf)))


def long_summary() -> dict[str, Any]:
    """A long session's stored summary: nine steps, eight long contributions in most, in
    Spanish (accents are six characters each on the wire), one anonymous in each step."""
    titles = ["Bienvenida", "Presentación", "Preguntas", "Análisis", "Preparación"]
    titles += ["Retroalimentación", "Reflexión", "Balance", "Próximos pasos"]
    steps = []
    for number, title in enumerate(titles):
        entries = [
            {
                "author": None if n == 3 else f"Docente {n}",
                "text": f"Aporte {number}.{n}: " + "la evaluación añadió razonamiento " * 7,
            }
            for n in range(8)
        ]
        steps.append(
            {
                "title": title,
                "kind": "next_steps" if number == 8 else "open",
                "collect": number != 0,
                "reached": True,
                "contributions": entries if number != 8 else [],
                "notes": [{"author": "Docente 0", "text": f"Nota {number}: pensar más"}],
            }
        )
    return {
        "session": 7,
        "protocol": {"title": "Tuning protocol", "credit": "Structure from NSRF."},
        "outcome": "completed",
        "started_at": "2026-11-23T09:00:00+00:00",
        "ended_at": "2026-11-23T10:00:00+00:00",
        "minutes": 60,
        "roles": [{"role": "facilitator", "name": "Docente 0"}],
        "steps": steps,
        "next_steps": [
            {"member_id": n, "author": f"Docente {n}", "text": f"Paso {n}: probar la tarea"}
            for n in range(8)
        ],
    }


def test_a_summary_too_long_for_one_card_is_split_in_order_and_nothing_is_lost() -> None:
    message = summary_message(long_summary(), ZoneInfo("America/Mexico_City"))
    cards = render_cards(message, NOW)
    assert len(cards) >= 2
    assert all(len(json.dumps(card)) <= MAX_CARD_CHARS for card in cards)
    shown = [card_text(card) for card in cards]
    assert shown[0].startswith("Summary: Tuning protocol (session #7)")
    for later in shown[1:]:
        assert later.startswith("Summary: Tuning protocol (session #7) (continued)")
    assert "The full record: /protocol export 7." in shown[-1]  # the footer ends the last card
    # every line of the message, in its order, each whole on one card
    whole = "\n".join(shown)
    expected = [f"Aporte {s}.{n}:" for s in range(1, 8) for n in range(8) if n != 3]
    expected += [f"Paso {n}: probar la tarea" for n in range(8)]
    positions = [whole.index(line) for line in expected]
    assert positions == sorted(positions)
    assert whole.count("Anonymous: Aporte") == 7
    # and every line the message would show as one card (were Teams to allow it) is on one
    unsplit = _build(message, NOW)
    for line in card_text(_card(message, unsplit.body, unsplit.entities, [])).splitlines():
        assert any(line in card for card in shown), line


def test_one_element_too_long_for_a_card_is_cut_between_words_and_mentions_stay_whole() -> None:
    words = " ".join(f"λέξη{n}" for n in range(6_000))  # Greek: six characters each in JSON
    export = Attachment("record.md", words.encode(), "text/markdown")
    cards = render_cards(OutMessage(title="Export", attachment=export), NOW)
    assert len(cards) >= 2 and all(len(json.dumps(c)) <= MAX_CARD_CHARS for c in cards)
    runs = [r["text"] for c in cards for r in elements(c, "TextRun") if "λέξη" in r["text"]]
    assert "".join(runs) == words[:8_000]  # the card shows the file's first 8,000 characters
    assert all(r.endswith(" ") for r in runs[:-1])  # cut after a word, never inside one

    people = [Mention(f"29:p{n}", f"Persona Número {n}") for n in range(400)]
    parts: list[Any] = []
    for who in people:
        parts += [who, " añadió algo. "]
    cards = render_cards(OutMessage(blocks=(Section(text(*parts)),)), NOW)
    assert len(cards) >= 2 and all(len(json.dumps(c)) <= MAX_CARD_CHARS for c in cards)
    seen = []
    for card in cards:
        [block] = elements(card, "TextBlock")
        named = block["text"].count("<at>")
        assert named == block["text"].count("</at>")  # no mention is cut in two
        # each card carries the entities of exactly the mentions it shows
        assert [e["text"] for e in card["msteams"]["entities"]] == [
            f"<at>{p.name}</at>" for p in people[len(seen) : len(seen) + named]
        ]
        seen += people[len(seen) : len(seen) + named]
    assert seen == people


def test_a_long_form_keeps_its_inputs_with_its_submit_button_and_buttons_come_last() -> None:
    notes = tuple(Section(text(f"Nota {n}: " + "é" * 300)) for n in range(40))
    form = Form("f.save", "Tu nota", (Input("a", "A"), Input("b", "B")), submit_label="Guardar")
    buttons = tuple(Button(f"Botón {n}", f"b.{n}") for n in range(3))
    cards = render_cards(OutMessage(title="Notas", blocks=notes, form=form, buttons=buttons), NOW)
    assert len(cards) >= 2
    *earlier, last = cards
    assert all("actions" not in card for card in earlier)
    assert [a["title"] for a in last["actions"]] == ["Botón 0", "Botón 1", "Botón 2"]
    ids = [e.get("id") for e in last["body"]]
    assert "a" in ids and "b" in ids and elements(last, "ActionSet")
    assert "Nota 39:" in card_text(last) and "Nota 0:" in card_text(cards[0])
