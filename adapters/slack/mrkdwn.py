"""Neutral text as Slack ``mrkdwn``, safely.

Slack parses ``<...>`` in mrkdwn as links, user mentions and the dreaded ``<!channel>`` and
``<!here>``. Escaping ``&``, ``<`` and ``>`` (and nothing else, as Slack's formatting guide says)
in every string that came from a person makes all of those inert. The only ``<@U...>`` the bot
ever writes comes from an explicit :class:`~bot.messages.Mention`; the only ``<url|label>`` from a
:class:`~bot.messages.Link` whose URL passed a strict check.
"""

from __future__ import annotations

import re

from bot.messages import Inline, Link, Mention, Strong, Text

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_SAFE_URL = re.compile(r"^(https?://|mailto:)[^\s<>|]+$", re.IGNORECASE)


def escape(value: str) -> str:
    """Make text inert in mrkdwn (and in the top-level ``text`` of a message)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bold(value: str) -> str:
    """``*value*``, or plain when the value itself would break the bold markers."""
    body = value.strip()
    if not body or "*" in body or "\n" in body:
        return escape(value)
    return f"*{escape(body)}*"


def inline(part: Inline) -> str:
    if isinstance(part, str):
        return escape(part)
    if isinstance(part, Mention):
        if _USER_ID.match(part.user_id):
            return f"<@{part.user_id}>"
        return escape("@" + part.name)  # not a Slack user id: show the name, never a ping
    if isinstance(part, Strong):
        return bold(part.text)
    if isinstance(part, Link):
        label = part.label or part.url
        if not _SAFE_URL.match(part.url):
            return escape(label if part.label is None else f"{part.label} ({part.url})")
        return f"<{escape(part.url)}|{escape(label)}>"
    raise TypeError(f"unknown inline {part!r}")


def render(text: Text) -> str:
    return "".join(inline(p) for p in text)


def is_plain(text: Text) -> bool:
    """Only strings: the text can go in a ``plain_text`` object, which Slack never parses."""
    return all(isinstance(p, str) for p in text)


def split(body: str, limit: int) -> list[str]:
    """Cut rendered mrkdwn into pieces of at most ``limit`` characters.

    Cuts fall between paragraphs, else lines, else words, and never inside an ``&amp;``
    entity or a ``<...>`` token, so each piece renders on its own.
    """
    pieces: list[str] = []
    rest = body
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return [p for p in pieces if p] or [""]


def _cut_point(text: str, limit: int) -> int:
    window = text[: limit + 1]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator, 0, limit)
        if at > limit // 3:
            return _outside_tokens(text, at)
    return _outside_tokens(text, limit)


def _outside_tokens(text: str, at: int) -> int:
    """Move a cut back so it does not split ``<@U123>``, ``<url|label>`` or ``&amp;``."""
    opened = text.rfind("<", 0, at)
    if opened != -1 and text.rfind(">", 0, at) < opened:
        at = opened
    amp = text.rfind("&", max(0, at - 5), at)
    if amp != -1 and ";" not in text[amp:at]:
        at = amp
    return max(at, 1)
