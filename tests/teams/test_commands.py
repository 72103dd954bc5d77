"""Commands typed in Teams: @mentions in channels, plain words in a personal chat, retries."""

from __future__ import annotations

from sqlalchemy import text

from bot.clock import FakeClock
from storage import identity as repo
from tests.support.fake_connector import FakeConnector
from tests.teams.activities import BOT_ID, CHANNEL, MARIA, SAM, TENANT, Teams
from tests.teams.harness import teams_server


async def test_a_channel_command_mentioning_people_runs_and_answers_in_its_thread(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        post = teams.channel_message(MARIA, "team lead @Sam", mentions=(SAM,))
        answer = await server.post(post)
        assert answer.status == 202

        thread = f"{CHANNEL};messageid={post['id']}"
        in_thread = [p for p in fake.posted if p.conversation_id == thread]
        assert len(in_thread) == 1
        card = in_thread[0].card
        assert card["version"] == "1.4"
        assert "<at>Sam Okafor</at> is now a lead of this team (added by Maria Lopez)." in (
            in_thread[0].text
        )
        assert card["msteams"]["entities"] == [
            {
                "type": "mention",
                "text": "<at>Sam Okafor</at>",
                "mentioned": {"id": SAM.user_id, "name": "Sam Okafor"},
            }
        ]
        # Maria was first, so she leads; being told so is private: her 1:1 chat, opened for it
        assert fake.created[0]["members"] == [{"id": MARIA.user_id}]
        assert fake.created[0]["bot"] == {"id": BOT_ID}
        assert "you are this team's lead" in fake.texts(f"a:dm-{MARIA.user_id}")[0]

        async with server.bot.db.read() as session:
            workspace = await repo.find_workspace(session, "teams", TENANT)
            assert workspace is not None
            team_conversation = await repo.conversation_for(session, workspace, CHANNEL)
            assert team_conversation is not None  # the channel, not the thread, is the team
            assert team_conversation.platform_data["service_url"] == fake.url
            assert team_conversation.platform_data["bot_id"] == BOT_ID
            maria = await repo.find_member(session, workspace, MARIA.user_id)
            assert maria is not None and maria.timezone == "America/Chicago"
            assert maria.last_team_id is not None
            roles = {
                tm.member.user_id: tm.role
                for tm in await repo.team_members(session, maria.last_team_id)
            }
        assert roles == {MARIA.user_id: "lead", SAM.user_id: "lead"}


async def test_a_personal_chat_takes_commands_without_a_mention(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        assert (await server.post(teams.personal_message(SAM, "help team"))).status == 202
        assert (await server.post(teams.personal_message(SAM, "what is this?"))).status == 202
    texts = fake.texts(f"a:personal-{SAM.user_id}")
    assert len(texts) == 2
    assert texts[0].startswith("/team\nWho is in this team")  # help for one command
    assert "plcbot: what I can do" in texts[1]  # an ordinary message gets the overview
    assert fake.created == []  # the chat already exists: no new one was opened


async def test_channel_text_without_the_bot_mentioned_is_never_a_command(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    """With "read all channel messages" consent the bot sees every post; "team meeting at 3"
    is a sentence, not ``team``."""
    async with teams_server(sqlite_url, clock) as server:
        post = teams.channel_message(MARIA, "team meeting at 3", mention_bot=False)
        assert (await server.post(post)).status == 202
    assert fake.posted == []


async def test_a_group_chat_takes_commands_that_mention_the_bot_and_ignores_the_rest(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        await server.post(teams.group_message(SAM, "lunch at noon?", mention_bot=False))
        await server.post(teams.group_message(SAM, "help", mention_bot=True))
    [answer] = fake.posted  # help is private: it goes to Sam's 1:1 chat, not the group
    assert answer.conversation_id == f"a:dm-{SAM.user_id}"
    assert "plcbot: what I can do" in answer.text


async def test_a_retried_activity_takes_effect_once_even_across_a_restart(
    db_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    post = teams.channel_message(MARIA, "team lead @Sam", mentions=(SAM,))
    async with teams_server(db_url, clock) as server:
        assert (await server.post(post)).status == 202
        assert (await server.post(post)).status == 202
    async with teams_server(db_url, clock) as server:
        assert (await server.post(post)).status == 202
    assert len(fake.texts(CHANNEL)) == 1
    assert len(fake.texts(f"a:dm-{MARIA.user_id}")) == 1


async def test_adding_plcbot_to_a_team_says_hello_once(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    update = teams.bot_added_to_team(MARIA)
    async with teams_server(sqlite_url, clock) as server:
        assert (await server.post(update)).status == 202
        assert (await server.post(update)).status == 202
    hello = [p for p in fake.posted if p.conversation_id == CHANNEL]
    assert len(hello) == 1
    assert "Hello, Grade 5 PLC! I'm plcbot." in hello[0].text


async def test_the_about_page_linked_from_the_app_package_is_served(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with (
        teams_server(sqlite_url, clock) as server,
        server.http.get(server.url + "/teams/about") as response,
    ):
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert 'id="privacy"' in page and 'id="terms"' in page
    assert "never evaluations of educators" in page


async def test_when_the_database_fails_teams_is_asked_to_retry_and_the_retry_works(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    """A 503 (not a 202) for a message plcbot could not record, so the Bot Connector sends it
    again; the retry is then handled normally, once."""
    post = teams.personal_message(SAM, "help")
    async with teams_server(sqlite_url, clock) as server:
        async with server.bot.db.write() as session:
            await session.execute(text("ALTER TABLE processed_events RENAME TO pe_away"))
        failed = await server.post(post)
        assert failed.status == 503
        assert "Traceback" not in failed.text
        async with server.bot.db.write() as session:
            await session.execute(text("ALTER TABLE pe_away RENAME TO processed_events"))
        assert (await server.post(post)).status == 202
        assert (await server.post(post)).status == 202
    assert len(fake.texts(f"a:personal-{SAM.user_id}")) == 1
