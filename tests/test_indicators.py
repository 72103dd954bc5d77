import pytest

from bot.indicators import BY_CODE, INDICATORS, label, parse_codes


def test_fourteen_indicators_in_three_elements() -> None:
    assert [i.code for i in INDICATORS] == [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "B1",
        "B2",
        "B3",
        "B4",
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
    ]
    assert {i.element for i in INDICATORS} == {"A", "B", "C"}


def test_codes_are_read_the_way_people_type_them() -> None:
    assert parse_codes("A, b3 #C1") == ("A1", "A2", "A3", "A4", "A5", "B3", "C1")
    assert parse_codes("B3,B3") == ("B3",)
    assert label("B3") == "B3 " + BY_CODE["B3"].title


@pytest.mark.parametrize("bad", ["D1", "A6", "B0", "zz"])
def test_unknown_codes_are_named(bad: str) -> None:
    with pytest.raises(ValueError, match=bad.upper()):
        parse_codes(f"A1 {bad}")
