"""Reading ``/commit TEXT [by DATE] [with @peer ...] [#B3]`` in the orders people write it."""

import pytest

from bot.commitment.grammar import CommitText, parse_commit_text
from bot.errors import UserError

CASES = [
    (
        "Try exit tickets in period 3 by Friday with @ben #B3",
        ["Ben"],
        CommitText("Try exit tickets in period 3", "Friday", ("@Ben",), ("B3",)),
    ),
    (
        "Co-teach a lesson with @Maria Lopez and @carla by next Tuesday #A5 #private",
        ["Maria Lopez", "carla"],
        CommitText(
            "Co-teach a lesson", "next Tuesday", ("@Maria Lopez", "@carla"), ("A5",), "private"
        ),
    ),
    (
        "Read the chapter by Hattie by Friday know: I can summarise it",
        [],
        CommitText("Read the chapter by Hattie", "Friday", how_know="I can summarise it"),
    ),
    (
        "Observe @carla's class due Dec 15",
        ["carla"],
        CommitText("Observe @carla's class", "Dec 15"),
    ),
    ("Call families", [], CommitText("Call families")),
    (
        "Share results with the team #growthmindset by tomorrow #B",
        [],
        CommitText(
            "Share results with the team #growthmindset",
            "tomorrow",
            indicators=("B1", "B2", "B3", "B4"),
        ),
    ),
    (
        "Plan with @ben, @carla & @dee by in 2 weeks #shared",
        ["ben", "carla", "dee"],
        CommitText("Plan", "in 2 weeks", ("@ben", "@carla", "@dee"), visibility="shared"),
    ),
]


@pytest.mark.parametrize(("typed", "mentioned", "expected"), CASES, ids=lambda v: str(v)[:30])
def test_commit_text_parts(typed: str, mentioned: list[str], expected: CommitText) -> None:
    assert parse_commit_text(typed, mentioned) == expected


def test_an_unknown_indicator_code_is_refused_by_name() -> None:
    with pytest.raises(UserError, match="#D1 isn't one of the standard's indicators"):
        parse_commit_text("Try something #D1")
    with pytest.raises(UserError, match="#B5"):
        parse_commit_text("Try something #B5")


def test_a_mention_of_someone_who_is_not_a_peer_stays_in_the_text() -> None:
    parts = parse_commit_text("Ask @ana about her rubric by Friday", ["ana"])
    assert parts.what == "Ask @ana about her rubric" and parts.peers == ()
