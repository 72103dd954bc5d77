"""Being added to a team or installed for a person stores the conversation reference.

So plcbot can message a team, or a member privately, before anyone there has written to it
(Teams sends no message when an app is installed, only the update activity).
"""

from __future__ import annotations

from typing import Any

from bot.clock import FakeClock
from bot.events import MemberRef
from bot.messages import say
from storage import identity
from tests.support.fake_connector import FakeConnector
from tests.teams.activities import BOT_ID, CHANNEL, JO, SAM, TENANT, Teams
from tests.teams.harness import teams_server


def installed_personally(teams: Teams, person: Any) -> dict[str, Any]:
    """The ``installationUpdate`` Teams sends when someone adds the app for themselves."""
    activity = teams.personal_message(person, "")
    del activity["text"], activity["textFormat"]
    activity.update(type="installationUpdate", action="add")
    return activity


async def test_added_to_a_team_plcbot_can_reach_its_members_before_anyone_speaks(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        assert (await server.post(teams.bot_added_to_team(SAM))).status == 202
        async with server.bot.db.read() as session:
            workspace = await identity.find_workspace(session, "teams", TENANT)
            assert workspace is not None
            stored = await identity.conversation_for(session, workspace, CHANNEL)
        assert stored is not None and stored.kind == "channel"
        assert stored.platform_data["service_url"] == fake.url
        assert stored.platform_data["bot_id"] == BOT_ID
        # a private note to someone who never wrote to plcbot: a 1:1 chat is opened for it
        jo = MemberRef("teams", TENANT, JO.user_id, JO.name)
        await server.messenger.post_direct(jo, say("Your reflection prompt."))
    assert fake.created[0]["members"] == [{"id": JO.user_id}]
    assert fake.created[0]["bot"] == {"id": BOT_ID}
    assert fake.texts(f"a:dm-{JO.user_id}") == ["Your reflection prompt."]


async def test_installed_for_a_person_their_1to1_chat_is_known_at_once(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    chat = f"a:personal-{SAM.user_id}"
    async with teams_server(sqlite_url, clock) as server:
        update = installed_personally(teams, SAM)
        assert (await server.post(update)).status == 202
        assert (await server.post(update)).status == 202  # a retry: still one welcome
        async with server.bot.db.read() as session:
            workspace = await identity.find_workspace(session, "teams", TENANT)
            assert workspace is not None
            sam = await identity.find_member(session, workspace, SAM.user_id)
            assert sam is not None and sam.display_name == SAM.name
            direct = await identity.direct_conversations(session, [sam.id])
    assert direct[sam.id].conversation_id == chat
    assert direct[sam.id].platform_data["service_url"] == fake.url
    [hello] = fake.in_conversation(chat)
    assert hello.text.startswith("Hi Sam Okafor! I'm plcbot.")
    assert fake.created == []  # the chat Teams gave is used; none was opened
