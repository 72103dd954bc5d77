"""Reading a school's ICS calendar for its quiet days (breaks, holidays, testing windows).

School calendars hold every kind of event (picture day, back-to-school night); only events whose
title or categories contain one of the quiet words (``PLCBOT_CALENDAR_QUIET_WORDS``) make days
quiet. Recurring events are expanded with ``recurring-ical-events`` (RRULE, EXDATE, RDATE).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
import icalendar
import recurring_ical_events

log = logging.getLogger(__name__)

MAX_BYTES = 2_000_000
FETCH_TIMEOUT = 20.0


class CalendarError(Exception):
    """The calendar could not be read; the message says why in words a lead can act on."""


def quiet_ranges_from_ics(
    data: bytes, words: Sequence[str], first: date, last: date
) -> list[tuple[date, date, str]]:
    """(first day, last day, title) of every quiet event between ``first`` and ``last``."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise CalendarError(f"that file is not an ICS calendar ({exc})") from None
    if not isinstance(calendar, icalendar.Calendar):
        raise CalendarError("that file is not an ICS calendar")
    try:
        events = recurring_ical_events.of(calendar, skip_bad_series=True).between(
            first, last + timedelta(days=1)
        )
    except Exception as exc:  # the library raises several kinds for malformed series
        raise CalendarError(f"the calendar has an event I can't read ({exc})") from None
    found: list[tuple[date, date, str]] = []
    for event in events:
        title = str(event.get("SUMMARY", "")).strip() or "School calendar"
        categories = _categories(event)
        haystack = " ".join([title, *categories]).lower()
        if not any(word in haystack for word in words):
            continue
        start, end = event.get("DTSTART"), event.get("DTEND")
        if start is None:
            continue
        start_day = _day(start.dt)
        if end is not None:
            end_value = end.dt
            # DTEND is exclusive: an all-day event ending on the 3rd covers up to the 2nd, and
            # a timed event ending at midnight does not touch the next day.
            last_day = _day(end_value)
            if not isinstance(end_value, datetime) or end_value.time() == datetime.min.time():
                last_day -= timedelta(days=1)
            last_day = max(last_day, start_day)
        else:
            last_day = start_day
        found.append((start_day, last_day, title[:200]))
    return sorted(set(found))


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _categories(event: icalendar.cal.Component) -> list[str]:
    raw = event.get("CATEGORIES")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for item in items:
        cats = getattr(item, "cats", None)
        names.extend(str(c) for c in (cats if cats is not None else [item]))
    return names


async def read_source(source: str, *, allow_files: bool) -> bytes:
    """The calendar's bytes from an http(s) URL, or a file path (only from the deployment)."""
    if source.startswith(("http://", "https://", "webcal://")):
        url = "https://" + source[len("webcal://") :] if source.startswith("webcal://") else source
        return await _fetch(url)
    if not allow_files:
        raise CalendarError("give the calendar's web address (it starts with https://)")
    path = Path(source)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise CalendarError(f"cannot read {source}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise CalendarError(f"{source} is larger than {MAX_BYTES // 1_000_000} MB")
    return data


async def _fetch(url: str) -> bytes:
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, allow_redirects=True, max_redirects=3) as response,
        ):
            if response.status != 200:
                raise CalendarError(f"the calendar's address answered HTTP {response.status}")
            data = await response.content.read(MAX_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CalendarError(f"could not download the calendar ({type(exc).__name__})") from None
    if len(data) > MAX_BYTES:
        raise CalendarError(f"the calendar is larger than {MAX_BYTES // 1_000_000} MB")
    return data
