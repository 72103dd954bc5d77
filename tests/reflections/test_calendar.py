"""School calendars: ICS files and URLs, hand-added holidays, and the QuietDays port."""

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web

from bot.clock import FakeClock
from bot.ports import QuietDays
from bot.reflection.ics import CalendarError, quiet_ranges_from_ics
from tests.reflections.support import calendar_of, only_team, said
from tests.support.harness import running_console

WORDS = ("break", "holiday", "no school", "testing")

ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test School//Calendar//EN
BEGIN:VEVENT
UID:winter@test
DTSTART;VALUE=DATE:20261221
DTEND;VALUE=DATE:20270102
SUMMARY:Winter Break
END:VEVENT
BEGIN:VEVENT
UID:picture@test
DTSTART;VALUE=DATE:20261203
DTEND;VALUE=DATE:20261204
SUMMARY:Picture day
END:VEVENT
BEGIN:VEVENT
UID:testing@test
DTSTART:20261208T080000Z
DTEND:20261209T120000Z
SUMMARY:State assessment
CATEGORIES:Testing
END:VEVENT
BEGIN:VEVENT
UID:early@test
DTSTART;VALUE=DATE:20261204
DTEND;VALUE=DATE:20261205
SUMMARY:No School - staff day
RRULE:FREQ=MONTHLY;COUNT=3
END:VEVENT
END:VCALENDAR
"""


def test_only_quiet_events_count_and_recurring_ones_expand() -> None:
    found = quiet_ranges_from_ics(ICS, WORDS, date(2026, 8, 1), date(2027, 6, 30))
    assert (date(2026, 12, 21), date(2027, 1, 1), "Winter Break") in found  # DTEND exclusive
    assert (date(2026, 12, 8), date(2026, 12, 9), "State assessment") in found  # by category
    staff = [r for r in found if r[2].startswith("No School")]
    assert [r[0] for r in staff] == [date(2026, 12, 4), date(2027, 1, 4), date(2027, 2, 4)]
    assert not any("Picture" in r[2] for r in found)


def test_a_file_that_is_not_a_calendar_is_refused() -> None:
    with pytest.raises(CalendarError, match="not an ICS calendar"):
        quiet_ranges_from_ics(b"<html>hello</html>", WORDS, date(2026, 1, 1), date(2027, 1, 1))


async def test_the_deployment_calendar_file_makes_quiet_days_for_every_team(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    source = tmp_path / "district.ics"
    source.write_bytes(ICS)
    env = {"PLCBOT_SCHOOL_CALENDAR": str(source), "PLCBOT_SCHOOL_YEAR": "2026-08-24..2027-06-11"}
    async with running_console(db_url, clock, **env) as console:
        await console.say("/as ana", "/team")
        quiet: QuietDays = calendar_of(console.bot)  # the port other features are given
        team = await only_team(console.bot)
        assert await quiet.is_quiet(team.id, date(2026, 12, 24))
        assert not await quiet.is_quiet(team.id, date(2026, 12, 3))  # picture day
        assert await quiet.is_quiet(team.id, date(2027, 6, 14))  # after the school year
        assert await quiet.is_quiet(team.id, date(2026, 12, 5))  # a Saturday
        assert await quiet.next_open_day(team.id, date(2026, 12, 19)) == date(2027, 1, 5)
        assert await quiet.next_open_day(team.id, date(2027, 6, 12)) is None
        out = said(await console.say("/reflect holidays list"))
    assert "Winter Break [district]" in out and "School year: 2026-08-24..2027-06-11" in out


@pytest.fixture
async def calendar_server() -> AsyncIterator[str]:
    async def ics(_request: web.Request) -> web.Response:
        return web.Response(body=ICS, content_type="text/calendar")

    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/school.ics", ics)
    app.router.add_get("/gone.ics", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_lead_connects_the_schools_calendar_by_url(
    sqlite_url: str, clock: FakeClock, calendar_server: str
) -> None:
    # The test server is on loopback, which a district allows for calendars it hosts inside.
    async with running_console(
        sqlite_url, clock, PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS="true"
    ) as console:
        out = said(
            await console.say(
                "/as ana",
                f"/reflect calendar {calendar_server}/school.ics",
                "/as ben",
                f"/reflect calendar {calendar_server}/school.ics",
                "/as ana",
                f"/reflect calendar {calendar_server}/gone.ics",
                "/reflect calendar /etc/passwd",
                "/reflect holidays",
                "/reflect now",
            )
        )
        assert "I found 5 quiet period(s): No School - staff day (2026-12-04)" in out
        assert "Only a team lead can change the school calendar" in out
        assert "answered HTTP 404. Nothing was changed." in out
        assert "give the calendar's web address" in out
        assert "#3 2026-12-21..2027-01-01 Winter Break [calendar]" in out
        clock.set(clock.now().replace(month=12, day=22))
        later = said(
            await console.say("/reflect now", "/reflect calendar off", "/reflect holidays")
        )
    assert "Today is a quiet day (Winter Break)" in later
    assert "disconnected" in later and "(none yet)" in later


async def test_holidays_added_by_hand(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        out = said(
            await console.say(
                "/as ana",
                "/reflect holidays add 2026-11-23..2026-11-27 Thanksgiving week",
                "/reflect holidays add 2026-12-40",
                "/reflect holidays add 2027-01-02..2026-12-21",
                "/reflect holidays frob",
                "/reflect now",
                "/as ben",
                "/reflect holidays add 2026-12-01",
                "/reflect holidays remove 1",
                "/as ana",
                "/reflect holidays remove 99",
                "/reflect holidays remove 1",
                "/reflect now",
            )
        )
    assert "Added quiet days #1: 2026-11-23..2026-11-27 (Thanksgiving week)" in out
    assert "isn't a date" in out and "ends before it starts" in out
    assert "can add, list or remove" in out
    assert "Today is a quiet day (Thanksgiving week)" in out
    assert "Only a team lead can add quiet days" in out
    assert "Only a team lead can remove quiet days" in out
    assert "no quiet days #99" in out
    assert "Quiet days #1 removed." in out
    assert "is starting now" in out


async def test_a_calendar_address_given_in_chat_may_not_point_inside(
    sqlite_url: str, clock: FakeClock, calendar_server: str
) -> None:
    """Without IT's say-so, a lead can't make the server fetch from its own network."""
    port = calendar_server.rsplit(":", 1)[1]
    async with running_console(sqlite_url, clock) as console:
        out = said(
            await console.say(
                "/as ana",
                f"/reflect calendar {calendar_server}/school.ics",  # an IP literal
                f"/reflect calendar http://localhost:{port}/school.ics",  # a name, resolving inside
                "/reflect holidays",
            )
        )
    assert out.count("that address is on an internal network") == 2
    assert "Connected" not in out


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.10", False),
        ("172.16.5.4", False),
        ("169.254.169.254", False),  # cloud metadata
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("fe80::1%eth0", False),
        ("0.0.0.0", False),
    ],
)
def test_which_addresses_count_as_public(address: str, public: bool) -> None:
    from bot.reflection.ics import _is_public

    assert _is_public(address) is public
