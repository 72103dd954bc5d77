"""Dates and times as people read them in chat, in their own time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def day(value: date, today: date | None = None) -> str:
    """``Fri 4 Dec``; ``today``/``tomorrow`` when close; the year only when it differs."""
    if today is not None:
        delta = (value - today).days
        if delta == 0:
            return "today"
        if delta == 1:
            return "tomorrow"
        if delta == -1:
            return "yesterday"
    text = f"{value:%a} {value.day} {value:%b}"
    if today is not None and value.year != today.year:
        text += f" {value.year}"
    return text


def clock(moment: datetime, zone: ZoneInfo) -> str:
    return local(moment, zone).strftime("%H:%M")


def when(moment: datetime, zone: ZoneInfo, now: datetime | None = None) -> str:
    """``today 15:00``, ``Fri 4 Dec 15:00`` in ``zone``."""
    here = local(moment, zone)
    today = local(now, zone).date() if now is not None else None
    return f"{day(here.date(), today)} {here:%H:%M}"


def span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """When something ran, for a record read later: the year always, and both days when it
    ran past midnight (an asynchronous session takes days; ``09:00-09:05`` would hide that).

    ``Tue 1 Dec 2026, 09:00-09:05``; ``Tue 1 Dec 09:00 – Fri 4 Dec 2026 09:05``.
    """
    first, last = local(start, zone), local(end, zone)
    if first.date() == last.date():
        return f"{day(first.date())} {first:%Y}, {first:%H:%M}-{last:%H:%M}"
    opening = day(first.date()) + (f" {first.year}" if first.year != last.year else "")
    return f"{opening} {first:%H:%M} – {day(last.date())} {last:%Y} {last:%H:%M}"
