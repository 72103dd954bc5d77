"""The card and the summary stay within chat limits for every library protocol and big teams."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Countdown, ListBlock, plain
from bot.protocol.card import parse_button_value, session_card
from bot.protocol.summary import build_summary, summary_markdown, summary_message
from protocols import engine
from protocols.engine import Actor, End, Next
from protocols.loader import load_library
from protocols.state import Person
from storage.protocol_sessions import Contribution
from tests.protocols.support import slack_sized

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
PEOPLE = tuple(
    Person(id=i, user_id=f"u{i}", name=f"Teacher with a long name {i}") for i in range(1, 31)
)
LIBRARY = list(load_library())


@pytest.mark.parametrize("protocol", LIBRARY, ids=[p.id for p in LIBRARY])
def test_every_step_card_fits_with_thirty_people(protocol) -> None:  # type: ignore[no-untyped-def]
    presenter = PEOPLE[1] if protocol.has_presenter else None
    state, _ = engine.begin(
        protocol, now=T0, people=PEOPLE, facilitator=PEOPLE[0], presenter=presenter
    )
    for index in range(len(protocol.steps)):
        card = session_card(protocol, state, session_id=7, version=index + 1, now=T0, zone=UTC_ZONE)
        assert slack_sized(card) == [], (protocol.id, index)
        assert any(isinstance(b, Countdown) for b in card.blocks)
        assert {parse_button_value(b.value) for b in card.buttons} == {(7, index + 1)}
        if index + 1 < len(protocol.steps):
            state, _ = engine.step(protocol, state, Next(Actor(PEOPLE[0])), T0)
    ended, _ = engine.step(protocol, state, End(Actor(PEOPLE[0])), T0 + timedelta(hours=1))
    final = session_card(protocol, ended, session_id=7, version=99, now=T0, zone=UTC_ZONE)
    assert final.buttons == () and "ended" in (final.title or "")


def test_a_huge_summary_is_trimmed_for_chat_and_complete_in_the_export() -> None:
    protocol = load_library().protocols["tuning"]
    state, _ = engine.begin(protocol, now=T0, people=PEOPLE, facilitator=PEOPLE[0])
    for _ in protocol.steps:
        state, _ = engine.step(protocol, state, Next(Actor(PEOPLE[0])), T0 + timedelta(hours=1))
    contributions = [
        Contribution(
            id=n,
            step=step,
            step_id=protocol.steps[step].id,
            member_id=None if n % 3 == 0 else PEOPLE[n % 30].id,
            author=None if n % 3 == 0 else PEOPLE[n % 30].name,
            anonymous=n % 3 == 0,
            kind="discussion",
            text=f"contribution {n} " + "word " * 580,
            created_at=T0,
        )
        for step in range(len(protocol.steps))
        for n in range(step * 100, step * 100 + 25)
    ]
    summary = build_summary(1, protocol, state, contributions, team_name="plc", now=T0)
    message = summary_message(summary, UTC_ZONE)
    assert slack_sized(message) == []
    lists = [b for b in message.blocks if isinstance(b, ListBlock)]
    assert all(plain(b.items[-1].body).endswith("more in the export") for b in lists)
    anonymous_lines = [
        plain(i.body) for b in lists for i in b.items if plain(i.body).startswith("Anonymous:")
    ]
    assert anonymous_lines and not any("Teacher" in line for line in anonymous_lines)
    markdown = summary_markdown(summary, UTC_ZONE)
    assert all(f"contribution {c.id} " in markdown for c in contributions)
    assert markdown.count("**Anonymous:**") == sum(1 for c in contributions if c.anonymous)
    last = len(protocol.steps) - 1
    named = [c for c in contributions if c.step == last and not c.anonymous]
    assert [n["text"] for n in summary["next_steps"]] == [c.text for c in named]
