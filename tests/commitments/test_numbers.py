"""Per-team numbers: handed out once each, even when people commit at the same moment."""

import asyncio

from sqlalchemy import select

from adapters.console.session import member_for
from bot.clock import FakeClock
from bot.events import CommandEvent, ConversationRef
from storage.commitments import CommitmentRow
from tests.commitments.support import console_with, join

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
