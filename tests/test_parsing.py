"""Lengths of time as people type them, and the ones too long to mean anything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import UserError
from bot.parsing import DurationTooLong, parse_duration


def test_lengths_of_time_read_as_typed() -> None:
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration("+2h 30m") == timedelta(hours=2, minutes=30)
    assert parse_duration("3650d") == timedelta(days=3650)


@pytest.mark.parametrize("typed", ["3651d", "99999999999d", "1" + "0" * 400 + "s"])
def test_a_length_past_ten_years_is_a_clear_answer_not_an_overflow(typed: str) -> None:
    with pytest.raises(DurationTooLong, match="longer than anything plcbot schedules"):
        parse_duration(typed)


def test_something_else_is_not_a_length_of_time() -> None:
    with pytest.raises(UserError, match="couldn't read 'soon'"):
        parse_duration("soon")
