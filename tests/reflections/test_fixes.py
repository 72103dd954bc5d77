"""Fixes: the posted digest follows deletions and un-sharing, late and repeated answers are
announced, channel prompts never repeat anyone's last, skip next skips onwards, mine pages,
now respects off, the improvement cycle in the catalogue, one definition of the term."""

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.reflection.bank import Prompt
from bot.reflection.digest import REDRAW
from bot.reflection.rotation import pick_shared_prompt
from bot.reflection.timing import SchoolDays
from storage import jobs
from storage import reflections as repo
from storage.models import JobRow
from storage.reflection_models import ReflectionDeliveryRow, ReflectionRoundRow
from tests.reflections.support import only_team, said
from tests.reflections.test_round_console import join, prompt_number, tick
from tests.support.harness import Console, running_console

WEEKEND = frozenset({5, 6})


async def answered_round(console: Console) -> list[str]:
    """Ana (named), Ben (anonymous) and Cy (named) answer a round started now."""
    await join(console, "ana", "ben", "cy", "dee")
    await console.say("/as ana", "/reflect now")
    await console.bot.scheduler.run_due()
    lines = list(console.lines)
    for who, share in (("ana", "team"), ("ben", "anon"), ("cy", "team")):
        number = prompt_number(lines, who.title())
        await console.say(
            f"/as {who}", "/dm", f"/reflect answer {number} Words of {who} --share {share}"
        )
    return lines


def answer_number(lines: list[str]) -> str:
    """The number of the newest answer a ``/reflect mine`` listing shows."""
    found = re.search(r"- #(\d+) ", said(lines))
    assert found
    return found.group(1)


async def test_the_posted_digest_drops_an_answer_deleted_or_unshared(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await answered_round(console)
        digest = said(await tick(console, datetime(2026, 11, 26, 10, 0, tzinfo=UTC)))
        assert "Answered: 3 of 4" in digest
        assert "Words of ana - Ana" in digest and "Words of ben - anonymous" in digest

        mine = await console.say("/as ana", "/dm", "/reflect mine")
        gone = said(await console.say(f"/reflect delete {answer_number(mine)}"))
        assert "taking it out of the round's digest" in gone
        await console.bot.scheduler.run_due()
        redrawn = messages_after(console, "/reflect delete")
        assert "#plc <plcbot> (updated" in redrawn
        assert "Words of ana" not in redrawn and "Words of cy - Cy" in redrawn
        # Two answers left: the anonymous one must not stay where it could be traced.
        assert "Answered: 2 of 4" in redrawn and "Words of ben" not in redrawn

        mine = await console.say("/as cy", "/dm", "/reflect mine")
        unshared = said(await console.say(f"/reflect share {answer_number(mine)} private"))
        assert "kept private" in unshared and "updating the round's digest" in unshared
        await console.bot.scheduler.run_due()
        redrawn = messages_after(console, "/reflect share")
        assert "(updated" in redrawn and "Words of cy" not in redrawn
        assert "No answers to show the team this time" in redrawn

        # A late answer, shared, never joins the digest when it is redrawn.
        late = await console.say(
            "/as dee",
            "/dm",
            f"/reflect answer {prompt_number(console.lines, 'Dee')} Late words --share team",
        )
        assert "This round closed on yesterday; saved as a late answer" in said(late)
        assert "stays just between us" in said(late)
        mine = await console.say("/as cy", "/reflect mine")
        await console.say(f"/reflect share {answer_number(mine)} team")
        await console.bot.scheduler.run_due()
        redrawn = messages_after(console, "/reflect share")
        assert "Words of cy - Cy" in redrawn and "Late words" not in redrawn
        assert "Answered: 2 of 4" in redrawn


def messages_after(console: Console, typed: str) -> str:
    """Everything the console showed since the last line the person typed containing ``typed``."""
    last = max(i for i, line in enumerate(console.lines) if typed in line and "> " in line)
    return said(console.lines[last:])


async def test_a_repeated_answer_says_it_replaced_the_earlier_one(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        lines = await answered_round(console)
        number = prompt_number(lines, "Ana")
        await console.say("/clock +2h")
        again = said(await console.say("/as ana", "/dm", f"/reflect answer {number} Second go"))
        assert "Updated your answer #" in again
        assert "this replaces the one you saved today 09:00" in again
        assert "kept private" in again
        # A line typed in the DM, then an answer by command: the second says what it replaced.
        first = said(await console.say("/as dee", "/dm", "A thought from Dee"))
        assert "Saved as answer #" in first and "Updated" not in first
        second = said(await console.say(f"/reflect answer {prompt_number(lines, 'Dee')} Better"))
        assert "Updated your answer #" in second and "replaces the one you saved" in second


async def test_a_channel_round_never_repeats_anyones_last_prompt(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await join(console, "ana", "ben", "cy")
        # One round on another indicator first, then B3 by DM, then B3 in the channel.
        for indicators in ("A1", "B3"):
            await console.say(
                "/as ana", f"/reflect schedule weekly fri 15:00 indicators {indicators}"
            )
            await console.say("/reflect now")
            await console.bot.scheduler.run_due()
            await console.say("/clock +1m")
        await console.say("/reflect schedule weekly fri 15:00 indicators B3 channel")
        await console.say("/reflect now")
        await console.bot.scheduler.run_due()
        async with console.bot.db.read() as session:
            rows = (
                await session.execute(
                    select(
                        ReflectionRoundRow.mode,
                        ReflectionDeliveryRow.member_id,
                        ReflectionDeliveryRow.prompt_id,
                    )
                    .join(
                        ReflectionRoundRow, ReflectionRoundRow.id == ReflectionDeliveryRow.round_id
                    )
                    .order_by(ReflectionRoundRow.id)
                )
            ).all()
    first = {m: prompt for mode, m, prompt in rows if mode == "dm" and prompt.startswith("B3")}
    shared = {prompt for mode, _member, prompt in rows if mode == "channel"}
    assert len(set(first.values())) == 3  # three of B3's four prompts were somebody's last
    assert len(shared) == 1 and not shared & set(first.values())


def test_the_shared_prompt_rule() -> None:
    prompts = [Prompt(f"B3.{n}", "B3", f"Prompt number {n}") for n in range(1, 5)]
    recents = [["B3.1", "B3.4"], ["B3.2"], ["B3.3", "B3.1"]]
    for seed in range(8):
        assert pick_shared_prompt(prompts, recents, seed).id == "B3.4"
    # When every prompt was somebody's last, the fewest people get a repeat.
    crowded = [["B3.1"], ["B3.1"], ["B3.2"], ["B3.3"], ["B3.3"], ["B3.4"], ["B3.4"]]
    assert pick_shared_prompt(prompts, crowded, 0).id == "B3.2"
    # Least recently used by anyone comes first among the rest.
    assert pick_shared_prompt(prompts, [["B3.1", "B3.2", "B3.3"]], 0).id == "B3.4"
    assert pick_shared_prompt(prompts, [["B3.1", "B3.4", "B3.2", "B3.3"]], 0).id == "B3.3"


async def test_skip_next_twice_skips_two_rounds_and_status_shows_the_real_next(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        out = said(
            await console.say(
                "/as ana",
                "/reflect schedule weekly wed 9:00",
                "/reflect skip next",
                "/reflect skip next",
                "/reflect status",
            )
        )
        assert "The round on Wed 25 Nov is skipped. The next round is on Wed 2 Dec." in out
        assert (
            "The round on Wed 2 Dec is skipped. (Already skipping Wed 25 Nov.) "
            "The next round is on Wed 9 Dec." in out
        )
        assert (
            "Next round: Wed 9 Dec (none on Wed 25 Nov: skipped by a lead; "
            "Wed 2 Dec: skipped by a lead)" in out
        )
        holiday = said(
            await console.say("/reflect holidays add 2026-12-09 Staff day", "/reflect status")
        )
        assert "Next round: Wed 16 Dec (none on" in holiday and "Wed 9 Dec: Staff day)" in holiday
        quiet = said(await tick(console, datetime(2026, 12, 10, 12, 0, tzinfo=UTC)))
        assert "A moment to reflect" not in quiet
        status = said(await console.say("/reflect status"))
        assert (
            status.count("skipped: skipped by a lead") == 2 and "Next round: Wed 16 Dec" in status
        )
        week4 = said(await tick(console, datetime(2026, 12, 16, 10, 0, tzinfo=UTC)))
        assert week4.count("A moment to reflect") == 2


async def test_mine_pages_and_says_how_many(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        for n in range(1, 13):
            await console.say("/as ana", "/channel", "/reflect now")
            await console.bot.scheduler.run_due()
            await console.say("/dm", f"Thought number {n:02d}", "/clock +1m")
        first = said(await console.say("/reflect mine"))
        assert "Showing 1-10 of your 12 answers, newest first." in first
        assert "/reflect mine 2 shows the next page" in first
        assert "Thought number 12" in first and "Thought number 03" in first
        assert "Thought number 02" not in first
        second = said(await console.say("/reflect mine 2"))
        assert (
            "Showing 11-12 of your 12 answers" in second and "/reflect mine 1 goes back" in second
        )
        assert "Thought number 02" in second and "Thought number 01" in second
        assert "Thought number 03" not in second
        assert said(await console.say("/reflect mine page 2")).count("Thought number") == 2
        wrong = said(await console.say("/reflect mine 3", "/reflect mine more", "/reflect mine x"))
        assert "You have 12 answers, so there are 2 pages: try /reflect mine 2." in wrong
        assert "Say which page, e.g. /reflect mine 2" in wrong
        assert "'x' isn't a page number" in wrong and "Traceback" not in wrong


async def test_now_after_off_says_how_to_turn_reflections_on(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        out = said(
            await console.say(
                "/as ana", "/reflect schedule weekly wed 9:00", "/reflect off", "/reflect now"
            )
        )
        await console.bot.scheduler.run_due()
        assert "Reflections are off for this team, so I won't start a round" in out
        assert "/reflect resume" in out
        paused = said(await console.say("/reflect resume", "/reflect pause", "/reflect now"))
        assert "Reflections are paused for this team, so I won't start a round" in paused
        await console.bot.scheduler.run_due()
        assert "A moment to reflect" not in said(console.lines)
        back = said(await console.say("/reflect resume", "/reflect now"))
        await console.bot.scheduler.run_due()
        assert "is starting now" in back
        assert said(console.lines).count("A moment to reflect") == 2


async def test_the_catalogue_shows_the_improvement_cycle(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana")
        out = said(await console.say("/reflect indicators"))
    assert "A4 An evidence-based improvement cycle [the cycle is below]" in out
    assert (
        "A4 An evidence-based improvement cycle: the cycle of continuous improvement "
        "(Learning Forward, Learning Communities standard)" in out
    )
    assert "1. Use data to find student and educator learning needs" in out
    assert "7. Evaluate results" in out


def test_the_term_is_the_school_year_or_the_school_half_year() -> None:
    no_year = SchoolDays(weekend=WEEKEND, year=None, ranges=())
    assert no_year.term_start(date(2026, 11, 23)) == date(2026, 8, 1)
    assert no_year.term_start(date(2027, 3, 2)) == date(2027, 1, 1)
    assert no_year.term_start(date(2026, 8, 1)) == date(2026, 8, 1)
    year = SchoolDays(weekend=WEEKEND, year=(date(2026, 8, 24), date(2027, 6, 11)), ranges=())
    assert year.term_start(date(2027, 3, 2)) == date(2026, 8, 24)
    assert year.term_start(date(2026, 8, 10)) == date(2026, 8, 1)  # before the year begins


async def test_the_report_counts_from_the_same_term(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana")
        calendar_term = said(await console.say("/as ana", "/reflect report"))
        await console.say("/reflect year 2026-08-24..2027-06-11")
        school_year = said(await console.say("/reflect report"))
    assert "Answers by indicator since 01 Aug 2026" in calendar_term
    assert "Answers by indicator since 24 Aug 2026" in school_year


async def test_rotation_counts_the_same_term(sqlite_url: str, clock: FakeClock) -> None:
    """A round asked before this term (here: last school half-year) no longer counts."""
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana")
        await console.say("/as ana", "/reflect schedule weekly fri 15:00 indicators A1,B3")
        team = await only_team(console.bot)
        async with console.bot.db.write() as session:
            long_ago = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
            for key in ("old:1", "old:2"):
                await repo.create_round(
                    session,
                    team_id=team.id,
                    round_key=key,
                    local_date=date(2026, 5, 1),
                    indicator="B3",
                    mode="dm",
                    state=repo.CLOSED,
                    opens_at=long_ago,
                    closes_at=long_ago + timedelta(days=2),
                    now=long_ago,
                )
            await repo.create_round(
                session,
                team_id=team.id,
                round_key="recent",
                local_date=date(2026, 9, 1),
                indicator="A1",
                mode="dm",
                state=repo.CLOSED,
                opens_at=datetime(2026, 9, 1, 9, 0, tzinfo=UTC),
                closes_at=datetime(2026, 9, 3, 9, 0, tzinfo=UTC),
                now=datetime(2026, 9, 1, 9, 0, tzinfo=UTC),
            )
        out = said(await console.say("/reflect now"))
    # This term A1 was asked once and B3 never, so B3 comes next (the May rounds are last term).
    assert "A reflection round on B3" in out


async def test_a_change_while_a_redraw_runs_gets_a_redraw_of_its_own(
    db_url: str, clock: FakeClock
) -> None:
    """A redraw that already read the answers can't show a change made after; a running job
    is not rescheduled, so the change must not fold into it."""
    async with running_console(db_url, clock) as console:
        await answered_round(console)
        await tick(console, datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
        mine = await console.say("/as ana", "/dm", "/reflect mine")
        await console.say(f"/reflect delete {answer_number(mine)}")
        async with console.bot.db.write() as session:  # another replica starts that redraw
            [running] = await jobs.claim_due(
                session, now=clock.now(), owner="replica-2", lease=timedelta(minutes=5), limit=10
            )
        assert running.kind == REDRAW
        mine = await console.say("/as cy", "/dm", "/reflect mine")
        await console.say(f"/reflect share {answer_number(mine)} private")
        async with console.bot.db.read() as session:
            found = await session.execute(
                select(JobRow.state).where(JobRow.kind == REDRAW).order_by(JobRow.id)
            )
            assert list(found.scalars()) == [jobs.RUNNING, jobs.PENDING]
        await console.bot.scheduler.run_due()
        redrawn = messages_after(console, "/reflect share")
        assert "(updated" in redrawn and "Words of cy" not in redrawn
