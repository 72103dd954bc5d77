"""The README's tour (examples/tour.txt) keeps working: every step answers, nothing fails."""

from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FakeClock
from tests.support.harness import running_console

TOUR = Path(__file__).resolve().parents[1] / "examples" / "tour.txt"


async def test_the_tour_runs_from_start_to_finish(sqlite_url: str) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    async with running_console(sqlite_url, clock) as console:
        out = "\n".join(await console.script(TOUR.read_text().splitlines()))
    assert "something went wrong" not in out
    assert "Tuning protocol: step 2 of 9" in out
    assert "Summary: Tuning protocol (session #1)" in out
    assert "@Ben committed to: Rewrite the final task" in out
    # Everyone's prompt arrives at 15:00 in Chicago (21:00 UTC), the reminder at 15:30.
    for name in ("Ana", "Ben", "Cam"):
        assert f"[Wed 21:00] DM to {name} <plcbot>" in out
    assert "[Wed 21:30] DM to Ben <plcbot>" in out
    assert "Saved as answer #1, kept private" in out
    assert "Carry into the next meeting" in out
