"""Reading a school's ICS calendar for its quiet days (breaks, holidays, testing windows).

School calendars hold every kind of event (picture day, back-to-school night); only events whose
title or categories contain one of the quiet words (``PLCBOT_CALENDAR_QUIET_WORDS``) make days
quiet. Recurring events are expanded with ``recurring-ical-events`` (RRULE, EXDATE, RDATE).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
import aiohttp.abc
import icalendar
import recurring_ical_events
from yarl import URL

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


async def read_source(source: str, *, allow_files: bool, allow_private: bool = True) -> bytes:
    """The calendar's bytes from an http(s) URL, or a file path (only from the deployment).

    ``allow_private=False`` is for addresses typed in chat: a lead must not be able to make the
    server fetch from the school's internal network (or the server itself) by way of plcbot.
    """
    if source.startswith(("http://", "https://", "webcal://")):
        url = "https://" + source[len("webcal://") :] if source.startswith("webcal://") else source
        return await _fetch(url, allow_private=allow_private)
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


INTERNAL = (
    "that address is on an internal network, which plcbot doesn't fetch from for addresses "
    "given in chat; ask your IT team (they can set PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS=true)"
)


class _InternalAddress(OSError):
    """A host that resolves only to internal addresses (raised inside the connector)."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicOnlyResolver(aiohttp.abc.AbstractResolver):
    """Resolves like aiohttp does, then keeps only public addresses (so DNS can't point inward)."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        public = [r for r in found if _is_public(r["host"])]
        if not public:
            raise _InternalAddress(INTERNAL)
        return public

    async def close(self) -> None:
        await self._inner.close()


def _check_literal(url: str) -> None:
    """aiohttp skips the resolver for IP literals, so those are checked here."""
    host = (URL(url).host or "").strip("[]")
    try:
        public = _is_public(host)
    except ValueError:
        return  # a name: the resolver checks what it points to
    if not public:
        raise CalendarError(INTERNAL)


async def _fetch(url: str, *, allow_private: bool) -> bytes:
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
    connector = None if allow_private else aiohttp.TCPConnector(resolver=_PublicOnlyResolver())
    try:
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            for _hop in range(4):  # follow up to 3 redirects, checking every address on the way
                if not allow_private:
                    _check_literal(url)
                async with http.get(url, allow_redirects=False) as response:
                    if (
                        response.status in (301, 302, 303, 307, 308)
                        and "Location" in response.headers
                    ):
                        url = str(response.url.join(URL(response.headers["Location"])))
                        continue
                    if response.status != 200:
                        raise CalendarError(
                            f"the calendar's address answered HTTP {response.status}"
                        )
                    data = await response.content.read(MAX_BYTES + 1)
                    break
            else:
                raise CalendarError("the calendar's address redirects too many times")
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, _InternalAddress):
            raise CalendarError(INTERNAL) from None
        raise CalendarError(f"could not download the calendar ({type(exc).__name__})") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CalendarError(f"could not download the calendar ({type(exc).__name__})") from None
    if len(data) > MAX_BYTES:
        raise CalendarError(f"the calendar is larger than {MAX_BYTES // 1_000_000} MB")
    return data
