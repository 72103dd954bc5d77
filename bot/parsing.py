"""Reading what people type: cleaning text, splitting arguments, finding @mentions."""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import timedelta

from bot.errors import UserError
from bot.events import MemberRef

_CONTROL = {"Cc", "Cf", "Co", "Cs"}
_KEEP = {"\n", "\t"}


def clean_text(raw: str, *, limit: int, what: str = "text", allow_empty: bool = False) -> str:
    """Strip control characters and surrounding space; refuse empty or over-long text.

    Limits are stated to the user in characters, because that is what they can count.
    """
    cleaned = "".join(
        ch for ch in raw if ch in _KEEP or unicodedata.category(ch) not in _CONTROL
    ).strip()
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    if not cleaned and not allow_empty:
        raise UserError(f"The {what} is empty; please write something.")
    if len(cleaned) > limit:
        raise UserError(
            f"The {what} is {len(cleaned):,} characters long; please keep it under {limit:,}."
        )
    return cleaned


def split_args(text: str) -> list[str]:
    """Split like a shell where quotes are balanced, on spaces where they are not ("I'll")."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def first_word(text: str) -> tuple[str, str]:
    """``"start tuning @maria"`` -> ``("start", "tuning @maria")``; the word lower-cased."""
    parts = text.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1] if len(parts) > 1 else ""


def normalise_name(name: str) -> str:
    return re.sub(r"[\s._-]+", "", name.strip().lstrip("@").casefold())


def find_mention(token: str, mentions: Sequence[MemberRef]) -> MemberRef | None:
    """Match an ``@name`` token to one of the members the platform resolved in the text."""
    wanted = normalise_name(token)
    for ref in mentions:
        if wanted in (normalise_name(ref.display_name), normalise_name(ref.user_id)):
            return ref
    return None


_DURATION = re.compile(
    r"^\+?\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|wk|wks)$"
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


MAX_DURATION = timedelta(days=3650)


class DurationTooLong(UserError):
    """A length of time past :data:`MAX_DURATION` (``99999999999d``)."""


def parse_duration(text: str) -> timedelta:
    """``10m``, ``+2h``, ``2d``, ``90s`` -> a timedelta; anything else raises :class:`UserError`."""
    total = 0.0
    parts = re.findall(r"\+?\s*\d+(?:\.\d+)?\s*[a-z]+", text.strip().lower())
    if not parts or "".join(parts).replace(" ", "") != text.strip().lower().replace(" ", ""):
        raise UserError(f"I couldn't read {text!r} as a length of time; try 10m, 2h or 2d.")
    for part in parts:
        match = _DURATION.match(part.strip())
        if not match:
            raise UserError(f"I couldn't read {text!r} as a length of time; try 10m, 2h or 2d.")
        total += float(match.group(1)) * _UNITS[match.group(2)[0]]
    if total > MAX_DURATION.total_seconds():  # also what a timedelta could not hold at all
        typed = text.strip()
        raise DurationTooLong(
            f"{typed if len(typed) <= 20 else typed[:19] + '…'!r} is longer than anything "
            "plcbot schedules; keep it under 10 years."
        )
    return timedelta(seconds=total)


def human_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    import difflib

    options = list(choices)
    found = difflib.get_close_matches(word.lower(), options, n=n, cutoff=0.5)
    found += [c for c in options if word and c.startswith(word.lower()) and c not in found]
    return found[:n]
