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
shown; trailing blocks are cut, with a note, as a last resort. Files (CSV, Markdown) are shown
as text in the card: bots can't attach files in Teams channels, and a 1:1 upload needs a
OneDrive consent round trip.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
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
        self._separate = False

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

    def add(self, element: Json) -> None:
        if self._separate and self.body:
            element = {**element, "separator": True, "spacing": "Medium"}
        self._separate = False
        self.body.append(element)

    def heading(self, value: str, size: str = "Default") -> None:
        self.add(self.text((value,), style={"weight": "Bolder", "size": size}))

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
        for field in form.inputs:
            if field.input_id in RESERVED:
                continue
            self.add(form_input(field))
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
        self.add({"type": "ActionSet", "actions": [submit]})


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
        line = f"⏱ {label}: {left} left (until {{{{TIME({ends})}}}})"
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


def render(message: OutMessage, now: datetime) -> Json:
    """The card for ``message``, cut to fit a Teams message if it is very long."""
    card = _render(message, now, message.blocks)
    blocks = list(message.blocks)
    while len(json.dumps(card)) > MAX_CARD_CHARS and blocks:
        blocks.pop()
        cut = (*blocks, Section(("(The rest was too long for one Teams message.)",)))
        card = _render(message, now, tuple(cut))
    return card


def _render(message: OutMessage, now: datetime, blocks: Sequence[Block]) -> Json:
    builder = CardBuilder(now)
    if message.title:
        builder.heading(message.title, size="Medium")
    for block in blocks:
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
    card: Json = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": builder.body,
        "fallbackText": plain(message.fallback),
        "msteams": {"width": "Full"},
    }
    actions = [button_action(b) for b in message.buttons]
    if len(actions) <= ACTIONS_PER_ROW:
        if actions:
            card["actions"] = actions
    else:
        for start in range(0, len(actions), ACTIONS_PER_ROW):
            card["body"].append(
                {"type": "ActionSet", "actions": actions[start : start + ACTIONS_PER_ROW]}
            )
    if builder.entities:
        card["msteams"]["entities"] = builder.entities
    return card


def attachment_for(card: Json) -> Json:
    return {"contentType": CARD_CONTENT_TYPE, "content": card}
