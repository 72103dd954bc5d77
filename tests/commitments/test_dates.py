"""Due dates as people type them, relative to the member's own day (time zones, year wrap)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.commitment.dates import DateQuestion, parse_due

MONDAY = date(2026, 11, 23)
SUNDAY_BEFORE_NEW_YEAR = date(2026, 12, 27)

READS = [
    # (today, typed, expected)
    (MONDAY, "today", date(2026, 11, 23)),
    (MONDAY, "tomorrow", date(2026, 11, 24)),
    (MONDAY, "the day after tomorrow", date(2026, 11, 25)),
    (MONDAY, "Friday", date(2026, 11, 27)),
    (MONDAY, "fri.", date(2026, 11, 27)),
    (MONDAY, "on Wednesday", date(2026, 11, 25)),
    (MONDAY, "Monday", date(2026, 11, 30)),  # a bare weekday is the next one, never today
    (MONDAY, "this Thursday", date(2026, 11, 26)),
    (MONDAY, "this monday", date(2026, 11, 23)),
    (MONDAY, "this Sunday", date(2026, 11, 29)),
    (MONDAY, "next Tuesday", date(2026, 12, 1)),  # the Tuesday of next week
    (MONDAY, "Tuesday next week", date(2026, 12, 1)),
    (MONDAY, "end of the week", date(2026, 11, 27)),
    (MONDAY, "end of next week", date(2026, 12, 4)),
    (MONDAY, "end of the month", date(2026, 11, 30)),
    (MONDAY, "in 2 weeks", date(2026, 12, 7)),
    (MONDAY, "in two weeks' time", date(2026, 12, 7)),
    (MONDAY, "in a week", date(2026, 11, 30)),
    (MONDAY, "in 10 days", date(2026, 12, 3)),
    (MONDAY, "in a couple of weeks", date(2026, 12, 7)),
    (MONDAY, "a fortnight", date(2026, 12, 7)),
    (MONDAY, "in a month", date(2026, 12, 23)),
    (MONDAY, "3 days from now", date(2026, 11, 26)),
    (MONDAY, "Dec 15", date(2026, 12, 15)),
    (MONDAY, "December 15th", date(2026, 12, 15)),
    (MONDAY, "15 Dec", date(2026, 12, 15)),
    (MONDAY, "the 3rd of January", date(2027, 1, 3)),
    (MONDAY, "Dec 15, 2026", date(2026, 12, 15)),
    (MONDAY, "2027-01-15", date(2027, 1, 15)),
    (MONDAY, "2027/01/15", date(2027, 1, 15)),
    (MONDAY, "12/15", date(2026, 12, 15)),  # unambiguous: 15 can't be a month
    (MONDAY, "15/12/2026", date(2026, 12, 15)),
    (MONDAY, "the 30th", date(2026, 11, 30)),
    (MONDAY, "the 31st", date(2026, 12, 31)),  # November has no 31st
    (MONDAY, "Nov 23", date(2026, 11, 23)),
    # Year wrap
    (SUNDAY_BEFORE_NEW_YEAR, "Jan 4", date(2027, 1, 4)),
    (SUNDAY_BEFORE_NEW_YEAR, "next Monday", date(2026, 12, 28)),  # next week starts tomorrow
    (SUNDAY_BEFORE_NEW_YEAR, "next Friday", date(2027, 1, 1)),
    (SUNDAY_BEFORE_NEW_YEAR, "Friday", date(2027, 1, 1)),
    (SUNDAY_BEFORE_NEW_YEAR, "in 2 weeks", date(2027, 1, 10)),
    (SUNDAY_BEFORE_NEW_YEAR, "end of next month", date(2027, 1, 31)),
    (SUNDAY_BEFORE_NEW_YEAR, "in 2 months", date(2027, 2, 27)),
    (SUNDAY_BEFORE_NEW_YEAR, "2/3", None),  # ambiguous, asked below
    (date(2027, 1, 31), "in a month", date(2027, 2, 28)),  # no Feb 31st: the month's end
    (date(2028, 1, 10), "Feb 29", date(2028, 2, 29)),  # a leap year
]


@pytest.mark.parametrize(
    ("today", "typed", "expected"), [r for r in READS if r[2] is not None], ids=lambda v: str(v)
)
def test_dates_people_type(today: date, typed: str, expected: date) -> None:
    assert parse_due(typed, today) == expected


QUESTIONS = [
    # (today, typed, words the answer must contain)
    (MONDAY, "", "By when?"),
    (MONDAY, "someday", "couldn't read 'someday'"),
    (MONDAY, "yesterday", "already passed"),
    (MONDAY, "2026-11-20", "already passed"),
    (MONDAY, "Dec 15 2025", "already passed"),
    (MONDAY, "last friday", "couldn't read"),
    (date(2026, 11, 26), "this monday", "has passed. Did you mean next Monday"),
    (MONDAY, "Nov 20", "already passed this year"),  # not silently next November
    (MONDAY, "Oct 1", "2027-10-01"),
    (date(2027, 1, 2), "Dec 31", "long way off"),  # a slip for yesterday, not next December
    (MONDAY, "next week", "Which day next week?"),
    (MONDAY, "next month", "Which day next month?"),
    (MONDAY, "soon", "Which day?"),
    (MONDAY, "5/12", "Is 5/12 Dec 5 or May 12?"),
    (SUNDAY_BEFORE_NEW_YEAR, "2/3", "Is 2/3"),
    (MONDAY, "Feb 30", "isn't a real date"),
    (MONDAY, "2027-02-29", "isn't a real date in 2027"),
    (MONDAY, "2027-13-01", "no month 13"),
    (MONDAY, "2029-01-01", "more than a year away"),
    (MONDAY, "in 500 days", "more than a year away"),
    (date(2026, 11, 28), "end of the week", "end of next week"),  # a Saturday
]


@pytest.mark.parametrize(("today", "typed", "words"), QUESTIONS, ids=lambda v: str(v))
def test_unclear_or_past_dates_get_a_question(today: date, typed: str, words: str) -> None:
    with pytest.raises(DateQuestion) as raised:
        parse_due(typed, today)
    assert words in str(raised.value)


ZONES = [
    # (now in UTC, member's zone, typed, expected): "today" is the member's own day
    (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "Pacific/Auckland", "tomorrow", date(2026, 11, 24)),
    (datetime(2026, 11, 23, 11, 30, tzinfo=UTC), "Pacific/Auckland", "today", date(2026, 11, 24)),
    (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), "America/Los_Angeles", "today", date(2026, 11, 22)),
    (
        datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        "America/Los_Angeles",
        "tomorrow",
        date(2026, 11, 23),
    ),
    (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), "America/Los_Angeles", "Monday", date(2026, 11, 23)),
    (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), "Europe/London", "Monday", date(2026, 11, 30)),
    # New Year's Eve in London is already New Year's Day in Auckland
    (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), "Pacific/Auckland", "tomorrow", date(2027, 1, 2)),
    (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), "Europe/London", "tomorrow", date(2027, 1, 1)),
    (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), "Pacific/Auckland", "Jan 1", date(2027, 1, 1)),
]


@pytest.mark.parametrize(("now", "zone", "typed", "expected"), ZONES, ids=lambda v: str(v))
def test_dates_are_read_in_the_members_time_zone(
    now: datetime, zone: str, typed: str, expected: date
) -> None:
    today = now.astimezone(ZoneInfo(zone)).date()
    assert parse_due(typed, today) == expected


def test_new_years_eve_in_london_is_past_in_auckland() -> None:
    today = datetime(2026, 12, 31, 20, 0, tzinfo=UTC).astimezone(ZoneInfo("Pacific/Auckland"))
    with pytest.raises(DateQuestion, match="already passed"):
        parse_due("2026-12-31", today.date())
