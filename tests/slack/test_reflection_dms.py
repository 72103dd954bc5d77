"""Prompts to people who never wrote to plcbot: the DM opened for one round serves the next.

Slack allows ``conversations.open`` about 50 times a minute, so a district-wide round that
opened every DM again each week would crawl; the channel plcbot opened is stored with the
member, so the next round (in another process, after a restart) posts straight to it.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.messages import say
from storage import identity
from tests.slack.workspace import JO, MARIA, SAM, SlackWorkspace, running_slack
from tests.support.fake_slack import FakeSlack


async def a_round(slack: SlackWorkspace, clock: FakeClock) -> None:
    await slack.command("/reflect", "now")
    await slack.settled()
    for _ in range(3):  # the round's sends, then anything they scheduled at once
        await slack.bot.scheduler.run_due()
        clock.advance(timedelta(seconds=1))
    await slack.settled()


def prompted(fake: FakeSlack) -> list[str]:
    return sorted(
        str(c.args["channel"])
        for c in fake.calls_to("chat.postMessage")
        if str(c.args["channel"]).startswith("D")
    )


async def test_a_dm_opened_for_one_round_is_reused_by_the_next_after_a_restart(
    db_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    async with running_slack(db_url, clock, fake) as slack:
        await slack.command("/team")
        await slack.command("/team", "sync")
        await slack.settled()
        fake.calls.clear()
        await a_round(slack, clock)
    opened = sorted(str(c.args["users"]) for c in fake.calls_to("conversations.open"))
    assert opened == sorted([MARIA, SAM, JO])
    first = prompted(fake)
    assert len(first) == 3

    clock.advance(timedelta(days=7))
    fake.calls.clear()
    async with running_slack(db_url, clock, fake) as slack:  # a new process, nothing cached
        await a_round(slack, clock)
    assert fake.calls_to("conversations.open") == []
    assert prompted(fake) == first


async def test_a_reminder_to_someone_who_never_wrote_opens_their_dm_once(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    async with running_slack(sqlite_url, clock, fake) as slack:
        await slack.command("/team", "sync")
        await slack.settled()
        async with slack.bot.db.read() as session:
            workspace = await identity.find_workspace(session, "slack", fake.team_id)
            assert workspace is not None
            sam = await identity.find_member(session, workspace, SAM)
        assert sam is not None
        await slack.bot.core.outbox.to_member(sam, say("Your commitment is due tomorrow."))
    async with running_slack(sqlite_url, clock, fake) as slack:
        await slack.bot.core.outbox.to_member(sam, say("How did it go?"))
    assert [c.args["users"] for c in fake.calls_to("conversations.open")] == [SAM]
    assert prompted(fake) == ["D" + SAM, "D" + SAM]
