"""When nudges go out: the owner's local afternoon, never on a quiet day."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.commitment.timing import Timing, WeekendsOff, parse_nudge_time
from tests.commitments.calendar import QuietSet

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 09:00 in Chicago


async def test_the_reminder_is_the_afternoon_before_in_the_owners_zone() -> None:
    timing = Timing(QuietSet())
    when = await timing.reminder(1, date(2026, 11, 26), CHICAGO, NOW)
    assert when == datetime(2026, 11, 25, 15, 30, tzinfo=CHICAGO)


async def test_a_quiet_day_before_moves_the_reminder_earlier() -> None:
    calendar = QuietSet({date(2026, 11, 25)})  # the day before the due date is a day off
    when = await Timing(calendar).reminder(1, date(2026, 11, 26), CHICAGO, NOW)
    assert when == datetime(2026, 11, 24, 15, 30, tzinfo=CHICAGO)


async def test_no_reminder_when_its_moment_has_passed() -> None:
    timing = Timing(QuietSet())
    late = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # 16:00 in Chicago, after 15:30
    assert await timing.reminder(1, date(2026, 11, 25), CHICAGO, late) is None
    assert await timing.reminder(1, date(2026, 11, 23), CHICAGO, NOW) is None  # due today


async def test_check_ins_skip_quiet_days_and_stop_after_the_school_year() -> None:
    calendar = QuietSet({date(2026, 11, 26), date(2026, 11, 27)}, last_day=date(2026, 12, 18))
    timing = Timing(calendar)
    when = await timing.on_or_after(1, date(2026, 11, 26), CHICAGO, NOW)
    assert when == datetime(2026, 11, 28, 15, 30, tzinfo=CHICAGO)
    assert await timing.on_or_after(1, date(2026, 12, 20), CHICAGO, NOW) is None


async def test_without_a_calendar_weekends_are_quiet() -> None:
    timing = Timing(WeekendsOff())
    monday_due = await timing.reminder(1, date(2026, 11, 30), CHICAGO, NOW)
    assert monday_due == datetime(2026, 11, 27, 15, 30, tzinfo=CHICAGO)  # the Friday before
    saturday_due = await timing.on_or_after(1, date(2026, 11, 28), CHICAGO, NOW)
    assert saturday_due == datetime(2026, 11, 30, 15, 30, tzinfo=CHICAGO)


async def test_soon_waits_for_working_hours_on_an_open_day() -> None:
    timing = Timing(QuietSet({date(2026, 11, 24)}))
    assert await timing.soon(1, CHICAGO, NOW) == datetime(2026, 11, 23, 15, 10, tzinfo=UTC)
    night = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # Monday 22:00 in Chicago
    # Tuesday is quiet, so the next nudge is Wednesday afternoon
    assert await timing.soon(1, CHICAGO, night) == datetime(2026, 11, 25, 15, 30, tzinfo=CHICAGO)


def test_the_nudge_time_setting() -> None:
    assert parse_nudge_time(None) == time(15, 30)
    assert parse_nudge_time("8:05") == time(8, 5)
    with pytest.raises(ValueError, match="PLCBOT_COMMITMENTS_NUDGE_TIME"):
        parse_nudge_time("3pm")
