"""Per-team numbers: handed out once each, even when people commit at the same moment."""

import asyncio
from datetime import date

from sqlalchemy import select

from adapters.console.session import member_for
from bot.clock import FakeClock
from bot.commitment.inputs import Plan
from bot.events import CommandEvent, ConversationRef
from bot.people import Named
from storage import commitments, identity
from storage.commitments import PRIVATE, CommitmentRow
from tests.commitments.support import console_with, feature, join, member, team_id

PLC = ConversationRef("console", "console", "plc", name="plc")


async def test_simultaneous_commitments_get_distinct_numbers_per_team(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben", "carla")
        await join(console, "eve", channel="maths")
        maths = ConversationRef("console", "console", "maths", name="maths")

        def commit(n: int) -> CommandEvent:
            """Every fourth in #maths by Eve; the rest in #plc by Ana, Ben and Carla."""
            in_maths = n % 4 == 0
            return CommandEvent(
                event_id=f"same-moment-{n}",
                at=clock.now(),
                actor=member_for("eve" if in_maths else ("ana", "ben", "carla")[n % 3]),
                conversation=maths if in_maths else PLC,
                name="commit",
                text=f"Step {n} by Friday",
            )

        results = await asyncio.gather(
            *(
                console.bot.dispatcher.handle(commit(n), console.session.messenger)
                for n in range(24)
            )
        )
        assert not any(r.failed for r in results)
        async with console.bot.db.read() as session:
            rows = (
                await session.execute(select(CommitmentRow.team_id, CommitmentRow.number))
            ).all()
        by_team: dict[int, list[int]] = {}
        for team, number in rows:
            by_team.setdefault(team, []).append(number)
        assert sorted(len(v) for v in by_team.values()) == [6, 18]
        assert all(sorted(v) == list(range(1, len(v) + 1)) for v in by_team.values())


async def test_a_new_commitment_is_returned_as_a_read_would_return_it(
    db_url: str, clock: FakeClock
) -> None:
    """create() builds its answer from the insert's RETURNING, not from reading the row back."""
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "zoe", "ben")
        ana, zoe, ben = [await member(console, name) for name in ("ana", "zoe", "ben")]
        async with console.bot.db.read() as session:
            plc = await identity.get_team(session, await team_id(console))
        assert plc is not None
        named = tuple(
            Named(m.workspace_id, m.user_id, m.display_name, member=m) for m in (zoe, ben, zoe)
        )
        plan = Plan(plc, ana, "Try exit tickets", date(2026, 11, 27), None, named, ("B3",), PRIVATE)
        made = await feature(console).service.create(plan)
        async with console.bot.db.read() as session:
            read = await commitments.get(session, made.id)
        assert made == read
        assert [p.name for p in made.peers] == ["Ben", "Zoe"]  # once each, in the read's order
        assert made.status == "open" and made.number == 1 and made.indicators == ("B3",)
