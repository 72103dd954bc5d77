"""Malformed requests get a 4xx with a short reason: never a 5xx, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.clock import FakeClock
from tests.support.fake_connector import FakeConnector
from tests.teams.activities import MARIA, Teams
from tests.teams.harness import teams_server


def without(activity: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(activity))
    node = copy
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return copy


def replaced(activity: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**activity, key: value}


@pytest.fixture
def message(teams: Teams) -> dict[str, Any]:
    return teams.channel_message(MARIA, "team")


async def test_malformed_activities_are_answered_with_a_4xx(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams, message: dict[str, Any]
) -> None:
    raw_bodies = [
        b"",
        b"{not json",
        b"\xff\xfe\x00",
        json.dumps([message]).encode(),
        json.dumps("a string").encode(),
        b"[" * 100_000 + b"]" * 100_000,  # nesting deep enough to exhaust a parser
    ]
    activities = [
        without(message, "type"),
        without(message, "conversation"),
        without(message, "conversation", "id"),
        without(message, "from"),
        without(message, "serviceUrl"),
        without(message, "id"),
        without(message, "recipient"),
        replaced(message, "serviceUrl", "file:///etc/passwd"),
        replaced(message, "id", ""),
        replaced(message, "from", "Maria"),
        replaced(message, "conversation", ["19:x"]),
        replaced(message, "entities", "not a list"),
        replaced(message, "timestamp", "yesterday"),
        teams.execute(MARIA, "", {}, card_id="123"),  # an Action.Execute naming no action
        replaced(teams.execute(MARIA, "x", {}, card_id="1"), "name", "task/fetch"),
        replaced(teams.execute(MARIA, "x", {}, card_id="1"), "value", "nonsense"),
        teams.submit(MARIA, {"unrelated": "data"}, card_id="123"),
    ]
    async with teams_server(sqlite_url, clock) as server:
        answers = [await server.post(None, raw=body) for body in raw_bodies]
        answers += [await server.post(activity) for activity in activities]
    for answer in answers:
        assert 400 <= answer.status < 500, answer
        assert "Traceback" not in answer.text and 'File "' not in answer.text
    assert fake.requests == []


async def test_activity_types_plcbot_does_not_use_are_accepted_quietly(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams, message: dict[str, Any]
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        for kind in ("typing", "messageReaction", "event", "endOfConversation"):
            answer = await server.post(replaced(message, "type", kind))
            assert answer.status == 202
    assert fake.requests == []
