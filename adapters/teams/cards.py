"""Neutral messages as Adaptive Cards (schema 1.4, laid out for Teams).

Every message becomes one card, so user text is escaped the same way everywhere:

- Text without mentions goes into ``RichTextBlock``/``TextRun`` elements, which Teams shows
  as typed: no Markdown, so a teacher's ``[click](http://...)`` or ``**`` stays literal.
- Text with a :class:`~bot.messages.Mention` must be a ``TextBlock`` (Teams resolves
  ``<at>Name</at>`` there, against the card's ``msteams.entities``). Its user text is
  neutralised with an invisible zero-width space after ``<``, ``]`` and ``{``: ``<at>`` can
  no longer form a mention, ``[x](url)`` no longer a link, ``{{DATE()}}`` no longer a
  function. (Bold and italic markers in such text can still style it; they can't link or
  ping anyone.)
- Buttons and form submits are ``Action.Execute`` (Universal Actions); their data carries
  the plcbot action id and value under keys no form input can take.

Limits: Teams refuses a message over roughly 28 KB, so a card is kept under
:data:`MAX_CARD_CHARS`: a chart image is inlined as a PNG data URI only when it fits in
:data:`INLINE_IMAGE_CHARS` (re-encoded with a small palette if needed), else its alt text is
shown; a message still too long becomes several cards, in order (:func:`render_cards`).
Files (CSV, Markdown) are shown as text in the card: bots can't attach files in Teams
channels, and a 1:1 upload needs a OneDrive consent round trip.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image as PILImage

from bot.messages import (
    Attachment,
    Block,
    Button,
    Countdown,
    Divider,
    Fields,
    Form,
    Image,
    Input,
    Link,
    ListBlock,
    Mention,
    OutMessage,
    Section,
    Strong,
    Text,
    plain,
)
from bot.parsing import human_duration

CARD_VERSION = "1.4"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
DATA_ACTION = "plcbot_action"
DATA_VALUE = "plcbot_value"
DATA_INPUTS = "plcbot_inputs"
RESERVED = frozenset({DATA_ACTION, DATA_VALUE, DATA_INPUTS})
MAX_CARD_CHARS = 26_000
INLINE_IMAGE_CHARS = 16_000
ATTACHMENT_TEXT_CHARS = 8_000
ACTIONS_PER_ROW = 5
ZWSP = "\u200b"
SAFE_SCHEMES = ("https://", "http://", "mailto:")

Json = dict[str, Any]


def neutralise(value: str) -> str:
    """User text made inert inside a Markdown ``TextBlock`` (see the module docstring)."""
    return (
        value.replace("\r", "")
        .replace("<", "<" + ZWSP)
        .replace("]", "]" + ZWSP)
        .replace("{", "{" + ZWSP)
        .replace("\n", "\n\n")
    )


def _run_text(value: str) -> str:
    """``TextRun`` shows text as typed, but still expands ``{{DATE(...)}}``."""
    return value.replace("\r", "").replace("{{", "{" + ZWSP + "{")


def _mention_name(name: str) -> str:
    return name.replace("<", "").replace(">", "").strip() or "someone"


class CardBuilder:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.body: list[Json] = []
        self.entities: list[Json] = []
        self.glued: set[int] = set()  # body indexes that must stay on the card before them
        self._separate = False
        self._glue_next = False

    # -- text -----------------------------------------------------------------------------

    def text(self, value: Text, *, style: Json | None = None) -> Json:
        style = style or {}
        if any(isinstance(part, Mention) for part in value):
            return self._markdown(value, style)
        runs: list[Json] = []
        for part in value:
            if isinstance(part, str):
                runs.append({"type": "TextRun", "text": _run_text(part), **style})
            elif isinstance(part, Strong):
                runs.append(
                    {"type": "TextRun", "text": _run_text(part.text), **style, "weight": "Bolder"}
                )
            elif isinstance(part, Link):
                runs.append(self._link_run(part, style))
        return {"type": "RichTextBlock", "inlines": runs or [{"type": "TextRun", "text": " "}]}

    def _link_run(self, link: Link, style: Json) -> Json:
        label = link.label or link.url
        if link.url.lower().startswith(SAFE_SCHEMES):
            return {
                "type": "TextRun",
                "text": _run_text(label),
                **style,
                "underline": True,
                "selectAction": {"type": "Action.OpenUrl", "url": link.url},
            }
        shown = label if label == link.url else f"{label} ({link.url})"
        return {"type": "TextRun", "text": _run_text(shown), **style}

    def _markdown(self, value: Text, style: Json) -> Json:
        out: list[str] = []
        for part in value:
            if isinstance(part, str):
                out.append(neutralise(part))
            elif isinstance(part, Strong):
                # ``**`` must touch the words it wraps, so surrounding spaces go outside it
                core = part.text.strip()
                before = part.text[: len(part.text) - len(part.text.lstrip())]
                after = part.text[len(part.text.rstrip()) :]
                out.append(f"{before}**{neutralise(core)}**{after}" if core else part.text)
            elif isinstance(part, Link):
                label = neutralise(part.label or part.url)
                url = part.url.replace(" ", "%20").replace(")", "%29")
                out.append(f"[{label}]({url})" if url.lower().startswith(SAFE_SCHEMES) else label)
            else:
                out.append(self.mention(part))
        block: Json = {"type": "TextBlock", "text": "".join(out), "wrap": True}
        for key in ("size", "weight", "isSubtle", "fontType"):
            if key in style:
                block[key] = style[key]
        return block

    def mention(self, mention: Mention) -> str:
        name = _mention_name(mention.name)
        marked = f"<at>{name}</at>"
        entity = {
            "type": "mention",
            "text": marked,
            "mentioned": {"id": mention.user_id, "name": name},
        }
        if entity not in self.entities:
            self.entities.append(entity)
        return marked

    # -- body -----------------------------------------------------------------------------

    def add(self, element: Json, *, glued: bool = False) -> None:
        """Append an element; ``glued`` keeps it on the same card as the one before it when
        a long message is split (a form's inputs and its submit button)."""
        if self._separate and self.body:
            element = {**element, "separator": True, "spacing": "Medium"}
        if (glued or self._glue_next) and self.body:
            self.glued.add(len(self.body))
        self._separate = False
        self._glue_next = False
        self.body.append(element)

    def heading(self, value: str, size: str = "Default") -> None:
        self.add(self.text((value,), style={"weight": "Bolder", "size": size}))
        self._glue_next = True  # a heading never ends a card without what it heads

    def block(self, block: Block) -> None:
        if isinstance(block, Section):
            if block.heading:
                self.heading(block.heading)
            self.add(self.text(block.body))
        elif isinstance(block, Fields):
            for field in block.fields:
                self.add(self.text((Strong(f"{field.label}: "), *field.value)))
        elif isinstance(block, ListBlock):
            self._list(block)
        elif isinstance(block, Countdown):
            self.add(countdown(block, self.now))
        elif isinstance(block, Image):
            self._image(block)
        elif isinstance(block, Divider):
            self._separate = True

    def _list(self, block: ListBlock) -> None:
        if block.heading:
            self.heading(block.heading)
        if not block.items:
            self.add(self.text((block.empty_text,), style={"isSubtle": True}))
        for number, item in enumerate(block.items, start=1):
            prefix = f"{number}. " if block.ordered else "• "
            marker: Text = (f"  ({item.marker})",) if item.marker else ()
            element = self.text((prefix, *item.body, *marker))
            self.add({**element, "spacing": "Small"})

    def _image(self, image: Image) -> None:
        if image.title:
            self.heading(image.title)
        uri = inline_png(image.png)
        if uri is None:
            self.add(self.text((image.alt,)))
            self.add(
                self.text(
                    ("(The chart is too large to show in a Teams card, so here it is in words.)",),
                    style={"isSubtle": True, "size": "Small"},
                )
            )
            return
        self.add({"type": "Image", "url": uri, "altText": image.alt[:1000], "size": "Stretch"})

    def attachment(self, attachment: Attachment) -> None:
        self.heading(f"File: {attachment.filename}")
        if not attachment.mime.startswith("text/") and attachment.mime != "application/json":
            self.add(
                self.text(
                    (
                        f"plcbot made a {len(attachment.content):,}-byte file that Teams can't "
                        "show in a chat. Ask your plcbot admin for it, or use the console "
                        "export.",
                    ),
                    style={"isSubtle": True},
                )
            )
            return
        content = attachment.content.decode("utf-8", errors="replace")
        shown = content[:ATTACHMENT_TEXT_CHARS]
        self.add(self.text((shown,), style={"fontType": "Monospace", "size": "Small"}))
        note = "Copy the text above to keep it."
        if len(shown) < len(content):
            note = (
                f"This shows the first {len(shown):,} of {len(content):,} characters; "
                "the rest doesn't fit in a Teams message."
            )
        self.add(self.text((note,), style={"isSubtle": True, "size": "Small"}))

    def form(self, form: Form) -> None:
        for number, field in enumerate(i for i in form.inputs if i.input_id not in RESERVED):
            self.add(form_input(field), glued=number > 0)
        data = {
            DATA_ACTION: form.action_id,
            DATA_VALUE: form.value,
            DATA_INPUTS: ",".join(i.input_id for i in form.inputs if i.input_id not in RESERVED),
        }
        submit = {
            "type": "Action.Execute",
            "title": form.submit_label,
            "verb": form.action_id,
            "data": data,
            "associatedInputs": "auto",
            "style": "positive",
        }
        self.add({"type": "ActionSet", "actions": [submit]}, glued=True)


def countdown(block: Countdown, now: datetime) -> Json:
    remaining = block.remaining(now)
    label = neutralise(block.label)
    if block.paused:
        line = f"⏸ {label}: paused, {human_duration(timedelta(seconds=remaining))} left"
    elif remaining <= 0:
        line = f"⏱ {label}: time is up"
    else:
        assert block.ends_at is not None
        ends = block.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        left = human_duration(timedelta(seconds=remaining))
        until = f"{{{{TIME({ends})}}}}"
        if block.ends_far(now):
            until = f"{{{{DATE({ends}, SHORT)}}}} {until}"
        line = f"⏱ {label}: {left} left (until {until})"
    return {"type": "TextBlock", "text": line, "wrap": True, "weight": "Bolder"}


def form_input(field: Input) -> Json:
    element: Json = {
        "id": field.input_id,
        "label": field.label,
        "isRequired": not field.optional,
        "errorMessage": f"Please fill in: {field.label}",
    }
    if field.kind == "choice":
        element.update(
            type="Input.ChoiceSet",
            style="compact",
            choices=[{"title": c.label, "value": c.value} for c in field.choices],
        )
    elif field.kind == "date":
        element["type"] = "Input.Date"
    else:
        element["type"] = "Input.Text"
        element["isMultiline"] = field.kind == "multiline"
        if field.max_length:
            element["maxLength"] = field.max_length
    if field.placeholder and field.kind != "choice":
        element["placeholder"] = field.placeholder
    if field.initial is not None:
        element["value"] = field.initial
    return element


def button_action(button: Button) -> Json:
    execute: Json = {
        "type": "Action.Execute",
        "title": button.label,
        "verb": button.action_id,
        "data": {DATA_ACTION: button.action_id, DATA_VALUE: button.value},
        "associatedInputs": "none",
    }
    if button.style == "primary":
        execute["style"] = "positive"
    elif button.style == "danger":
        execute["style"] = "destructive"
    if not button.confirm:
        return execute
    confirm_card = {
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [{"type": "RichTextBlock", "inlines": [_plain_run(button.confirm)]}],
        "actions": [{**execute, "title": f"Yes, {button.label.lower()}"}],
    }
    return {"type": "Action.ShowCard", "title": button.label, "card": confirm_card}


def _plain_run(value: str) -> Json:
    return {"type": "TextRun", "text": _run_text(value)}


def inline_png(png: bytes) -> str | None:
    """A data URI small enough for a Teams card, re-encoding the chart if that helps."""
    candidates = [png]
    try:
        with PILImage.open(io.BytesIO(png)) as image:
            rgb = image.convert("RGB")
            for scale in (1.0, 0.5):
                shrunk = (
                    rgb
                    if scale == 1.0
                    else rgb.resize(
                        (max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale)))
                    )
                )
                out = io.BytesIO()
                shrunk.quantize(colors=64).save(out, "PNG", optimize=True)
                candidates.append(out.getvalue())
    except (OSError, ValueError):
        pass
    for data in candidates:
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        if len(uri) <= INLINE_IMAGE_CHARS:
            return uri
    return None


def render_cards(message: OutMessage, now: datetime) -> list[Json]:
    """The message as one card, or as several, in order, when one Teams message can't hold it.

    Like Slack's 50-block split, nothing is dropped: the body is cut between elements (never
    between a heading and what it heads, nor inside a form), an element too long on its own
    is cut between lines or words (never inside a mention), later cards start with
    "(continued)", and the buttons go on the last card, after everything they act on.
    """
    builder = _build(message, now)
    actions = [button_action(b) for b in message.buttons]
    whole = _card(message, builder.body, builder.entities, actions)
    if _size(whole) <= MAX_CARD_CHARS:
        return [whole]
    heading = builder.text(
        (f"{message.title} (continued)" if message.title else "(continued)",),
        style={"weight": "Bolder", "isSubtle": True},
    )
    # what any card may carry besides its share of the body and its mentions' entities
    base = _size(_card(message, [heading], [], actions)) + len(', "entities": []')
    budget = MAX_CARD_CHARS - base
    entities = builder.entities
    bodies: list[list[Json]] = [[]]
    named: list[Json] = []  # the entities of the card being filled
    used = 0
    for unit in _units(builder.body, builder.glued, entities, budget):
        size = _cost(unit, entities, named)
        if bodies[-1] and used + size > budget:
            bodies.append([])
            named, used = [], 0
            size = _cost(unit, entities, named)
        bodies[-1].extend(unit)
        named.extend(e for e in _mentioned(unit, entities) if e not in named)
        used += size
    cards = []
    for number, body in enumerate(bodies):
        last = number == len(bodies) - 1
        shown = body if number == 0 else [heading, *body]
        cards.append(_card(message, shown, entities, actions if last else []))
    return cards


def _size(value: Any) -> int:
    """Characters on the wire: the connector client sends JSON with non-ASCII escaped."""
    return len(json.dumps(value))


def _mentioned(elements: Any, entities: list[Json]) -> list[Json]:
    """The mention entities whose ``<at>Name</at>`` appears in ``elements`` (user text is
    neutralised, so only plcbot's own mentions can match)."""
    if not entities:
        return []
    shown = json.dumps(elements)
    return [e for e in entities if json.dumps(e["text"])[1:-1] in shown]


def _cost(unit: list[Json], entities: list[Json], named: list[Json]) -> int:
    """What ``unit`` adds to a card that already has the entities ``named``."""
    new = [e for e in _mentioned(unit, entities) if e not in named]
    return sum(_size(e) + 2 for e in unit) + sum(_size(e) + 2 for e in new)


def _units(
    body: list[Json], glued: set[int], entities: list[Json], budget: int
) -> list[list[Json]]:
    """The body in pieces that must stay together, each small enough for one card."""
    units: list[list[Json]] = []
    for index, element in enumerate(body):
        if index in glued and units:
            units[-1].append(element)
        else:
            units.append([element])
    fitted: list[list[Json]] = []
    for unit in units:
        if _cost(unit, entities, []) <= budget:
            fitted.append(unit)
            continue
        for element in unit:  # too big to keep together: each element alone, cut if need be
            fitted.extend([piece] for piece in _cut_element(element, entities, budget))
    return fitted


def _cut_element(element: Json, entities: list[Json], budget: int) -> list[Json]:
    """A text element too long for a card as several shorter ones; others stay whole."""
    if _cost([element], entities, []) <= budget:
        return [element]
    if element.get("type") == "TextBlock" and isinstance(element.get("text"), str):

        def block_fits(part: str) -> bool:
            return _cost([{**element, "text": part}], entities, []) <= budget

        return [{**element, "text": part} for part in _cut_text(element["text"], block_fits)]
    if element.get("type") != "RichTextBlock":
        return [element]  # an image or an input: at most a few KB, never cut
    room = budget - _size({**element, "inlines": []})
    blocks: list[Json] = []
    runs: list[Json] = []
    used = 0
    for run in element.get("inlines", ()):

        def run_fits(part: str, run: Json = run) -> bool:
            return _size({**run, "text": part}) + 2 <= room

        for part in _cut_text(run.get("text", ""), run_fits):
            piece = {**run, "text": part}
            size = _size(piece) + 2
            if runs and used + size > room:
                blocks.append({**element, "inlines": runs})
                runs, used = [], 0
            runs.append(piece)
            used += size
    if runs:
        blocks.append({**element, "inlines": runs})
    return blocks


def _cut_text(value: str, fits: Callable[[str], bool]) -> list[str]:
    """``value`` in order, in the longest parts that ``fits`` accepts, each cut after a line
    break or a space where there is one, and never inside an ``<at>...</at>`` mention."""
    parts: list[str] = []
    while len(value) > 1 and not fits(value):
        low, high = 1, len(value) - 1  # the longest prefix that fits, by bisection
        while low < high:
            middle = (low + high + 1) // 2
            if fits(value[:middle]):
                low = middle
            else:
                high = middle - 1
        end = low
        head = value[:end]
        opened = head.rfind("<at>")
        if opened > head.rfind("</at>") and opened > 0:
            end = opened
        else:
            for mark in ("\n", " "):
                at = head.rfind(mark)
                if at >= end // 2:
                    end = at + 1
                    break
        parts.append(value[:end])
        value = value[end:]
    parts.append(value)
    return parts


def _build(message: OutMessage, now: datetime) -> CardBuilder:
    builder = CardBuilder(now)
    if message.title:
        builder.heading(message.title, size="Medium")
    for block in message.blocks:
        builder.block(block)
    if message.form is not None:
        if message.form.title and message.form.title != message.title:
            builder.heading(message.form.title)
        builder.form(message.form)
    if message.attachment is not None:
        builder.attachment(message.attachment)
    if message.footer:
        builder.add(builder.text((message.footer,), style={"isSubtle": True, "size": "Small"}))
    if not builder.body:
        builder.add(builder.text((message.fallback,)))
    buttons = [button_action(b) for b in message.buttons]
    if len(buttons) > ACTIONS_PER_ROW:
        for start in range(0, len(buttons), ACTIONS_PER_ROW):
            row = {"type": "ActionSet", "actions": buttons[start : start + ACTIONS_PER_ROW]}
            builder.add(row, glued=start > 0)
    return builder


def _card(message: OutMessage, body: list[Json], entities: list[Json], actions: list[Json]) -> Json:
    card: Json = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "fallbackText": plain(message.fallback),
        "msteams": {"width": "Full"},
    }
    if actions and len(actions) <= ACTIONS_PER_ROW:
        card["actions"] = actions
    mentioned = _mentioned(body, entities)
    if mentioned:
        card["msteams"]["entities"] = mentioned
    return card


def attachment_for(card: Json) -> Json:
    return {"contentType": CARD_CONTENT_TYPE, "content": card}
