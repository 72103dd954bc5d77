"""Due dates in the forms teachers type: "Friday", "next Tuesday", "Dec 15", "in 2 weeks".

A small reader of our own rather than an NLP date library: the forms people use for a due date
are few, and the cases that matter most are the ones such libraries guess at silently (a date
that has passed, "next week", 05/12). Here each of those gets a question back instead.
Everything is relative to ``today`` in the member's own time zone, which the caller supplies.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from bot.errors import UserError
from bot.timefmt import day as show_day

EXAMPLES = "Friday, next Tuesday, Dec 15, in 2 weeks, tomorrow or 2027-01-15"
MAX_AHEAD = timedelta(days=366)
# "in N days" beyond this is no plan (and a big enough N is past the calendar's end): refused
# here, before any date arithmetic, rather than left to parse_due.
MAX_AMOUNT = timedelta(days=5 * 366)
UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 31}
# A date typed without a year means its next coming only when that is near (Jan 10, typed in
# December); "Dec 15" typed on Dec 20, or "Dec 31" on Jan 2, is far more likely a slip.
ROLL_OVER = timedelta(days=200)

WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "weds": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "a couple of": 2,
    "couple of": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}


class DateQuestion(UserError):
    """A due date we ask about instead of guessing; the text says what to type."""


class UnreadableDate(DateQuestion):
    """Text that is no date we know."""


def _alternatives(names: dict[str, int] | list[str]) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_WD = _alternatives(WEEKDAYS)
_MON = _alternatives(MONTHS)
_NUM = r"\d+|" + _alternatives(NUMBERS)
_WEEKDAY = re.compile(rf"^(?:(this|next|coming)\s+)?({_WD})(?:\s+(this|next)\s+week)?$")
_TH = "(?:st|nd|rd|th)?"
_MONTH_FIRST = re.compile(rf"^({_MON})\s+(?:the\s+)?(\d{{1,2}}){_TH}(?:\s+(\d{{4}}))?$")
_DAY_FIRST = re.compile(rf"^(?:the\s+)?(\d{{1,2}}){_TH}\s+(?:of\s+)?({_MON})(?:\s+(\d{{4}}))?$")
_AMOUNT = re.compile(
    rf"^(?:in\s+)?({_NUM})\s+(days?|weeks?|months?|fortnights?)(?:\s+from\s+now|\s+time)?$"
)
_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")
_ORDINAL = re.compile(r"^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)$")
_END_OF = re.compile(r"^(?:the\s+)?end\s+of\s+(?:the\s+)?(this\s+|next\s+)?(week|month)$")


def parse_due(raw: str, today: date) -> date:
    """The due date ``raw`` names: today or later, within a year; else a :class:`DateQuestion`."""
    found = read_date(raw, today)
    if found < today:
        raise DateQuestion(
            f"{_first_upper(show_day(found, today))} has already passed. When should it be due? "
            f"For example {EXAMPLES}."
        )
    if found - today > MAX_AHEAD:
        raise DateQuestion(
            f"{show_day(found, today)} is more than a year away. Commitments work best as next "
            "steps within a few weeks; please pick a nearer date."
        )
    return found


def read_date(raw: str, today: date) -> date:
    """The date ``raw`` names, which may be in the past (``parse_due`` checks that)."""
    text = _normalise(raw)
    if not text:
        raise DateQuestion(f"By when? Give a due date, for example {EXAMPLES}.")
    for reader in (
        _relative_word,
        _iso,
        _amount,
        _end_of,
        _weekday,
        _month_day,
        _ordinal_day,
        _slashed,
    ):
        found = reader(text, today)
        if found is not None:
            return found
    shown = raw.strip()[:60]
    raise UnreadableDate(f"I couldn't read {shown!r} as a date. Try {EXAMPLES}.")


def _normalise(raw: str) -> str:
    text = raw.strip().lower().replace("'", "").replace("\u2019", "")
    text = re.sub(r"[,.!?;]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^(?:on|by|due|before)\s+", "", text)
    return text


def _first_upper(value: str) -> str:
    return value[:1].upper() + value[1:]


def _real_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            raise DateQuestion(
                f"{calendar.month_abbr[month]} {day} isn't a real date in {year}. "
                "Please check the day."
            ) from None
        raise DateQuestion(
            f"There is no month {month}. Try a date like Dec 15 or 2027-01-15."
        ) from None


def _relative_word(text: str, today: date) -> date | None:
    if text in ("today", "tonight", "this evening", "end of today", "end of the day"):
        return today
    if text in ("tomorrow", "tmrw", "tmr", "tomorrow night"):
        return today + timedelta(days=1)
    if text in ("yesterday", "last night"):
        return today - timedelta(days=1)
    if text in ("day after tomorrow", "the day after tomorrow"):
        return today + timedelta(days=2)
    if text in ("next week", "this week"):
        raise DateQuestion(
            f"Which day {text}? Name one, for example {text.split()[0]} Thursday or the end "
            f"of {text}."
        )
    if text in ("next month", "this month"):
        raise DateQuestion(
            f"Which day {text}? Name one, for example Dec 15 or the end of next month."
        )
    if text in ("soon", "later", "asap"):
        raise DateQuestion(f"Soon is good! Which day? For example {EXAMPLES}.")
    return None


def _iso(text: str, today: date) -> date | None:
    match = _ISO.match(text)
    if not match:
        return None
    return _real_date(int(match[1]), int(match[2]), int(match[3]))


def _amount(text: str, today: date) -> date | None:
    match = _AMOUNT.match(text)
    if not match:
        return None
    count = int(match[1]) if match[1].isdigit() else NUMBERS[match[1]]
    unit = match[2].rstrip("s")
    if count * UNIT_DAYS[unit] > MAX_AMOUNT.days:
        raise DateQuestion(
            f"In {count:,} {unit}s is too far away. Commitments work best as next steps within "
            f"a few weeks; please pick a nearer date, for example {EXAMPLES}."
        )
    if unit == "day":
        return today + timedelta(days=count)
    if unit == "week":
        return today + timedelta(weeks=count)
    if unit == "fortnight":
        return today + timedelta(weeks=2 * count)
    return _add_months(today, count)


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _end_of(text: str, today: date) -> date | None:
    match = _END_OF.match(text)
    if not match:
        return None
    later = (match[1] or "").strip() == "next"
    if match[2] == "month":
        first = _add_months(today.replace(day=1), 1 if later else 0)
        return first.replace(day=calendar.monthrange(first.year, first.month)[1])
    monday = today - timedelta(days=today.weekday())
    friday = monday + timedelta(days=4 + (7 if later else 0))
    if friday < today:
        raise DateQuestion(
            "This week's school days are over. Did you mean the end of next week "
            f"({show_day(friday + timedelta(days=7), today)})? Type 'end of next week' or a day."
        )
    return friday


def _weekday(text: str, today: date) -> date | None:
    match = _WEEKDAY.match(text)
    if not match:
        return None
    wanted = WEEKDAYS[match[2]]
    which = match[1] or match[3]
    monday = today - timedelta(days=today.weekday())
    if which == "next":
        return monday + timedelta(days=7 + wanted)
    if which == "this":
        found = monday + timedelta(days=wanted)
        if found < today:
            name = calendar.day_name[wanted]
            raise DateQuestion(
                f"This {name} was {show_day(found, today)}, which has passed. Did you mean "
                f"next {name} ({show_day(found + timedelta(days=7), today)})?"
            )
        return found
    ahead = (wanted - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _month_day(text: str, today: date) -> date | None:
    match = _MONTH_FIRST.match(text)
    if match:
        month, day, year = MONTHS[match[1]], int(match[2]), match[3]
    else:
        match = _DAY_FIRST.match(text)
        if not match:
            return None
        day, month, year = int(match[1]), MONTHS[match[2]], match[3]
    if year:
        return _real_date(int(year), month, day)
    return _without_year(month, day, today)


def _without_year(month: int, day: int, today: date) -> date:
    """A date typed without a year: the next time it comes round, if that is near.

    Far from today either way, it is more likely a slip than a plan, so we ask for the year.
    """
    this_year = _real_date_any_year(month, day, today.year)
    next_year = _real_date_any_year(month, day, today.year + 1)
    if this_year is None and next_year is None:
        _real_date(today.year, month, day)  # raises, naming the impossible date
    ahead = [d for d in (this_year, next_year) if d is not None and d >= today]
    if ahead and ahead[0] - today <= ROLL_OVER:
        return ahead[0]
    shown = calendar.month_abbr[month] + f" {day}"
    if this_year is not None and this_year < today:
        year = today.year + 1
        raise DateQuestion(
            f"{shown} has already passed this year. If you mean {shown} {year}, type it with "
            f"the year ({year}-{month:02d}-{day:02d}); otherwise pick a later date."
        )
    found = ahead[0]
    raise DateQuestion(
        f"{shown} is a long way off ({show_day(found)} {found.year}). If that's right, type it "
        f"with the year ({found.isoformat()}); otherwise pick a nearer date."
    )


def _real_date_any_year(month: int, day: int, year: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _ordinal_day(text: str, today: date) -> date | None:
    match = _ORDINAL.match(text)
    if not match:
        return None
    day = int(match[1])
    if not 1 <= day <= 31:
        raise DateQuestion(f"There is no day {day} in a month. Try a date like Dec 15.")
    for months_ahead in range(3):
        first = _add_months(today.replace(day=1), months_ahead)
        if day <= calendar.monthrange(first.year, first.month)[1]:
            found = first.replace(day=day)
            if found >= today:
                return found
    raise DateQuestion(f"I couldn't place 'the {match[0]}'. Try a date like Dec 15.")


def _slashed(text: str, today: date) -> date | None:
    match = _SLASHED.match(text)
    if not match:
        return None
    first, second = int(match[1]), int(match[2])
    if first <= 12 and second <= 12 and first != second:
        one = f"{calendar.month_abbr[second]} {first}"
        other = f"{calendar.month_abbr[first]} {second}"
        raise DateQuestion(
            f"Is {match[1]}/{match[2]} {one} or {other}? Please write the month's name "
            f"(like {one}) or the date as year-month-day."
        )
    if first > 12 and second > 12:
        return None
    month, day = (first, second) if first <= 12 else (second, first)
    if match[3]:
        year = int(match[3])
        return _real_date(year + 2000 if year < 100 else year, month, day)
    return _without_year(month, day, today)
