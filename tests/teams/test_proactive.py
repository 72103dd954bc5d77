"""Sending without an inbound request: 1:1 prompts after a restart, channel posts, the roster."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from bot.messages import say
from bot.ports import RateLimited
from storage import identity as repo
from storage.identity import Member, Team
from tests.support.fake_connector import FakeConnector
from tests.teams.activities import BOT_ID, CHANNEL, JO, MARIA, SAM, TENANT, Teams
from tests.teams.harness import TeamsServer, teams_server


async def member_and_team(server: TeamsServer, user_id: str) -> tuple[Member, Team]:
    async with server.bot.db.read() as session:
        workspace = await repo.find_workspace(session, "teams", TENANT)
        assert workspace is not None
        member = await repo.find_member(session, workspace, user_id)
        assert member is not None
        [(team, _role)] = await repo.teams_of(session, member.id)
    return member, team


async def test_a_prompt_reaches_a_member_1to1_after_a_restart_opening_the_chat_first(
    db_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(db_url, clock) as server:
        await server.post(teams.channel_message(MARIA, "team lead @Sam", mentions=(SAM,)))
    fake.clear()

    # a new process on the same database: Sam never wrote to plcbot 1:1
    async with teams_server(db_url, clock) as server:
        sam, team = await member_and_team(server, SAM.user_id)
        sent = await server.bot.core.outbox.to_member(sam, say("Time for this week's reflection."))
        [created] = fake.created
        assert created["bot"] == {"id": BOT_ID}
        assert created["members"] == [{"id": SAM.user_id}]
        assert created["tenantId"] == TENANT and created["isGroup"] is False
        assert sent.conversation.conversation_id == f"a:dm-{SAM.user_id}"
        assert fake.texts(f"a:dm-{SAM.user_id}") == ["Time for this week's reflection."]

        channel_post = await server.bot.core.outbox.to_team(team, say("Meeting in 10 minutes."))
        [posted] = [p for p in fake.posted if p.conversation_id == CHANNEL]  # a new thread
        assert posted.activity_id == channel_post.message_id
    fake.clear()

    # and after another restart, the chat opened last time is reused
    async with teams_server(db_url, clock) as server:
        sam, _team = await member_and_team(server, SAM.user_id)
        await server.bot.core.outbox.to_member(sam, say("A reminder."))
    assert fake.created == []
    assert fake.texts(f"a:dm-{SAM.user_id}") == ["A reminder."]


async def test_team_sync_reads_every_page_of_the_channel_roster(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    people = [{"id": f"29:teacher-{n}", "name": f"Teacher {n}"} for n in range(450)]
    fake.set_members(CHANNEL, [MARIA.account, *people])
    async with teams_server(sqlite_url, clock) as server:
        await server.post(teams.channel_message(MARIA, "team"))
        await server.post(teams.channel_message(MARIA, "team sync"))
        _maria, team = await member_and_team(server, MARIA.user_id)
        async with server.bot.db.read() as session:
            members = await repo.team_members(session, team.id)
    pages = [r for r in fake.requests if r.path.endswith("/pagedmembers")]
    assert len(pages) == 3
    assert [r.query.get("continuationToken", "") for r in pages] == ["", "200", "400"]
    assert len(members) == 451
    names = {tm.member.user_id: tm.member.display_name for tm in members}
    assert names["29:teacher-449"] == "Teacher 449"


async def test_a_429_from_the_connector_is_rate_limited_with_its_retry_after(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        await server.post(teams.channel_message(MARIA, "team"))
        _maria, team = await member_and_team(server, MARIA.user_id)
        fake.throttle(times=1, retry_after=7)
        with pytest.raises(RateLimited) as caught:
            await server.bot.core.outbox.to_team(team, say("Hello"))
        assert caught.value.retry_after == 7
        await server.bot.core.outbox.to_team(team, say("Hello again"))
    assert fake.texts(CHANNEL)[-1] == "Hello again"


async def test_a_private_reply_falls_back_to_a_note_when_teams_refuses_a_1to1_chat(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    """No private content lands in the channel: only a mention saying how to open a chat."""
    async with teams_server(sqlite_url, clock) as server:
        await server.post(teams.channel_message(MARIA, "team"))  # Maria: lead, chat opened
        post = teams.channel_message(JO, "team")
        fake.refuse_direct.add(JO.user_id)
        await server.post(post)
    thread = f"{CHANNEL};messageid={post['id']}"
    [note] = [p for p in fake.posted if p.conversation_id == thread]
    assert note.text.startswith("<at>Jo Park</at>, I have something for you alone")
    assert "Members" not in note.text
