"""The neutral outbound message model.

The core describes *what* to show (a title, sections, a list, buttons, a form, a countdown);
each adapter decides *how*: Block Kit in Slack, an Adaptive Card in Teams, text in a terminal.
All strings here are plain text. Adapters escape them for their platform, so text a user typed
can never turn into markup or an ``@channel`` ping; the only way to mention someone is an
explicit :class:`Mention`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class Mention:
    """A member by platform user id; a real mention where the platform has them."""

    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Strong:
    text: str


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    label: str | None = None


Inline = str | Mention | Strong | Link
Text = tuple[Inline, ...]


def text(*parts: Inline | None) -> Text:
    """Builds a :data:`Text` from parts, dropping ``None`` so optional bits read naturally."""
    return tuple(p for p in parts if p is not None and p != "")


def plain(value: Text | str) -> str:
    """The text without formatting, for logs, fallbacks and search."""
    if isinstance(value, str):
        return value
    out: list[str] = []
    for part in value:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Mention):
            out.append("@" + part.name)
        elif isinstance(part, Strong):
            out.append(part.text)
        else:
            out.append(part.label or part.url)
    return "".join(out)


def as_text(value: Text | str) -> Text:
    return (value,) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Section:
    body: Text
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: Text


@dataclass(frozen=True, slots=True)
class Fields:
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class ListItem:
    body: Text
    marker: str | None = None  # a short status mark ("done", "3 left") shown beside the item


@dataclass(frozen=True, slots=True)
class ListBlock:
    items: tuple[ListItem, ...]
    heading: str | None = None
    ordered: bool = False
    empty_text: str = "(none)"


LONG_COUNTDOWN_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class Countdown:
    """A step timer. Running: ``ends_at`` is set. Paused: ``remaining_seconds`` is frozen."""

    label: str
    total_seconds: int
    ends_at: datetime | None = None
    remaining_seconds: int | None = None

    @property
    def paused(self) -> bool:
        return self.ends_at is None

    def remaining(self, now: datetime) -> int:
        if self.ends_at is None:
            return max(0, self.remaining_seconds or 0)
        return max(0, int((self.ends_at - now).total_seconds()))

    def ends_far(self, now: datetime) -> bool:
        """Far enough off (an asynchronous step) that a time of day alone could mean today or
        tomorrow: a renderer that can't tell the reader's date names the day as well."""
        return self.remaining(now) >= LONG_COUNTDOWN_SECONDS


@dataclass(frozen=True, slots=True)
class Image:
    """A picture (a chart). Platforms that show images get the PNG; others get ``alt``."""

    png: bytes = field(repr=False)
    alt: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Divider:
    pass


Block = Section | Fields | ListBlock | Countdown | Image | Divider


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"
    confirm: str | None = None  # ask "are you sure?" with this text before acting


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Input:
    input_id: str
    label: str
    kind: Literal["text", "multiline", "date", "choice"] = "text"
    choices: tuple[Choice, ...] = ()
    initial: str | None = None
    placeholder: str | None = None
    optional: bool = False
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class Form:
    """Inputs submitted together as one :class:`~bot.events.ActionEvent` (``action_id``, ``value``).

    Slack opens it as a modal, Teams shows it as card inputs. ``text_command`` tells text-only
    surfaces (the console) which command does the same thing, e.g. ``/reflect answer 12 TEXT``.
    """

    action_id: str
    title: str
    inputs: tuple[Input, ...]
    value: str = ""
    submit_label: str = "Submit"
    text_command: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file for the user (a CSV export, a Markdown record)."""

    filename: str
    content: bytes = field(repr=False)
    mime: str = "text/plain"


@dataclass(frozen=True, slots=True)
class OutMessage:
    title: str | None = None
    blocks: tuple[Block, ...] = ()
    buttons: tuple[Button, ...] = ()
    form: Form | None = None
    footer: str | None = None
    attachment: Attachment | None = None

    @property
    def fallback(self) -> str:
        """A one-line plain summary for notifications and accessibility."""
        if self.title:
            return self.title
        for block in self.blocks:
            if isinstance(block, Section):
                return plain(block.body)[:300]
        return "plcbot"


def say(*parts: Inline | None, title: str | None = None) -> OutMessage:
    """The common case: one paragraph of text."""
    return OutMessage(title=title, blocks=(Section(text(*parts)),))


def bullet_list(
    lines: Iterable[Text | str], heading: str | None = None, *, ordered: bool = False
) -> ListBlock:
    return ListBlock(tuple(ListItem(as_text(line)) for line in lines), heading, ordered)
