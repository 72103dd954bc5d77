"""Malformed requests get a 4xx with a short reason: never a 5xx, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.clock import FakeClock
from storage import identity as repo
from tests.support.fake_connector import FakeConnector
from tests.teams.activities import MARIA, TENANT, Teams
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
        # no usable serviceUrl, whatever the type: the SDK needs one before any handler runs
        {"type": "typing", "conversation": {"id": "c"}},
        without(teams.bot_added_to_team(MARIA), "serviceUrl"),
        replaced(message, "serviceUrl", "http://"),
        replaced(replaced(message, "type", "messageReaction"), "serviceUrl", 7),
        # what plcbot would store must fit its columns and be storable text
        replaced(message, "id", "16\x0000"),
        replaced(message, "conversation", {**message["conversation"], "id": "19:a\x00b"}),
        replaced(message, "conversation", {**message["conversation"], "id": "19:" + "x" * 300}),
        replaced(message, "conversation", {**message["conversation"], "tenantId": "t" * 200}),
        replaced(message, "from", {**MARIA.account, "id": "29:" + "m" * 300}),
        # an update about plcbot being added must say who and to which bot
        without(teams.bot_added_to_team(MARIA), "from"),
        without(teams.bot_added_to_team(MARIA), "recipient"),
    ]
    lone_surrogate = json.dumps(message).replace('"team"', '"team \\ud800"').encode()
    raw_bodies.append(lone_surrogate)
    raw_bodies.append(lone_surrogate.replace(b"\\ud800", b"\\uDC00"))
    async with teams_server(sqlite_url, clock) as server:
        answers = [await server.post(None, raw=body) for body in raw_bodies]
        answers += [await server.post(activity) for activity in activities]
    for answer in answers:
        assert 400 <= answer.status < 500, answer
        assert "Traceback" not in answer.text and 'File "' not in answer.text
    assert fake.requests == []


async def test_text_escaped_as_a_surrogate_pair_is_ordinary_text(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    """An emoji sent as a JSON surrogate-pair escape is valid Unicode, unlike a lone half."""
    activity = teams.channel_message(MARIA, "protocol list EMOJI")
    body = json.dumps(activity).replace("EMOJI", "\\ud83d\\ude00").encode()
    async with teams_server(sqlite_url, clock) as server:
        answer = await server.post(None, raw=body)
    assert answer.status < 300, answer
    assert "No protocol matches '\U0001f600'" in fake.posted[-1].text


async def test_activity_types_plcbot_does_not_use_are_accepted_quietly(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams, message: dict[str, Any]
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        for kind in ("typing", "messageReaction", "event", "endOfConversation"):
            answer = await server.post(replaced(message, "type", kind))
            assert answer.status == 202
    assert fake.requests == []


async def test_odd_but_harmless_shapes_are_handled_without_losing_anything(
    db_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    """Names with control characters (PostgreSQL refuses a NUL) or beyond the columns' size,
    a card value that isn't an object, a huge message: each gets a normal answer."""
    odd_name = {**MARIA.account, "name": "Maria\x00 Lopez\n" + "z" * 300}
    long_team = {**message_channel_data(teams), "team": {"id": "t", "name": "PLC " * 100}}
    activities = [
        replaced(teams.channel_message(MARIA, "team"), "channelData", long_team),
        replaced(teams.personal_message(MARIA, "help"), "value", ["not", "an", "object"]),
        teams.personal_message(MARIA, "commit " + "x" * 1_500_000),
        replaced(teams.personal_message(MARIA, "help"), "value", "text"),
        replaced(teams.channel_message(MARIA, "team"), "from", odd_name),  # last: names refresh
    ]
    async with teams_server(db_url, clock) as server:
        for activity in activities:
            answer = await server.post(activity)
            assert answer.status == 202, answer
        async with server.bot.db.read() as session:
            workspace = await repo.find_workspace(session, "teams", TENANT)
            assert workspace is not None
            maria = await repo.find_member(session, workspace, MARIA.user_id)
    assert maria is not None and maria.display_name.startswith("Maria Lopez zzz")
    assert len(maria.display_name) == 200
    texts = fake.texts()
    assert not any("went wrong" in t for t in texts), texts
    assert any("characters long; please keep it under" in t for t in texts)
    assert sum("plcbot: what I can do" in t for t in texts) == 2


def message_channel_data(teams: Teams) -> dict[str, Any]:
    data: dict[str, Any] = teams.channel_message(MARIA, "x")["channelData"]
    return data
