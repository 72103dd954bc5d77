"""Managing the schedule, channel mode, a team's own prompts and the home view, by console."""

import itertools
import re
from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from storage import identity
from tests.reflections.support import only_team, said
from tests.reflections.test_round_console import join, tick
from tests.support.harness import running_console


async def test_pause_resume_skip_and_off(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        out = said(
            await console.say(
                "/as ana",
                "/reflect schedule weekly wed 9:00",
                "/reflect skip next",
                "/reflect status",
            )
        )
        assert "The first one comes on Wed 25 Nov" in out
        assert "The round on Wed 25 Nov is skipped" in out
        assert "Next round: Wed 2 Dec (none on Wed 25 Nov: skipped by a lead)" in out
        week1 = said(await tick(console, datetime(2026, 11, 26, 12, 0, tzinfo=UTC)))
        assert "A moment to reflect" not in week1
        status = said(await console.say("/reflect status"))
        assert "skipped: skipped by a lead" in status and "Next round: Wed 2 Dec" in status
        paused = said(await console.say("/reflect pause", "/reflect status"))
        assert "Reflections are paused" in paused and "(paused)" in paused
        week2 = said(await tick(console, datetime(2026, 12, 3, 12, 0, tzinfo=UTC)))
        assert "A moment to reflect" not in week2
        resumed = said(await console.say("/reflect resume", "/reflect status"))
        assert "Next round: Wed 9 Dec" in resumed
        week3 = said(await tick(console, datetime(2026, 12, 9, 10, 0, tzinfo=UTC)))
        assert week3.count("A moment to reflect") == 2
        off = said(await console.say("/reflect off", "/reflect status"))
        assert "Reflections are off" in off and "(off)" in off and "Next round" not in off
        later = said(
            await tick(console, datetime(2026, 12, 24, 10, 0, tzinfo=UTC), timedelta(hours=6))
        )
        assert "A moment to reflect" not in later
        assert "Reflection round: what the team shared" in later  # the open round still closes


async def test_channel_mode_asks_everyone_the_same_prompt_and_answers_stay_private(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben", "cy")
        await console.say("/as ana", "/reflect schedule weekly tue 8:00 indicators C2 channel")
        posted = await tick(console, datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
        text = said(posted)
        assert "This week's reflection" in text and "#plc <plcbot>" in text
        assert "DM to" not in text and "Linked to C2 Families and community as partners" in text
        button = re.search(r"\[(b\d+) Answer privately\]", "\n".join(posted))
        round_no = re.search(r"/reflect answer round (\d+)", text)
        assert button and round_no
        out = said(
            await console.say(
                "/as ben",
                f"/press {button.group(1)}",
                "/as cy",
                "/dm",
                f"/reflect answer round {round_no.group(1)} Families loved the newsletter",
            )
        )
        assert "(only Ben sees this) Your reflection" in out
        form = re.search(r"\[(f\d+)\] Your reflection", "\n".join(console.lines))
        assert form
        answered = said(
            await console.say("/as ben", f'/submit {form.group(1)} answer="A call home helped"')
        )
        assert "kept private" in answered and "kept private" in out
        digest = said(await tick(console, datetime(2026, 11, 26, 9, 0, tzinfo=UTC)))
        assert "Answered: 2 of 3" in digest and "call home" not in digest


async def test_a_teams_own_prompts_join_the_rotation(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        out = said(
            await console.say(
                "/as ana",
                "/reflect prompts add A4 Which data point surprised you most this week?",
                "/reflect prompts",
                "/reflect prompts A4",
                "/reflect indicators",
            )
        )
        assert "Added prompt t1 to A4 An evidence-based improvement cycle" in out
        assert "t1 A4: Which data point surprised you most this week?" in out
        assert "[next step]" in out and "[t1, yours]" in out
        assert "C5 Technology across communities" in out
        await console.say("/reflect schedule weekly mon 10:00 indicators A4")
        texts = []
        for week in range(5):
            lines = await tick(
                console, datetime(2026, 11, 30, 11, 0, tzinfo=UTC) + timedelta(weeks=week)
            )
            block = "\n".join(lines).split("DM to Ben <plcbot>")[1].split("Linked to")[0]
            texts.append(re.sub(r"\s+", " ", block.replace("  | ", " ")).strip())
            await tick(console, datetime(2026, 12, 4, 12, 0, tzinfo=UTC) + timedelta(weeks=week))
        assert all(a != b for a, b in itertools.pairwise(texts))
        assert any("surprised you most" in t for t in texts)
        removed = said(
            await console.say("/reflect prompts remove t1", "/reflect prompts remove t1")
        )
        assert "Prompt t1 removed" in removed and "Your team has no prompt t1" in removed


async def test_home_shows_the_next_prompt_and_recent_reflections(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        await console.say("/as ana", "/reflect schedule weekly thu 14:00")
        team = await only_team(console.bot)
        async with console.bot.db.read() as session:
            ben = next(
                tm.member
                for tm in await identity.team_members(session, team.id)
                if tm.member.user_id == "ben"
            )
        home = await console.bot.home_for(ben)
        assert "next reflection round is on Thu 26 Nov" in str(home.blocks)
        await tick(console, datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
        assert "Waiting for you" in str((await console.bot.home_for(ben)).blocks)
        await console.say("/as ben", "/dm", "Small groups worked better today")
        home = await console.bot.home_for(ben)
    shown = str(home.blocks)
    assert "Small groups worked better today" in shown and "only you see these" in shown


async def test_changing_or_pausing_the_schedule_within_a_week_keeps_the_round(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        await console.say(
            "/as ana",
            "/reflect schedule weekly thu 9:00",
            "/reflect schedule weekly thu 10:00",
            "/reflect pause",
            "/reflect resume",
        )
        early = said(await tick(console, datetime(2026, 11, 26, 9, 30, tzinfo=UTC)))
        assert "A moment to reflect" not in early
        on_time = await tick(
            console, datetime(2026, 11, 26, 10, 30, tzinfo=UTC), timedelta(minutes=30)
        )
    assert said(on_time).count("A moment to reflect") == 2
    assert "[Thu 10:00] DM to" in "\n".join(on_time)
