"""Who sees what: own and team-shared items for members, summaries for leads, private items
only for their owner and named peers, nothing across teams, and numbers that reveal nothing."""

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.console.messenger import ConsoleMessenger, direct_conversation
from adapters.console.session import member_for
from bot.clock import FakeClock
from bot.events import ActionEvent
from storage.commitments import CommitmentRow
from tests.commitments.support import console_with, join, said
from tests.support.harness import Console


@pytest.fixture
async def world(db_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Console]:
    """Team #plc: Ana (lead), Ben, Carla, Dee. Team #maths: Eve (lead) and Ana."""
    async with console_with(db_url, clock, files=tmp_path) as console:
        await join(console, "ana", "ben", "carla", "dee")
        await join(console, "eve", "ana", channel="maths")
        await console.say(
            "/as ben",
            "/channel plc",
            "/commit Shared thing to try by Friday with @carla",  # plc #1
            "/commit Private thing to try by Friday with @carla #private",  # plc #2
            "/as dee",
            "/commit Dee's own private thing by Friday #private",  # plc #3
            "/as eve",
            "/channel maths",
            "/commit Maths thing to try by Friday",  # maths #1
            "/as ana",
            "/commit Ana's maths thing by Friday",  # maths #2
        )
        yield console


async def as_(console: Console, who: str, *lines: str, channel: str = "plc") -> str:
    return said(await console.say(f"/as {who}", f"/channel {channel}", *lines))


async def test_team_lists_show_shared_items_and_private_ones_only_to_owner_and_peer(
    world: Console,
) -> None:
    carla = await as_(world, "carla", "/commitments team")
    assert "Shared thing" in carla and "Private thing" in carla  # Carla is Ben's peer
    assert "Dee's own" not in carla
    ana = await as_(world, "ana", "/commitments team")
    assert "Shared thing" in ana
    assert "Private thing" not in ana and "Dee's own" not in ana  # leads too
    assert "Maths thing" not in ana  # another team's items stay in that team
    dee = await as_(world, "dee", "/commitments team")
    assert "Dee's own private thing" in dee and "Private thing to try" not in dee

    assert "Private thing" in await as_(world, "carla", "/commitments show 2")
    for who in ("ana", "dee"):
        hidden = await as_(world, who, "/commitments show 2")
        assert "can't find a commitment #2 that you can see" in hidden
        assert "Private thing" not in hidden and "Ben" not in hidden

    # Search covers the teams one is in, with the same rule.
    assert "Private thing" in await as_(world, "carla", "/commitments search thing")
    ana_search = await as_(world, "ana", "/commitments search thing")
    assert "Shared thing" in ana_search and "Maths thing" in ana_search  # both her teams
    assert "Private thing" not in ana_search and "Dee's own" not in ana_search
    eve_search = await as_(world, "eve", "/commitments search thing", channel="maths")
    assert "Maths thing" in eve_search and "Shared thing" not in eve_search


async def test_only_the_owner_changes_a_commitment_and_private_numbers_reveal_nothing(
    world: Console,
) -> None:
    peer = await as_(world, "carla", "/commitments done 1")
    assert "#1 is Ben's commitment, so only Ben can report on it." in peer
    assert "As their peer you can write to them with /commitments reply 1" in peer
    lead = await as_(world, "ana", "/commitments edit 1 by next Friday")
    assert "only Ben can change it" in lead
    private = await as_(world, "ana", "/commitments drop 2")
    missing = await as_(world, "ana", "/commitments drop 99")
    assert "You have no commitment #2 here." in private
    # Someone else's private number reads exactly like one that doesn't exist.
    assert private.splitlines()[-1].replace("#2", "#N") == missing.splitlines()[-1].replace(
        "#99", "#N"
    )
    # A lead can't write to someone's private commitment either.
    assert "can't find a commitment #2" in await as_(world, "ana", "/commitments reply 2 Hi")
    # In a 1:1 chat, Ana's "#2" is her own (in #maths), not Ben's private #2 in #plc.
    dm = said(await world.say("/as ana", "/dm", "/commitments done 2"))
    assert "Well done! Recorded as done. #2 Ana's maths thing" in dm
    async with world.bot.db.read() as session:
        statuses = dict(
            (await session.execute(select(CommitmentRow.what, CommitmentRow.status))).all()
        )
    assert statuses["Private thing to try"] == "open"
    assert statuses["Shared thing to try"] == "open"


async def test_summaries_are_for_leads_and_count_private_items_without_showing_them(
    world: Console,
) -> None:
    refused = await as_(world, "ben", "/commitments summary")
    assert "Only a team lead can see the team's commitment summary" in refused
    summary = await as_(world, "ana", "/commitments summary")
    assert "Due in this period: 3" in summary and "Open: 3" in summary
    assert "Shared thing to try" in summary
    assert "Private thing" not in summary and "Dee's own" not in summary
    assert "2 private items not shown" in summary
    assert "Maths thing" not in summary


async def test_the_export_holds_exactly_what_the_person_may_see(
    world: Console, tmp_path: Path
) -> None:
    def rows(text: str) -> list[str]:
        name = text.split("saved ")[1].split(" to ")[0]
        content = (tmp_path / name).read_bytes().decode("utf-8-sig")
        return [row["what"] for row in csv.DictReader(io.StringIO(content))]

    assert rows(await as_(world, "ana", "/commitments export")) == ["Shared thing to try"]
    assert rows(await as_(world, "carla", "/commitments export")) == [
        "Shared thing to try",
        "Private thing to try",
    ]
    assert rows(await as_(world, "dee", "/commitments export")) == [
        "Shared thing to try",
        "Dee's own private thing",
    ]


async def test_forged_buttons_are_refused(world: Console, clock: FakeClock) -> None:
    """Button values carry ids; a crafted press for someone else's item changes nothing."""
    async with world.bot.db.read() as session:
        ids = dict((await session.execute(select(CommitmentRow.what, CommitmentRow.id))).all())
    messenger: ConsoleMessenger = world.session.messenger
    attempts = [
        ("ana", "commit.outcome", f"{ids['Private thing to try']}:done", {}),
        ("carla", "commit.outcome", f"{ids['Shared thing to try']}:dropped", {}),
        ("dee", "commit.reply", str(ids["Private thing to try"]), {"message": "hi"}),
        ("eve", "commit.cheer", str(ids["Shared thing to try"]), {}),
        ("ana", "commit.update", str(ids["Shared thing to try"]), {"what": "Mine now"}),
        ("eve", "commit.create", "1", {"what": "x", "due": "Friday"}),  # not in #plc
    ]
    answers = []
    for n, (who, action, value, form) in enumerate(attempts):
        actor = member_for(who)
        event = ActionEvent(
            event_id=f"forged-{n}",
            at=clock.now(),
            actor=actor,
            conversation=direct_conversation(actor),
            action_id=action,
            value=value,
            form=form,
        )
        result = await world.bot.dispatcher.handle(event, messenger)
        assert not result.failed
        answers.append(said(world.lines[-3:]))
    assert "That isn't yours to act on" in answers[0]
    assert "Only Ben can change #1" in answers[1]
    assert "That isn't yours to act on" in answers[2]
    assert "That isn't yours to act on" in answers[3]
    assert "Only Ben can change #1" in answers[4]
    assert "not in the team this form was for" in answers[5]
    async with world.bot.db.read() as session:
        rows = (await session.execute(select(CommitmentRow.what, CommitmentRow.status))).all()
    assert ("Mine now", "open") not in rows
    assert all(status == "open" for _what, status in rows)
    assert len(rows) == 5
