"""Time in sessions: restarts keep sessions and their timers, live sessions wait for the
facilitator, ``--auto`` moves on, and ``--async`` reminds the quiet and moves on over days."""

import re
from datetime import timedelta

from bot.clock import FakeClock
from storage import jobs
from tests.protocols.support import active, team_of_three
from tests.support.harness import Console, make_bot, running_console


def joined(lines: list[str]) -> str:
    return re.sub(r"\n  \| +", " ", "\n".join(lines))


async def test_a_session_resumes_after_a_restart_timers_included(
    db_url: str, clock: FakeClock
) -> None:
    first = make_bot(db_url, clock)
    console = Console(first)
    async with first.running():
        await team_of_three(console)
        await console.say("/protocol start tuning @ben", "/protocol next")
        await console.say("/as ben", "Here is the unit and my question.")
        card_id = (await active(first)).row.card
    clock.advance(timedelta(minutes=9))  # the bot is down while the step's warning comes due

    second = make_bot(db_url, clock)
    again = Console(second)
    async with second.running():
        caught_up = joined(again.lines)  # start-up ran what came due while it was down
        assert "One minute left for The presenter shares the work." in caught_up
        loaded = await active(second)
        assert loaded.row.card == card_id and loaded.state.step == 1
        late = joined(await again.say("/clock +1m"))
        assert "(updated m3)" in late and "Time's up for The presenter shares the work" in late
        moved = joined(await again.say("/as ana", "/protocol next", "/protocol end"))
        assert "step 3 of 9" in moved
        assert "Ben: Here is the unit and my question." in moved


async def test_a_paused_session_stays_paused_across_a_restart(
    db_url: str, clock: FakeClock
) -> None:
    first = make_bot(db_url, clock)
    console = Console(first)
    async with first.running():
        await team_of_three(console)
        await console.say("/protocol start tuning @ben", "/clock +1m", "/protocol pause")
    clock.advance(timedelta(hours=3))
    second = make_bot(db_url, clock)
    again = Console(second)
    async with second.running():
        assert "One minute left" not in joined(again.lines)
        resumed = joined(await again.say("/as ana", "/protocol resume"))
        assert "Resumed: 2 min left on this step." in resumed
        assert "One minute left" in joined(await again.say("/clock +1m"))
        async with second.db.read() as s:
            pending = await jobs.pending_with_prefix(s, "protocol:1:")
        assert [j.key.rsplit(":", 1)[1] for j in pending] == ["time"]


async def test_a_live_session_waits_for_the_facilitator(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start tuning @ben")
        out = joined(await console.say("/clock +4m", "/clock +2h"))
        assert out.count("Time's up for Welcome, norms and roles") == 1
        assert (await active(console.bot)).state.step == 0
        # Hours late (the bot was down), a live meeting's announcements are dropped, not sent.
        await console.say("/protocol next")
        out = joined(await console.say("/clock +3h offline"))
        assert "One minute left" not in out and "Time's up" not in out


async def test_auto_advance_moves_on_when_time_is_up(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        start = joined(await console.say("/protocol start tuning @ben --auto"))
        assert "live, moving on by itself when a step's time is up" in start
        out = joined(await console.say("/clock +3m"))
        assert "Time's up for Welcome, norms and roles, so I'm moving on." in out
        assert "Step 2 of 9: The presenter shares the work" in out
        assert (await active(console.bot)).state.step == 1


async def test_async_mode_reminds_the_quiet_and_finishes_on_schedule(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        start = joined(await console.say("/protocol start tuning @ben --async 2d"))
        assert "each step stays open for 2d" in start
        assert "(Nothing to collect here, so I'm moving straight on.)" in start
        assert "Step 2 of 9: The presenter shares the work (open until Wed 25 Nov 09:00)" in start

        nudged = joined(await console.say("/clock +1d"))
        assert nudged.count("<plcbot>") == 1 and "DM to Ben <plcbot>" in nudged
        assert "your thoughts are welcome" in nudged and "until tomorrow 09:00" in nudged

        await console.say("/as ben", "The unit, and my question about the final task.")
        moved = joined(await console.say("/clock +1d"))
        assert "Time's up for The presenter shares the work, so I'm moving on." in moved
        assert "Step 3 of 9: Clarifying questions (open until Fri 27 Nov 09:00)" in moved

        await console.say("/as ana", "How long did it take?")
        nudged = joined(await console.say("/clock +1d"))
        assert "DM to Cam <plcbot>" in nudged
        assert "DM to Ana" not in nudged and "DM to Ben" not in nudged  # Ana wrote; Ben presents

        for _ in range(7):
            out = joined(await console.say("/clock +1d", "/clock +1d"))
        assert "Summary: Tuning protocol (session #1)" in out
        assert "Ben: The unit, and my question about the final task." in out
        assert "One minute left" not in console.text
