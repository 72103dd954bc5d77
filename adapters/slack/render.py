"""Neutral messages as Block Kit, built with ``slack_sdk.models.blocks``.

Text from people goes in ``plain_text`` objects where a block allows it (Slack never parses
those) and is escaped everywhere else (see :mod:`adapters.slack.mrkdwn`). Block Kit's limits are
respected by construction: sections are cut at 3000 characters, fields go ten to a section, and
a message with more than 50 blocks becomes several messages. Pictures and files cannot travel
inside blocks without a public URL, so they come back as :class:`Upload`\\ s for the messenger
to send beside the message.

What comes out is Block Kit's JSON, and the JSON of each piece that depends only on its
neutral value (a section, a list, a title) is kept in a small cache; so is the layout of a row
of buttons and of a form's offer, into which each message's own values are filled. Neutral
blocks are immutable values, and the same ones are sent again and again: a round of reflection
prompts repeats all but its buttons' values for thousands of members, ``/protocol list``
answers the same every time. Turning ``slack_sdk``'s models into dicts is most of the cost of a
message (a third of a reflection prompt's CPU before this cache), so the cached JSON is shared:
nothing downstream may change it (the messenger only serialises it).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from adapters.slack import mrkdwn
from adapters.slack.forms import FORM_OPEN_ACTION, encode_form
from bot.messages import (
    Attachment,
    Button,
    Countdown,
    Divider,
    Fields,
    Form,
    Image,
    ListBlock,
    OutMessage,
    Section,
    Text,
)
from bot.messages import (
    Block as NeutralBlock,
)

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_CHARS = 3000
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
HEADER_CHARS = 150
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
ACTION_ID_CHARS = 255
BUTTONS_PER_ROW = 25
CONTEXT_CHARS = 2000
FALLBACK_CHARS = 3000
ALT_CHARS = 1000
ACTION_SUFFIX = "#"  # action ids must be unique in a message; the suffix is removed on the way in
CACHED_PIECES = 1024  # neutral pieces whose JSON is kept (see the module's docstring)

BlockJson = dict[str, Any]  # one Block Kit block as Slack's API takes it; shared, never changed
# Stands for a per-message string (a button's value, a form offer's text) in a cached layout.
_VALUE_SLOT = "\x00plcbot-slot\x00"


class RenderError(ValueError):
    """The message cannot be shown in Slack as built (a button value over Slack's limit)."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes = field(repr=False)
    title: str
    alt: str | None = None


@dataclass(frozen=True)
class Rendered:
    chunks: list[list[BlockJson]]  # one Slack message each, at most 50 blocks
    fallback: str  # the notification text, already escaped
    uploads: list[Upload]


def truncate(value: str, limit: int) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def plain(value: str) -> PlainTextObject:
    return PlainTextObject(text=value or " ", emoji=True)


def md(value: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn names or words into links or mentions on its own.
    return MarkdownTextObject(text=value or " ", verbatim=True)


def fallback_text(message: OutMessage) -> str:
    return mrkdwn.escape(truncate(message.fallback, FALLBACK_CHARS))


def strip_action_suffix(action_id: str) -> str:
    """The feature's own action id, from the unique one a button carried."""
    base, sep, index = action_id.rpartition(ACTION_SUFFIX)
    return base if sep and index.isdigit() else action_id


# -- blocks --------------------------------------------------------------------------------


def _json(blocks: Iterable[Block]) -> tuple[BlockJson, ...]:
    return tuple(block.to_dict() for block in blocks)


def _text_sections(body: Text, heading: str | None) -> list[Block]:
    if heading is None and mrkdwn.is_plain(body):
        text = "".join(str(p) for p in body)
        return [SectionBlock(text=plain(piece)) for piece in mrkdwn.split(text, SECTION_CHARS)]
    rendered = mrkdwn.render(body)
    if heading:
        rendered = f"{mrkdwn.bold(heading)}\n{rendered}"
    return [SectionBlock(text=md(piece)) for piece in mrkdwn.split(rendered, SECTION_CHARS)]


def _fields(block: Fields) -> list[Block]:
    out: list[Block] = []
    items = [
        md(
            truncate(
                f"{mrkdwn.bold(f.label)}\n{mrkdwn.render(f.value)}",
                FIELD_CHARS,
            )
        )
        for f in block.fields
    ]
    for start in range(0, len(items), FIELDS_PER_SECTION):
        out.append(SectionBlock(fields=items[start : start + FIELDS_PER_SECTION]))
    return out


def _list(block: ListBlock) -> list[Block]:
    lines: list[str] = []
    if block.heading:
        lines.append(mrkdwn.bold(block.heading))
    if not block.items:
        lines.append(f"_{mrkdwn.escape(block.empty_text)}_")
    for number, item in enumerate(block.items, 1):
        mark = f"{number}." if block.ordered else "•"
        line = f"{mark} {mrkdwn.render(item.body)}"
        if item.marker:
            line += f"  _({mrkdwn.escape(item.marker)})_"
        lines.append(line)
    return [SectionBlock(text=md(p)) for p in mrkdwn.split("\n".join(lines), SECTION_CHARS)]


def _clock(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def countdown_text(countdown: Countdown, now: datetime) -> str:
    label = mrkdwn.bold(countdown.label)
    left, total = _clock(countdown.remaining(now)), _clock(countdown.total_seconds)
    if countdown.ends_at is None:
        return f":double_vertical_bar: {label}: paused with {left} left of {total}"
    epoch = int(countdown.ends_at.timestamp())
    # <!date^...> shows the end time in each reader's own time zone; a step that runs for days
    # (an asynchronous session) names the day too.
    far = countdown.ends_far(now)
    shown = "{date_short_pretty} {time}" if far else "{time}"
    fallback = countdown.ends_at.strftime("%a %d %b %H:%M UTC" if far else "%H:%M UTC")
    return (
        f":hourglass_flowing_sand: {label}: {left} left of {total}, "
        f"ends {'' if far else 'at '}<!date^{epoch}^{shown}|{fallback}>"
    )


def _image(block: Image, *, uploads: list[Upload] | None) -> list[Block]:
    title = block.title or "Chart"
    if uploads is not None:
        uploads.append(
            Upload(
                filename=_png_name(title),
                content=block.png,
                title=truncate(title, 200),
                alt=truncate(block.alt, ALT_CHARS),
            )
        )
        note = f":bar_chart: {mrkdwn.escape(title)} (the picture follows this message)"
        return [ContextBlock(elements=[md(truncate(note, CONTEXT_CHARS))])]
    return _text_sections((block.alt,), title)


def _png_name(title: str) -> str:
    stem = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")
    return (stem[:60] or "chart") + ".png"


def _check_value(action_id: str, value: str) -> None:
    if len(value) > BUTTON_VALUE_CHARS:
        raise RenderError(
            f"button {action_id!r} carries {len(value)} characters; Slack allows "
            f"{BUTTON_VALUE_CHARS}"
        )


def button_element(button: Button, index: int) -> ButtonElement:
    _check_value(button.action_id, button.value)
    action_id = f"{button.action_id}{ACTION_SUFFIX}{index}"
    if len(action_id) > ACTION_ID_CHARS:
        raise RenderError(f"action id {button.action_id[:40]!r}... is too long for Slack")
    confirm = None
    if button.confirm:
        confirm = ConfirmObject(
            title=plain("Are you sure?"),
            text=plain(truncate(button.confirm, 300)),
            confirm=plain("Yes"),
            deny=plain("Cancel"),
        )
    return ButtonElement(
        text=plain(truncate(button.label, BUTTON_LABEL_CHARS)),
        action_id=action_id,
        value=button.value or None,
        style=None if button.style == "default" else button.style,
        confirm=confirm,
    )


def _buttons(buttons: tuple[Button, ...]) -> tuple[BlockJson, ...]:
    """Rows of buttons: their layout comes from the cache, each button's value is filled in.

    The values are what differ between otherwise equal messages (the delivery a reflection
    prompt's skip button names, the session a protocol's buttons act on).
    """
    for button in buttons:
        _check_value(button.action_id, button.value)
    layout = _button_rows(tuple(replace(b, value=_VALUE_SLOT) if b.value else b for b in buttons))
    return _filled(layout, [b.value for b in buttons if b.value])


@functools.lru_cache(maxsize=CACHED_PIECES)
def _button_rows(buttons: tuple[Button, ...]) -> tuple[BlockJson, ...]:
    elements = [button_element(b, i) for i, b in enumerate(buttons)]
    return _json(
        ActionsBlock(elements=elements[start : start + BUTTONS_PER_ROW])
        for start in range(0, len(elements), BUTTONS_PER_ROW)
    )


def _filled(rows: tuple[BlockJson, ...], values: list[str]) -> tuple[BlockJson, ...]:
    """``rows`` with each button that holds :data:`_VALUE_SLOT` given the next of ``values``."""
    if not values:
        return rows
    left = iter(values)
    return tuple(
        {
            **row,
            "elements": [
                {**e, "value": next(left)} if e.get("value") == _VALUE_SLOT else e
                for e in row["elements"]
            ],
        }
        for row in rows
    )


def _form_offer(form: Form, *, button_index: int) -> tuple[BlockJson, ...]:
    """A form inside a message: a button that opens it as a modal, and the typed alternative.

    Each member's form names their own delivery (in the typed command and in the button's
    value), so only the layout is cached and those two strings are filled in.
    """
    lines = [mrkdwn.bold(form.title)]
    encoded = encode_form(form)
    can_open = len(encoded) <= BUTTON_VALUE_CHARS
    if form.text_command:
        hint = "Or type" if can_open else "Answer by typing"
        lines.append(f"{hint}: `{mrkdwn.escape(form.text_command)}`")
    section, button = _offer_layout(form.submit_label, button_index)
    text = truncate("\n".join(lines), SECTION_CHARS)
    offer = {**section, "text": {**section["text"], "text": text}}
    if not can_open:
        return (offer,)
    return (offer, *_filled(button, [encoded]))


@functools.lru_cache(maxsize=CACHED_PIECES)
def _offer_layout(submit_label: str, button_index: int) -> tuple[BlockJson, tuple[BlockJson, ...]]:
    (section,) = _json([SectionBlock(text=md(_VALUE_SLOT))])
    button = ButtonElement(
        text=plain(truncate(submit_label or "Open", BUTTON_LABEL_CHARS)),
        action_id=f"{FORM_OPEN_ACTION}{ACTION_SUFFIX}{button_index}",
        value=_VALUE_SLOT,
        style="primary",
    )
    return section, _json([ActionsBlock(elements=[button])])


@functools.lru_cache(maxsize=CACHED_PIECES)
def _header(title: str) -> tuple[BlockJson, ...]:
    return _json([HeaderBlock(text=plain(truncate(title, HEADER_CHARS)))])


@functools.lru_cache(maxsize=CACHED_PIECES)
def _footer(footer: str) -> tuple[BlockJson, ...]:
    return _json([ContextBlock(elements=[plain(truncate(footer, CONTEXT_CHARS))])])


def blocks_for(
    message: OutMessage, *, now: datetime, uploads: list[Upload] | None = None
) -> list[BlockJson]:
    """Every block of ``message`` in order; ``uploads`` collects pictures and files to send."""
    out: list[BlockJson] = []
    if message.title:
        out.extend(_header(message.title))
    for block in message.blocks:
        out.extend(_block(block, now=now, uploads=uploads))
    if message.form is not None:
        out.extend(_form_offer(message.form, button_index=len(message.buttons)))
    if message.buttons:
        out.extend(_buttons(message.buttons))
    if message.footer:
        out.extend(_footer(message.footer))
    if message.attachment is not None and uploads is not None:
        uploads.append(_attachment(message.attachment))
    if not out:
        out.append(SectionBlock(text=plain(message.fallback)).to_dict())
    return out


def _block(
    block: NeutralBlock, *, now: datetime, uploads: list[Upload] | None
) -> tuple[BlockJson, ...]:
    if isinstance(block, Countdown):  # changes with the time: never cached
        return _json([ContextBlock(elements=[md(countdown_text(block, now))])])
    if isinstance(block, Image):  # a picture goes out as an upload, or as its description
        return _json(_image(block, uploads=uploads))
    return _static(block)


@functools.lru_cache(maxsize=CACHED_PIECES)
def _static(block: NeutralBlock) -> tuple[BlockJson, ...]:
    """The JSON of a block that depends on nothing but itself."""
    if isinstance(block, Section):
        return _json(_text_sections(block.body, block.heading))
    if isinstance(block, Fields):
        return _json(_fields(block))
    if isinstance(block, ListBlock):
        return _json(_list(block))
    if isinstance(block, Divider):
        return _json([DividerBlock()])
    raise TypeError(f"unknown block {block!r}")


def _attachment(attachment: Attachment) -> Upload:
    return Upload(
        filename=attachment.filename,
        content=attachment.content,
        title=truncate(attachment.filename, 200),
    )


def render_message(message: OutMessage, *, now: datetime, with_uploads: bool = True) -> Rendered:
    """A message as one or more Slack messages (50 blocks each) plus files to upload."""
    uploads: list[Upload] = []
    blocks = blocks_for(message, now=now, uploads=uploads if with_uploads else None)
    chunks = [blocks[i : i + MESSAGE_BLOCKS] for i in range(0, len(blocks), MESSAGE_BLOCKS)]
    return Rendered(chunks=chunks, fallback=fallback_text(message), uploads=uploads)


def view_blocks(message: OutMessage, *, now: datetime) -> list[BlockJson]:
    """Blocks for a view (App Home): at most 100, and no uploads (views cannot carry files)."""
    blocks = blocks_for(message, now=now, uploads=None)
    if len(blocks) > VIEW_BLOCKS:
        blocks = blocks[: VIEW_BLOCKS - 1]
        blocks.extend(_json([ContextBlock(elements=[plain("There is more than fits here.")])]))
    return blocks
