"""Commitments made at the same moment are stored together, and each still gets its own answer.

The groups here are given to the service as a whole, so that what is in a group does not
depend on timing; ``test_numbers.py`` makes commitments concurrently through the dispatcher.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError

from bot.clock import FakeClock
from bot.commitment.feature import CommitmentsFeature
from bot.commitment.inputs import Plan
from bot.commitment.service import _Making
from bot.errors import UserError
from bot.events import MemberRef
from bot.people import Named
from storage import commitments, identity, jobs
from storage.commitments import PRIVATE, SHARED, CommitmentEventRow
from storage.db import Database
from storage.identity import Member, Team
from storage.models import MemberRow
from tests.commitments.support import console_with, feature, join, member, team_id
from tests.support.harness import Console

FRIDAY = date(2026, 11, 27)


@contextmanager
def commits(db: Database) -> Iterator[list[int]]:
    """Counts the write transactions committed meanwhile (SQLAlchemy's own event)."""
    seen: list[int] = []

    def committed(_conn: Any) -> None:
        seen.append(1)

    engine = db.write_engine.sync_engine
    event.listen(engine, "commit", committed)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", committed)


async def team(console: Console, name: str = "plc") -> Team:
    async with console.bot.db.read() as session:
        found = await identity.get_team(session, await team_id(console, name))
    assert found is not None
    return found


async def making(
    f: CommitmentsFeature, plan: Plan, draft_id: int | None = None, *, clock: FakeClock
) -> _Making:
    nudges = await f.followup.nudges(plan.team, plan.owner, plan.due_on, bool(plan.peers))
    return _Making(plan, draft_id, nudges, clock.now())


def plan(team: Team, owner: Member, what: str, *peers: Named, visibility: str = SHARED) -> Plan:
    return Plan(team, owner, what, FRIDAY, None, peers, ("B3",), visibility)


def named(m: Member) -> Named:
    return Named(m.workspace_id, m.user_id, m.display_name, member=m)


async def test_a_group_of_commitments_is_one_transaction_and_each_is_as_read(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben", "carla")
        await join(console, "eve", channel="maths")
        plc, maths = await team(console), await team(console, "maths")
        ana, ben, carla, eve = [await member(console, n) for n in ("ana", "ben", "carla", "eve")]
        f = feature(console)
        newcomer = Named(
            plc.workspace_id,
            "dora",
            "Dora",
            MemberRef("console", "console", "dora", "Dora"),
        )
        plans = [
            plan(plc, ana, "Exit tickets", named(ben)),
            plan(maths, eve, "Number talks"),
            plan(plc, ben, "Cold calling", named(ana), newcomer, visibility=PRIVATE),
            plan(plc, carla, "Wait time"),
            plan(maths, eve, "Math journals"),
            plan(plc, ana, "Peer review", newcomer),  # Dora, admitted once for both
        ]
        batch = [await making(f, p, clock=clock) for p in plans]
        with commits(console.bot.db) as seen:
            outcomes = await f.service._make_many(batch)
        assert len(seen) == 1
        made = [outcomes[m] for m in batch]
        assert all(isinstance(c, commitments.Commitment) for c in made)
        assert [c.number for c in made if isinstance(c, commitments.Commitment)] == [
            1,
            1,
            2,
            3,
            2,
            4,
        ]  # each team's numbers in the order the calls came
        async with console.bot.db.read() as session:
            for c in made:
                assert isinstance(c, commitments.Commitment)
                assert c == await commitments.get(session, c.id)
                history = await commitments.history(session, c.id)
                assert [h.kind for h in history] == ["created"]
                for step in ("remind", "due"):
                    assert await jobs.get(session, f"commit:{c.id}:{step}") is not None
            dora = await session.scalar(
                select(func.count()).select_from(MemberRow).where(MemberRow.user_id == "dora")
            )
        assert dora == 1
        names = [[p.name for p in c.peers] for c in made if isinstance(c, commitments.Commitment)]
        assert names == [["Ben"], [], ["Ana", "Dora"], [], [], ["Dora"]]


async def test_a_proposal_confirmed_twice_in_one_group_becomes_one_commitment(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben")
        plc = await team(console)
        ana = await member(console, "ana")
        f = feature(console)
        async with console.bot.db.write() as session:
            draft, _ = await commitments.add_draft(
                session,
                team_id=plc.id,
                owner_id=ana.id,
                session_id=None,
                text="Exit tickets by Friday",
                indicators=("B3",),
                now=clock.now(),
            )
        p = plan(plc, ana, "Exit tickets")
        first, second = [await making(f, p, draft.id, clock=clock) for _ in range(2)]
        other = await making(f, plan(plc, ana, "Wait time"), clock=clock)
        outcomes = await f.service._make_many([first, second, other])
        made, refused = outcomes[first], outcomes[second]
        assert isinstance(made, commitments.Commitment) and made.number == 1
        assert isinstance(refused, UserError)
        assert "already answered" in str(refused) and "#1" in str(refused)
        assert isinstance(outcomes[other], commitments.Commitment)
        # later, on its own, the answer still names the commitment by its number
        late = await f.service._make_many([await making(f, p, draft.id, clock=clock)])
        assert "#1" in str(next(iter(late.values())))
        with pytest.raises(UserError, match="#1"):
            await f.service.create(p, draft_id=draft.id)
        async with console.bot.db.read() as session:
            stored = await commitments.owned_by(session, ana.id, statuses=commitments.STATUSES)
            decided = await commitments.get_draft(session, draft.id)
        assert sorted(c.what for c in stored) == ["Exit tickets", "Wait time"]
        assert decided is not None and decided.commitment_id == made.id


async def test_a_call_that_cannot_be_stored_does_not_fail_the_others_in_its_group(
    db_url: str, clock: FakeClock
) -> None:
    """Carla's member row is gone (erased) while her /commit is on its way: the group's
    transaction fails, and each call is tried again on its own."""
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben", "carla")
        plc = await team(console)
        ana, ben, carla = [await member(console, n) for n in ("ana", "ben", "carla")]
        f = feature(console)
        batch = [
            await making(f, plan(plc, owner, f"Step by {owner.display_name}"), clock=clock)
            for owner in (ana, carla, ben)
        ]
        async with console.bot.db.write() as session:
            await session.execute(delete(MemberRow).where(MemberRow.id == carla.id))
        with commits(console.bot.db) as seen:
            outcomes = await f.service._make_many(batch)
        assert isinstance(outcomes[batch[1]], IntegrityError)
        good = [outcomes[batch[0]], outcomes[batch[2]]]
        assert all(isinstance(c, commitments.Commitment) for c in good)
        assert len(seen) == 2  # the two alone; the group and Carla's rolled back
        async with console.bot.db.read() as session:
            events = await session.scalar(select(func.count()).select_from(CommitmentEventRow))
            for c in good:
                assert isinstance(c, commitments.Commitment)
                assert c == await commitments.get(session, c.id)
        assert events == 2
        # on its own, the failure is the caller's, as it always was
        with pytest.raises(IntegrityError):
            await f.service.create(plan(plc, carla, "Again"))
