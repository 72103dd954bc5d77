"""Pure rules: reading schedules and dates, local times across DST, school days, rotation."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.reflection.bank import Prompt
from bot.reflection.commands import parse_schedule
from bot.reflection.rotation import pick_indicator, pick_prompt
from bot.reflection.timing import SchoolDays, local_moment, parse_clock, parse_day_range

NY = ZoneInfo("America/New_York")


def test_schedules_are_read_the_way_people_type_them() -> None:
    assert parse_schedule("weekly fri 15:00") == (4, "15:00", parse_schedule("fri 3pm")[2], "dm")
    weekday, at, codes, mode = parse_schedule("weekly Thursday 3:30pm indicators A, B3 channel")
    assert (weekday, at, mode) == (3, "15:30", "channel")
    assert codes == ("A1", "A2", "A3", "A4", "A5", "B3")
    for bad, hint in [
        ("daily 9:00", "weekly"),
        ("weekly fri", "day and time"),
        ("weekly fry 15:00", "day of the week"),
        ("weekly fri 25:00", "time of day"),
        ("weekly fri 15:00 indicators Z9", "Z9 isn't an indicator"),
        ("weekly fri 15:00 banana", "didn't follow"),
    ]:
        with pytest.raises(UserError, match=hint):
            parse_schedule(bad)


def test_clock_and_date_ranges() -> None:
    assert [parse_clock(w) for w in ("9", "09:05", "12am", "12pm", "7pm")] == [
        "09:00",
        "09:05",
        "00:00",
        "12:00",
        "19:00",
    ]
    assert parse_day_range("2026-12-21..2027-01-02") == (date(2026, 12, 21), date(2027, 1, 2))
    assert parse_day_range("2026-12-25") == (date(2026, 12, 25), date(2026, 12, 25))
    for bad in ("2027-01-02..2026-12-21", "next week", "2026-01-01..2028-01-01"):
        with pytest.raises(UserError):
            parse_day_range(bad)


def test_local_time_stays_on_the_wall_clock_across_dst() -> None:
    before = local_moment(date(2027, 3, 11), "15:00", NY)  # EST, UTC-5
    after = local_moment(date(2027, 3, 18), "15:00", NY)  # EDT, UTC-4
    assert before == datetime(2027, 3, 11, 20, 0, tzinfo=UTC)
    assert after == datetime(2027, 3, 18, 19, 0, tzinfo=UTC)
    # 02:30 does not exist on 14 March 2027 in New York: it lands later, never earlier.
    skipped = local_moment(date(2027, 3, 14), "02:30", NY).astimezone(NY)
    assert skipped.hour == 3 and skipped.minute == 30


def test_school_days_skip_weekends_quiet_ranges_and_the_year_edges() -> None:
    days = SchoolDays(
        weekend=frozenset({5, 6}),
        year=(date(2026, 8, 24), date(2027, 6, 11)),
        ranges=((date(2026, 12, 21), date(2027, 1, 1), "Winter break"),),
    )
    assert days.why_quiet(date(2026, 12, 23)) == "Winter break"
    assert days.why_quiet(date(2026, 11, 28)) == "the weekend"
    assert days.why_quiet(date(2027, 7, 1)) == "outside the school year"
    assert days.why_quiet(date(2026, 11, 27)) is None
    assert days.next_open_day(date(2026, 12, 19)) == date(2027, 1, 4)
    assert days.next_open_day(date(2026, 8, 1)) == date(2026, 8, 24)
    assert days.next_open_day(date(2027, 6, 12)) is None
    assert days.add_school_days(date(2026, 11, 27), 2) == date(2026, 12, 1)  # Fri -> Tue
    assert days.add_school_days(date(2027, 6, 10), 2) is None


def test_rotation_covers_every_chosen_indicator_before_repeating() -> None:
    chosen = ("A1", "B3", "C2", "C5")
    asked: dict[str, int] = {}
    last = None
    order = []
    for _ in range(12):
        code = pick_indicator(chosen, asked, last)
        order.append(code)
        asked[code] = asked.get(code, 0) + 1
        last = code
    for start in range(0, 12, 4):
        assert sorted(order[start : start + 4]) == sorted(chosen)
    # An indicator added later catches up first.
    assert pick_indicator((*chosen, "A3"), asked, last) == "A3"


def test_a_member_never_gets_the_same_prompt_twice_in_a_row() -> None:
    prompts = [Prompt(f"B3.{n}", "B3", f"Prompt number {n}") for n in range(1, 4)]
    recent: list[str] = []
    for seed in range(30):
        chosen = pick_prompt(prompts, recent, seed)
        assert not recent or chosen.id != recent[0]
        recent.insert(0, chosen.id)
    # Least recently used comes next: all three appear in every run of three.
    for start in range(0, 30, 3):
        assert len(set(recent[start : start + 3])) == 3
    only = [Prompt("t1", "B3", "The team's only prompt")]
    assert pick_prompt(only, ["t1"], 0).id == "t1"  # nothing else to choose
