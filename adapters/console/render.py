"""Neutral messages as terminal text."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.messages import (
    Countdown,
    Divider,
    Fields,
    Image,
    Inline,
    Link,
    ListBlock,
    Mention,
    OutMessage,
    Section,
    Strong,
    Text,
)
from bot.parsing import human_duration

WIDTH = 88


def inline(part: Inline) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Mention):
        return "@" + part.name
    if isinstance(part, Strong):
        return part.text
    if isinstance(part, Link):
        return f"{part.label} <{part.url}>" if part.label else part.url
    raise TypeError(part)


def flat(value: Text) -> str:
    return "".join(inline(p) for p in value)


def _wrap(body: str, indent: str = "") -> list[str]:
    lines: list[str] = []
    for paragraph in body.split("\n"):
        lines.extend(
            textwrap.wrap(
                paragraph,
                WIDTH - len(indent),
                initial_indent=indent,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
            or [indent.rstrip()]
        )
    return lines


def countdown_line(countdown: Countdown, now: datetime, zone: ZoneInfo) -> str:
    left = human_duration_clock(countdown.remaining(now))
    total = human_duration_clock(countdown.total_seconds)
    if countdown.paused:
        return f"{countdown.label}: paused with {left} left of {total}"
    assert countdown.ends_at is not None
    end = countdown.ends_at.astimezone(zone)
    ends = end.strftime("%H:%M" if end.date() == now.astimezone(zone).date() else "%a %d %b %H:%M")
    return f"{countdown.label}: {left} left of {total} (ends {ends})"


def human_duration_clock(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    if minutes >= 60:
        return human_duration(timedelta(seconds=seconds))
    return f"{minutes}:{secs:02d}"


def render(
    message: OutMessage,
    *,
    now: datetime,
    zone: ZoneInfo,
    button_id: Callable[[int], str] | None = None,
    form_id: str | None = None,
) -> list[str]:
    """Lines (without the frame) for one message; ``button_id(i)`` names the i-th button."""
    out: list[str] = []
    if message.title:
        out.append(message.title)
        out.append("-" * min(WIDTH, len(message.title)))
    for block in message.blocks:
        if isinstance(block, Section):
            if block.heading:
                out.append(block.heading + ":")
            out.extend(_wrap(flat(block.body), "  " if block.heading else ""))
        elif isinstance(block, Fields):
            for field in block.fields:
                out.extend(_wrap(f"{field.label}: {flat(field.value)}"))
        elif isinstance(block, ListBlock):
            if block.heading:
                out.append(block.heading + ":")
            if not block.items:
                out.append("  " + block.empty_text)
            for i, item in enumerate(block.items, 1):
                mark = f"{i}." if block.ordered else "-"
                body = flat(item.body) + (f"  [{item.marker}]" if item.marker else "")
                wrapped = _wrap(body, "    ")
                wrapped[0] = f"  {mark} " + wrapped[0].lstrip()
                out.extend(wrapped)
        elif isinstance(block, Countdown):
            out.append("(timer) " + countdown_line(block, now, zone))
        elif isinstance(block, Image):
            out.append(f"[picture: {block.title or 'chart'}] {block.alt}")
        elif isinstance(block, Divider):
            out.append("")
    if message.form is not None:
        form = message.form
        label = f"[{form_id}] " if form_id else ""
        out.append(f"{label}{form.title}:")
        for entry in form.inputs:
            extra = ""
            if entry.choices:
                extra = " (" + " | ".join(c.value for c in entry.choices) + ")"
            elif entry.kind == "date":
                extra = " (a date, e.g. 2026-12-04)"
            optional = ", optional" if entry.optional else ""
            filled = f" [{entry.initial}]" if entry.initial else ""
            wrapped = _wrap(f"{entry.input_id}{extra}{optional}: {entry.label}{filled}", "    ")
            wrapped[0] = "  " + wrapped[0].lstrip()
            out.extend(wrapped)
        if form.text_command:
            out.append(f"  Answer with: {form.text_command}")
        elif form_id:
            out.append(f'  Answer with: /submit {form_id} {form.inputs[0].input_id}="..." ...')
    if message.buttons:
        labels = []
        for i, button in enumerate(message.buttons):
            ident = f"{button_id(i)} " if button_id else ""
            labels.append(f"[{ident}{button.label}]")
        out.extend(_wrap("  ".join(labels)))
    if message.attachment is not None:
        out.append(f"(file) {message.attachment.filename}")
    if message.footer:
        out.extend(_wrap(message.footer, ""))
    return out
