"""The console adapter, driven line by line as a person would type."""

from bot.clock import FakeClock
from tests.support.harness import running_console


async def test_help_lists_the_commands_and_the_console_tools(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        out = "\n".join(await console.say("/help"))
    assert "/team" in out
    assert "/as NAME" in out and "/clock" in out


async def test_the_first_member_leads_and_can_share_the_role(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        first = "\n".join(await console.say("/as ana", "/team"))
        assert "first person to use me in this channel" in first
        assert "@Ana  [lead]" in first
        refused = "\n".join(await console.say("/as ben", "/team lead @ben"))
        assert "Only a team lead" in refused
        shared = "\n".join(await console.say("/as ana", "/team lead @ben", "/team"))
        assert "@Ben is now a lead" in shared and "@Ben  [lead]" in shared
        last = "\n".join(await console.say("/team member @ana", "/as ben", "/team member @ben"))
        assert "Ana is now a member" in last and "at least one lead" in last


async def test_unknown_commands_get_a_suggestion(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        out = "\n".join(
            await console.say("/tema", "/team frobnicate", "/press b99", "/clock later")
        )
    assert "Did you mean /team?" in out
    assert "/team has no 'frobnicate'" in out
    assert "There is no button" in out
    assert "couldn't read 'later'" in out


async def test_the_clock_moves_only_forward(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        out = "\n".join(await console.say("/clock", "/clock +90m", "/clock 2020-01-01T00:00"))
    assert "Mon 2026-11-23 09:00" in out and "10:30" in out
    assert "only moves forward" in out


async def test_control_characters_and_blank_lines_are_harmless(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        out = await console.say("", "   ", "\x1b[31mhello\x07", "/team timezone \x00")
    assert any("isn't a time zone" in line for line in out)


async def test_the_clock_walks_through_due_work_unless_offline(
    sqlite_url: str, clock: FakeClock
) -> None:
    """Moving the clock runs what falls due on the way, at its own time, in order; "offline"
    jumps as if plcbot had been down, so stale work is recorded as missed."""
    async with running_console(sqlite_url, clock) as console:
        await console.say("/as ana", "/commit Try exit tickets by Wednesday")
        walked = "\n".join(await console.say("/clock +3d"))
        # The reminder (Tuesday) and the check-in (Wednesday) each arrive at their own time.
        assert "[Tue 15:30] DM to Ana" in walked
        assert "[Wed 15:30] DM to Ana" in walked
        assert walked.index("A friendly reminder") < walked.index("How did it go?")
    async with running_console(sqlite_url, clock) as console:
        await console.say("/as ana", "/commit Call two families by Tuesday")
        jumped = "\n".join(await console.say("/clock +10d offline"))
        assert "A friendly reminder" not in jumped
        assert "How did it go?" not in jumped


async def test_a_members_time_zone_is_kept_when_switching_back(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        await console.say("/as ben America/Chicago", "/as ana", "/as ben")
        assert console.session.actor.timezone == "America/Chicago"
        await console.say("/as ben Europe/Paris")
        assert console.session.actor.timezone == "Europe/Paris"


async def test_one_clock_move_is_capped_and_a_refused_move_changes_nothing(
    sqlite_url: str, clock: FakeClock
) -> None:
    """Walking years of due work (or catching it all up offline) would hang the console."""
    async with running_console(sqlite_url, clock) as console:
        await console.say("/as ana", "/commit Try exit tickets by Wednesday")
        refused = await console.say(
            "/clock +999999d",
            "/clock +401d offline",
            "/clock +99999999999d",
            "/clock 2030-01-01T09:00",
        )
        assert sum("too far for one move" in line for line in refused) == 4
        assert "DM to Ana" not in "\n".join(refused)  # nothing ran on the way
        # (offline: walking 400 days of daily housekeeping takes seconds; the cap is the same)
        out = "\n".join(await console.say("/clock", "/clock +400d offline"))
    assert "(it is Mon 2026-11-23 09:00 UTC)" in out
    assert "(clock: Tue 2027-12-28 09:00 UTC)" in out
