"""Reading ``/commit TEXT [by DATE] [with @peer ...] [#B3] [#private] [know: HOW]``.

People write the parts in either order ("... with @ben by Friday", "... by Friday with @ben"),
so trailing clauses are peeled off the end one at a time. The last "by" wins, so "Read the
chapter by Hattie by Friday" works. Mentions are matched against the names the platform
resolved (display names may contain spaces) before anything is split on spaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import UserError
from bot.indicators import parse_codes

SHARED = "shared"
PRIVATE = "private"

_OPEN, _CLOSE = "\ue000", "\ue001"  # placeholders for resolved mentions while parsing
_HASHTAG = re.compile(r"(?<!\S)#([A-Za-z][A-Za-z0-9]*)(?=[\s,.;]|$)")
_CODE_LIKE = re.compile(r"^[A-Za-z][0-9]?$")
_PERSON = rf"(?:@[\w.\-]+|{_OPEN}\d+{_CLOSE})"
_WITH = re.compile(
    rf"^(?:(.*?)[\s,]+)?with\s+({_PERSON}(?:\s*(?:,|\band\b|&)?\s*{_PERSON})*)\s*[.,]?\s*$",
    re.IGNORECASE | re.DOTALL,
)
# The words that introduce a due date; a command with one and nothing after it is asked "by when?".
DATE_WORDS = ("by", "due", "due by", "due on")
_BY = re.compile(r"^(?:(.*)\s)?(?:by|due(?:\s+on|\s+by)?)\s+(.+?)\s*$", re.IGNORECASE | re.DOTALL)
_KNOW = re.compile(r"(?:^|\s)know:\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CommitText:
    what: str
    due_text: str | None = None
    peers: tuple[str, ...] = ()  # "@name" tokens, in the text's own spelling
    indicators: tuple[str, ...] = ()
    visibility: str | None = None  # set only when the text says #private or #shared
    how_know: str | None = None


def parse_commit_text(raw: str, mentioned: Sequence[str] = ()) -> CommitText:
    """Split a commitment as typed into its parts; ``mentioned`` are resolved display names."""
    text, names = _hide_mentions(raw, mentioned)
    text, codes, visibility = _hashtags(text)
    how_know: str | None = None
    found = _KNOW.search(text)
    if found:
        how_know = _restore(text[found.end() :], names).strip() or None
        text = text[: found.start()]
    due_text: str | None = None
    peers: list[str] = []
    while True:
        match = _WITH.match(text)
        if match and not peers:
            peers = [_restore(p, names) for p in re.findall(_PERSON, match[2])]
            text = match[1] or ""
            continue
        match = _BY.match(text)
        if match and due_text is None:
            due_text = _restore(match[2], names).strip()
            text = match[1] or ""
            continue
        break
    what = _restore(text, names).strip().rstrip(",;:-").strip()
    return CommitText(what, due_text, tuple(peers), codes, visibility, how_know)


def _hide_mentions(text: str, mentioned: Sequence[str]) -> tuple[str, list[str]]:
    names: list[str] = []
    for name in sorted({n for n in mentioned if n}, key=len, reverse=True):
        pattern = re.compile(r"@" + re.escape(name) + r"(?![\w])", re.IGNORECASE)
        if pattern.search(text):
            placeholder = f"{_OPEN}{len(names)}{_CLOSE}"
            names.append("@" + name)
            text = pattern.sub(placeholder, text)
    return text, names


def _restore(text: str, names: Sequence[str]) -> str:
    return re.sub(rf"{_OPEN}(\d+){_CLOSE}", lambda m: names[int(m[1])], text)


def _hashtags(text: str) -> tuple[str, tuple[str, ...], str | None]:
    codes: list[str] = []
    visibility: str | None = None

    def take(match: re.Match[str]) -> str:
        nonlocal visibility
        word = match[1]
        if word.lower() in (PRIVATE, SHARED):
            visibility = word.lower()
            return ""
        if not _CODE_LIKE.match(word):
            return match[0]  # an ordinary hashtag stays part of the text
        try:
            codes.extend(parse_codes(word))
        except ValueError:
            raise UserError(
                f"#{word} isn't one of the standard's indicators. The codes are A1-A5, "
                "B1-B4 and C1-C5 (or A, B, C for a whole element)."
            ) from None
        return ""

    text = _HASHTAG.sub(take, text)
    return re.sub(r"\s+", " ", text).strip(), tuple(dict.fromkeys(codes)), visibility
