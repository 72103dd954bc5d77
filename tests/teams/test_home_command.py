"""``home`` in Teams: asked with a mention in a channel or plainly in a personal chat, the
overview goes to the member's 1:1 chat only (Teams has no "only you can see this" in a channel)."""

from __future__ import annotations

from bot.clock import FakeClock
from tests.support.fake_connector import FakeConnector
from tests.teams.activities import CHANNEL, MARIA, SAM, Teams
from tests.teams.harness import teams_server


async def test_home_reaches_only_the_member_who_asked(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    async with teams_server(sqlite_url, clock) as server:
        for activity in (
            teams.channel_message(MARIA, "commit Call two families by Friday #private"),
            teams.channel_message(SAM, "team"),
        ):
            assert (await server.post(activity)).status == 202
        fake.clear()
        assert (await server.post(teams.channel_message(MARIA, "home"))).status == 202
        assert (await server.post(teams.personal_message(SAM, "home"))).status == 202

    assert fake.in_conversation(CHANNEL) == []  # nothing in the channel, not even a note
    [marias] = fake.texts(f"a:dm-{MARIA.user_id}")
    assert "plcbot for Maria Lopez" in marias and "Your open commitments" in marias
    assert "#1 Call two families (due Fri 27 Nov, private)" in marias
    [sams] = fake.texts(f"a:personal-{SAM.user_id}")
    assert "plcbot for Sam Okafor" in sams and "Call two families" not in sams
    assert len(fake.posted) == 2
