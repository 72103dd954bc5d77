"""Prompts to people who never wrote to plcbot: no ``conversations.open``, and the DM found
for one round serves the next.

Slack allows ``conversations.open`` about 50 times a minute, so a district-wide round that
opened every DM would crawl. plcbot posts to the person's id instead, which Slack delivers
to the bot's DM and answers with that DM's id; the id is stored with the member, so the next
round (in another process, after a restart) posts straight to it. A workspace that refuses a
person's id as a channel gets the DM opened, once.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.messages import say
from bot.outbox import member_ref
from storage import identity
from storage.identity import Member
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
    """Where the DMs landed (the fake answers a post to a person's id with their DM)."""
    return sorted(
        str(c.landed) for c in fake.calls_to("chat.postMessage") if str(c.landed).startswith("D")
    )


async def synced_member(slack: SlackWorkspace, user_id: str) -> Member:
    """The member ``/team sync`` stored for a person of the channel."""
    await slack.command("/team", "sync")
    await slack.settled()
    async with slack.bot.db.read() as session:
        workspace = await identity.find_workspace(session, "slack", slack.fake.team_id)
        assert workspace is not None
        member = await identity.find_member(session, workspace, user_id)
    assert member is not None
    return member


def addressed(fake: FakeSlack) -> list[str]:
    """What plcbot put in each DM's ``channel``."""
    return sorted(
        str(c.args["channel"])
        for c in fake.calls_to("chat.postMessage")
        if str(c.landed).startswith("D")
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
    assert fake.calls_to("conversations.open") == []
    assert addressed(fake) == sorted([MARIA, SAM, JO])
    first = prompted(fake)
    assert first == sorted("D" + u for u in (MARIA, SAM, JO))

    clock.advance(timedelta(days=7))
    fake.calls.clear()
    async with running_slack(db_url, clock, fake) as slack:  # a new process, nothing cached
        await a_round(slack, clock)
    assert fake.calls_to("conversations.open") == []
    assert prompted(fake) == first
    assert addressed(fake) == first  # straight to the stored DMs


async def test_a_message_to_someone_who_never_wrote_finds_their_dm_once(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    async with running_slack(sqlite_url, clock, fake) as slack:
        sam = await synced_member(slack, SAM)
        await slack.bot.core.outbox.to_member(sam, say("Your commitment is due tomorrow."))
    async with running_slack(sqlite_url, clock, fake) as slack:
        await slack.bot.core.outbox.to_member(sam, say("How did it go?"))
    assert fake.calls_to("conversations.open") == []
    assert prompted(fake) == ["D" + SAM, "D" + SAM]
    assert addressed(fake) == ["D" + SAM, SAM]  # his id first; after the restart, his DM


async def test_a_workspace_refusing_a_persons_id_as_channel_gets_the_dm_opened_once(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    fake.user_ids_post_to_dms = False
    async with running_slack(sqlite_url, clock, fake) as slack:
        sam = await synced_member(slack, SAM)
        fake.calls.clear()
        messenger = slack.adapter.messenger
        for text in ("Your commitment is due tomorrow.", "How did it go?"):
            await messenger.post_direct(member_ref(sam), say(text))
    assert [c.args["users"] for c in fake.calls_to("conversations.open")] == [SAM]
    channels = [c.args["channel"] for c in fake.calls_to("chat.postMessage")]
    assert channels == [SAM, "D" + SAM, "D" + SAM]  # refused, then the opened DM twice
    assert prompted(fake) == ["D" + SAM, "D" + SAM]
