"""Slash commands: acknowledged at once, answered privately through the response URL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.events import CommandEvent, ConversationKind
from bot.identity import ROSTER_GROUP
from storage import identity as repo
from storage.commitments import CommitmentRow
from storage.models import MemberRow, TeamRow
from tests.slack.showcase import Showcase
from tests.slack.workspace import (
    CHANNEL,
    JO,
    MARIA,
    SAM,
    SlackWorkspace,
    running_slack,
)
from tests.support.fake_slack import Call, FakeSlack


def texts(call: Any) -> str:
    """Every piece of text in a recorded message, joined, for simple assertions."""
    out = [call.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(call.get("blocks") or [])
    return "\n".join(out)


async def test_team_answers_privately_and_reads_the_database(slack: SlackWorkspace) -> None:
    answer = await slack.command("/team")
    assert answer.status == 200
    await slack.settled()
    welcome, team = slack.fake.answers()
    # the first answer rides on the command's ack (adapters/slack/answer.py), the next one
    # goes to its response URL
    assert json.loads(answer.text)["text"] == welcome["text"]
    assert [welcome.method, team.method] == ["ack", "response_url"]
    assert welcome["response_type"] == "ephemeral" and "first person" in welcome["text"]
    assert team["response_type"] == "ephemeral"
    assert team["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Team plc-math", "emoji": True},
    }
    assert f"<@{MARIA}>" in texts(team) and "lead" in texts(team)

    await slack.command("/team", user=SAM)
    await slack.settled()
    latest = slack.fake.answers()[-1]
    assert f"<@{MARIA}>" in texts(latest) and f"<@{SAM}>" in texts(latest)
    assert not slack.fake.calls_to("chat.postMessage")  # nothing public


async def test_members_get_names_and_time_zones_from_users_info(slack: SlackWorkspace) -> None:
    await slack.command("/team", user=JO)
    await slack.command("/team", user=JO)
    await slack.settled()
    async with slack.bot.db.read() as session:
        team = await repo.get_team(session, 1)
        assert team is not None and team.name == "plc-math" and team.conversation_id == CHANNEL
        members = await repo.team_members(session, team.id)
    jo = members[0].member
    assert (jo.display_name, jo.timezone, jo.user_id) == ("Jo Okafor", "Europe/London", JO)
    assert len(slack.fake.calls_to("users.info")) == 1  # cached
    assert len(slack.fake.calls_to("conversations.info")) == 1


async def test_help_through_plcbot(slack: SlackWorkspace) -> None:
    await slack.command("/plcbot")
    await slack.command("/plcbot", "help team")
    await slack.command("/team", "help")
    await slack.settled()
    replies = [texts(c) for c in slack.fake.answers()]
    overview = next(r for r in replies if "plcbot: what I can do" in r)
    assert "/team" in overview and "/show" in overview
    assert sum("/team timezone ZONE" in r for r in replies) == 2


async def test_plcbot_passes_other_words_on_as_commands(slack: SlackWorkspace) -> None:
    await slack.command("/plcbot", "team")
    await slack.settled()
    assert any("Team plc-math" in texts(c) for c in slack.fake.answers())


async def test_an_unknown_command_gets_a_friendly_answer(slack: SlackWorkspace) -> None:
    await slack.command("/protocols", "start tuning")
    await slack.settled()
    reply = slack.fake.answers()[-1]
    assert "I don't know the command /protocols. Did you mean /protocol?" in texts(reply)
    assert reply["response_type"] == "ephemeral"


async def test_a_user_error_is_answered_privately(slack: SlackWorkspace) -> None:
    await slack.command("/show", "fail")
    await slack.settled()
    assert "can't be done here" in texts(slack.fake.answers()[-1])


async def test_mentions_become_names_and_member_refs(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    typed = f"who <@{SAM}|slee> &amp; <@{JO}> &lt;3 <#C0MATH|plc-math> <!here>"
    await slack.command("/show", typed)
    await slack.settled()
    event = showcase.seen[-1]
    assert isinstance(event, CommandEvent)
    assert event.text == "who @Sam_Lee & @Jo_Okafor <3 #plc-math @here"
    assert [(m.user_id, m.display_name, m.timezone) for m in event.mentions] == [
        (SAM, "Sam Lee", "America/New_York"),
        (JO, "Jo Okafor", "Europe/London"),
    ]
    assert event.conversation.kind == ConversationKind.CHANNEL
    assert event.conversation.name == "plc-math"
    assert event.platform_data["trigger_id"]


async def test_a_mentioned_person_can_be_made_lead(slack: SlackWorkspace) -> None:
    await slack.command("/team")  # Maria is the first, so the lead
    await slack.command("/team", f"lead <@{SAM}|slee>")
    await slack.settled()
    public = slack.fake.calls_to("chat.postMessage")
    assert len(public) == 1 and f"<@{SAM}> is now a lead" in texts(public[0])
    async with slack.bot.db.read() as session:
        roles = {tm.member.user_id: tm.role for tm in await repo.team_members(session, 1)}
    assert roles == {MARIA: "lead", SAM: "lead"}


async def test_team_sync_stores_a_channel_of_thousands_a_group_at_a_time(
    slack: SlackWorkspace,
) -> None:
    people = [f"U{n:05d}" for n in range(ROSTER_GROUP * 2 + 7)]
    for user_id in people:
        slack.fake.add_user(user_id, f"teacher{user_id}", tz="America/Chicago")
    slack.fake.channel_members[CHANNEL] += people
    await slack.command("/team")  # Maria is the first, so the lead
    await slack.command("/team", "sync")
    await slack.settled()
    everyone = len(people) + 3  # Maria, Sam and Jo were in the channel already
    assert f"all {everyone} people" in texts(slack.fake.answers()[-1])
    async with slack.bot.db.read() as session:
        roles = {tm.member.user_id: tm.role for tm in await repo.team_members(session, 1)}
        zones = set((await session.execute(select(MemberRow.timezone))).scalars())
    assert len(roles) == everyone and set(people) <= roles.keys()
    assert roles[MARIA] == "lead" and sorted(roles.values()).count("lead") == 1
    assert "America/Chicago" in zones


async def test_command_text_containing_the_word_payload_is_not_lost(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    await slack.command("/show", "who carries the payload")
    await slack.settled()
    assert isinstance(showcase.seen[-1], CommandEvent)
    assert showcase.seen[-1].text == "who carries the payload"


async def test_commands_in_a_dm_with_plcbot_are_direct(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    await slack.command("/show", "who", channel="D" + MARIA, channel_name="directmessage")
    await slack.command("/show", "whisper hello", channel="D" + MARIA, channel_name="directmessage")
    await slack.settled()
    event = showcase.seen[-1]
    assert event.conversation.kind == ConversationKind.DIRECT
    posts = slack.fake.calls_to("chat.postMessage")
    assert [p["channel"] for p in posts] == ["D" + MARIA, "D" + MARIA]  # real posts in the DM
    assert "Only you see this: hello" in texts(posts[-1])


async def test_commands_in_other_peoples_dms_answer_through_the_response_url(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    """A DM between two teachers: plcbot is not in it, so it cannot post there."""
    await slack.command("/show", "who", channel="DOTHERS", channel_name="directmessage")
    await slack.settled()
    assert showcase.seen[-1].conversation.kind == ConversationKind.GROUP
    reply = slack.fake.answers()[-1]
    assert reply["response_type"] == "in_channel" and "Maria Garcia" in texts(reply)


async def test_help_is_named_the_way_slack_users_type_it(slack: SlackWorkspace) -> None:
    """Slack apps can't own /help, so every pointer to help says /plcbot help."""
    await slack.command("/team")
    await slack.command("/tema")
    await slack.settled()
    said = " ".join(texts(call) for call in slack.fake.answers())
    assert "Type /plcbot help to see what I can do" in said  # the new lead's welcome
    assert "Type /plcbot help to see them all" in said  # the unknown command
    assert "/help" not in said.replace("/plcbot help", "")


# -- plcbot's own commands, with nothing but its real features installed ---------------------


@pytest.fixture
async def plcbot(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> AsyncIterator[SlackWorkspace]:
    async with running_slack(sqlite_url, clock, fake) as workspace:
        yield workspace


async def ask(slack: SlackWorkspace, command: str, text: str = "", **kwargs: Any) -> Call:
    """Type a command and return plcbot's last answer to it (in its ack or its response URL)."""
    key = slack.next_id("ask")
    answer = await slack.command(command, text, response_url=slack.fake.response_url(key), **kwargs)
    assert answer.status == 200
    await slack.settled()
    answers = [c for c in slack.fake.answers() if c["response_url"] == key]
    assert answers, f"{command} {text} was not answered"
    return answers[-1]


HELP = {
    "/protocol": [
        "/protocol list [words or indicator]",
        "/protocol start NAME [@presenter]",
        "/protocol next",
        "/protocol add [--anon] [--step N] TEXT",
        "/protocol end",
        "/protocol history",
    ],
    "/commit": ["/commit TEXT by DATE [with @peer ...]"],
    "/commitments": [
        "/commitments mine",
        "/commitments done N [NOTE]",
        "/commitments edit N",
        "/commitments confirm D",
    ],
    "/reflect": [
        "/reflect schedule weekly DAY TIME",
        "/reflect status",
        "/reflect answer N TEXT",
        "/reflect mine",
    ],
    "/team": ["/team show", "/team lead @name", "/team timezone ZONE", "/team sync"],
}


@pytest.mark.parametrize("command", sorted(HELP))
async def test_each_command_explains_itself_to_whoever_asked(
    plcbot: SlackWorkspace, command: str
) -> None:
    reply = await ask(plcbot, command, "help", user=SAM)
    assert reply["response_type"] == "ephemeral"  # only Sam sees it
    assert reply["blocks"][0]["text"]["text"] == command
    shown = texts(reply)
    for usage in HELP[command]:
        assert usage in shown, usage
    assert not plcbot.fake.calls_to("chat.postMessage")  # nothing said in the channel


async def test_plcbot_help_names_every_command_and_opens_each_ones_help(
    plcbot: SlackWorkspace,
) -> None:
    overview = await ask(plcbot, "/plcbot", "help", user=JO)
    assert overview["response_type"] == "ephemeral"
    assert overview["blocks"][0]["text"]["text"] == "plcbot: what I can do"
    listed = {
        line.split(" - ")[0].removeprefix("• ")
        for line in texts(overview).splitlines()
        if line.startswith("• /")
    }
    assert {"/team", "/protocol", "/commit", "/commitments", "/reflect"} <= listed
    assert texts(await ask(plcbot, "/plcbot", user=JO)) == texts(overview)  # bare: the same

    protocol = await ask(plcbot, "/plcbot", "help protocol", user=JO)
    assert protocol["blocks"][0]["text"]["text"] == "/protocol"
    assert "/protocol start NAME" in texts(protocol)


async def test_protocol_list_shows_the_library_privately(plcbot: SlackWorkspace) -> None:
    reply = await ask(plcbot, "/protocol", "list")
    assert reply["response_type"] == "ephemeral"
    shown = texts(reply)
    assert "*Protocols I can facilitate*" in shown
    assert "• tuning: Tuning protocol (60 min, 3-12 people)" in shown
    assert "• chalk-talk: Chalk talk" in shown
    assert "/protocol start NAME [@presenter] runs one" in shown
    assert not plcbot.fake.calls_to("chat.postMessage")


async def test_commit_stores_a_commitment_and_commitments_lists_it(
    db_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    async with running_slack(db_url, clock, fake) as slack:
        saved = await ask(slack, "/commit", "Try exit tickets by Friday")
        assert saved["response_type"] == "ephemeral"
        assert "Saved as #1: Try exit tickets, due Fri 27 Nov." in texts(saved)
        # a shared commitment is also told to the team, in the channel
        [note] = fake.calls_to("chat.postMessage")
        assert note["channel"] == CHANNEL
        assert f"<@{MARIA}> committed to: Try exit tickets (by Fri 27 Nov)" in texts(note)
        # the confirmation goes first: the note may wait for the channel's pace, Maria should not
        said = [c.method for c in fake.sent if "Saved as #1" in texts(c)]
        assert said == ["response_url"] and fake.sent.index(note) == len(fake.sent) - 1

        async with slack.bot.db.read() as session:
            rows = (
                await session.execute(
                    select(CommitmentRow, MemberRow.user_id, TeamRow.conversation_id)
                    .join(MemberRow, MemberRow.id == CommitmentRow.owner_id)
                    .join(TeamRow, TeamRow.id == CommitmentRow.team_id)
                )
            ).all()
        assert len(rows) == 1
        row, owner, channel = rows[0]
        assert (row.number, row.what, row.due_on, row.status, row.visibility) == (
            1,
            "Try exit tickets",
            date(2026, 11, 27),  # the Friday of the clock's week
            "open",
            "shared",
        )
        assert (owner, channel) == (MARIA, CHANNEL)

        listed = await ask(slack, "/commitments")
        assert listed["response_type"] == "ephemeral"
        assert listed["blocks"][0]["text"]["text"] == "Your commitments"
        assert "#1 Try exit tickets (due Fri 27 Nov)" in texts(listed)

        # someone else's list does not show Maria's
        others = await ask(slack, "/commitments", user=SAM)
        assert "Try exit tickets" not in texts(others) and "Nothing open" in texts(others)


async def test_reflect_status_shows_the_schedule_privately(plcbot: SlackWorkspace) -> None:
    reply = await ask(plcbot, "/reflect", "status")
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["text"]["text"] == "Reflections"
    assert "none yet (/reflect schedule weekly fri 15:00)" in texts(reply)
    assert not plcbot.fake.calls_to("chat.postMessage")
