"""Follow-up details: the owner's own time zone, a new date after "not yet", edits that move
the nudges, dropping that stops them, and an expired nudge after a long outage."""

from datetime import date

import pytest

from bot.clock import FakeClock
from bot.settings import SettingsError
from storage import jobs
from tests.commitments.calendar import QuietSet
from tests.commitments.support import button, console_with, form, join, said
from tests.support.harness import Console, make_bot


async def test_nudges_come_at_the_owners_local_afternoon(sqlite_url: str, clock: FakeClock) -> None:
    async with console_with(sqlite_url, clock, QuietSet()) as console:
        await join(console, "ana")
        # Ana's profile says Chicago (UTC-6): Monday 09:00 UTC is 03:00 there.
        await console.say("/as ana America/Chicago", "/commit Try exit tickets by Wednesday")
        assert "A friendly reminder" not in said(await console.say("/clock 2026-11-24T15:30"))
        out = said(await console.say("/clock 2026-11-24T21:31"))  # 15:31 in Chicago
        assert "A friendly reminder: #1 Try exit tickets (due tomorrow)" in out
        assert "How did it go?" in said(await console.say("/clock 2026-11-25T21:31"))


async def test_not_yet_then_a_new_date_starts_the_follow_up_again(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with console_with(sqlite_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben")
        await console.say("/as ana", "/commit Try exit tickets by tomorrow with @ben")
        out = await console.say("/clock 2026-11-24T15:30", "/dm")
        out = await console.say(f"/press {button(out, 'Not yet')}")
        assert "Recorded as not yet" in said(out) and "Set a new date" in said(out)
        out = await console.say(f"/press {button(out, 'Set a new date')}")
        out = await console.say(f'/submit {form(out, "A new date for #1?")} due="next Tuesday"')
        assert "Updated #1" in said(out) and "(due Tue 1 Dec" in said(out)
        assert "[open]" in said(out)  # a new attempt
        # Ben still hears about the "not yet" report.
        peer = said(await console.say("/clock +11m"))
        assert "A check-in for Ana" in peer and "Outcome: not yet. New date: Tue 1 Dec." in peer
        # And the follow-up runs again for the new date.
        out = said(await console.say("/clock 2026-11-30T15:31"))
        assert "A friendly reminder: #1 Try exit tickets (due tomorrow)" in out
        assert "How did it go?" in said(await console.say("/clock 2026-12-01T15:31"))


async def test_an_edit_moves_the_nudges_and_dropping_stops_them(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with console_with(sqlite_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben")
        await console.say(
            "/as ana",
            "/commit Try exit tickets by Wednesday with @ben",
            "/commit Call families by Wednesday",
            "/commitments edit 1 by next Friday #A5",
            "/commitments drop 2 No longer needed",
        )
        out = said(await console.say("/clock 2026-11-27T00:00"))
        assert "A friendly reminder" not in out and "How did it go?" not in out
        assert "A check-in for Ana" not in out
        out = said(await console.say("/clock 2026-12-03T15:31"))
        assert "A friendly reminder: #1 Try exit tickets (due tomorrow)" in out
        assert "Call families" not in out
        history = said(await console.say("/commitments show 1", "/commitments show 2"))
        assert "Ana changed due date, indicators" in history
        assert "Ana marked it dropped: No longer needed" in history


async def test_after_an_outage_the_stale_reminder_is_skipped_but_the_check_in_still_comes(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with console_with(sqlite_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben")
        await console.say("/as ana", "/commit Try exit tickets by tomorrow")
        await console.say("/commit Call families by tomorrow with @ben")
    # plcbot is down for a week. "Due tomorrow" would be wrong now, so the reminders expire;
    # without peers nothing else would ever ask, so Ana still hears "How did it go?" (late);
    # with a peer, the peer's nudge has taken over from the owner's check-in.
    async with console_with(sqlite_url, clock, QuietSet()) as console:
        out = said(await console.say("/clock 2026-12-01T09:00 offline"))
        assert "A friendly reminder" not in out
        assert out.count("How did it go?") == 1 and "Try exit tickets" in out
        assert "A check-in for Ana" in out and "Call families" in out
        async with console.bot.db.read() as session:
            for key, state in (
                ("commit:1:remind", jobs.EXPIRED),
                ("commit:2:remind", jobs.EXPIRED),
                ("commit:1:due", jobs.DONE),
                ("commit:2:due", jobs.EXPIRED),
                ("commit:2:silence", jobs.DONE),
            ):
                found = await jobs.get(session, key)
                assert found is not None and found[1] == state, key


async def test_a_day_made_quiet_after_planning_still_gets_no_nudge(
    sqlite_url: str, clock: FakeClock
) -> None:
    calendar = QuietSet()
    async with console_with(sqlite_url, clock, calendar) as console:
        await join(console, "ana")
        await console.say("/commit Try exit tickets by Wednesday")
        # The school adds a staff day on Tuesday and a snow day on Wednesday.
        calendar.days |= {date(2026, 11, 24), date(2026, 11, 25)}
        out = said(await console.say("/clock 2026-11-25T23:00"))
        assert "A friendly reminder" not in out and "How did it go?" not in out
        assert "How did it go?" in said(await console.say("/clock 2026-11-26T15:31"))


async def test_the_nudge_time_is_a_setting(sqlite_url: str, clock: FakeClock) -> None:
    with pytest.raises(SettingsError, match="PLCBOT_COMMITMENTS_NUDGE_TIME"):
        make_bot(sqlite_url, clock, PLCBOT_COMMITMENTS_NUDGE_TIME="3pm")
    bot = make_bot(sqlite_url, clock, PLCBOT_COMMITMENTS_NUDGE_TIME="08:15")
    console = Console(bot)
    async with bot.running():
        await console.say("/as ana", "/commit Try exit tickets by Wednesday")
        assert "A friendly reminder" in said(await console.say("/clock 2026-11-24T08:16"))
