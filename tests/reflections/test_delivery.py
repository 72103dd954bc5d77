"""Delivery: local times across DST, quiet days, reminders, 429s, downtime, replicas, crashes."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from storage import school_calendar
from storage.reflection_models import ReflectionDeliveryRow, ReflectionRoundRow
from tests.reflections.support import (
    Platform,
    RecordingMessenger,
    seed_team,
    set_schedule,
    tick,
    with_platform,
)
from tests.support.harness import make_bot

HOUR = timedelta(hours=1)


async def rounds_of(bot, team_id: int) -> list[tuple[date, str, str | None]]:  # type: ignore[no-untyped-def]
    async with bot.db.read() as session:
        rows = await session.scalars(
            select(ReflectionRoundRow)
            .where(ReflectionRoundRow.team_id == team_id)
            .order_by(ReflectionRoundRow.local_date)
        )
        return [(r.local_date, r.state, r.note) for r in rows.all()]


async def delivery_states(bot) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with bot.db.read() as session:
        states = list((await session.scalars(select(ReflectionDeliveryRow.state))).all())
    return {s: states.count(s) for s in set(states)}


async def test_prompts_keep_to_each_members_wall_clock_across_dst(
    sqlite_url: str,
) -> None:
    clock = FakeClock(datetime(2027, 3, 8, 12, 0, tzinfo=UTC))  # Monday before US DST starts
    platform = Platform()
    bot = with_platform(make_bot(sqlite_url, clock), RecordingMessenger(clock, platform))
    async with bot.running():
        team, _ = await seed_team(
            bot.db, clock, ["ana", "ben", "cy"], [None, "America/New_York", "Europe/London"]
        )
        await set_schedule(
            bot,
            team,
            weekday=3,
            at_time="15:00",
            first_day=date(2027, 3, 11),
            indicators=("B3", "A1"),
        )
        await tick(bot, clock, datetime(2027, 3, 19, 0, 0, tzinfo=UTC), HOUR)
    times = {
        user: [
            at for u, m, at in platform.directs if u == user and m.title == "A moment to reflect"
        ]
        for user in ("ana", "ben", "cy")
    }
    assert times["ben"] == [  # 15:00 in New York: EST (UTC-5), then EDT (UTC-4) after 14 March
        datetime(2027, 3, 11, 20, 0, tzinfo=UTC),
        datetime(2027, 3, 18, 19, 0, tzinfo=UTC),
    ]
    assert times["cy"] == [  # London changes later (28 March): still GMT both weeks
        datetime(2027, 3, 11, 15, 0, tzinfo=UTC),
        datetime(2027, 3, 18, 15, 0, tzinfo=UTC),
    ]
    assert times["ana"] == times["cy"]
    # Rotation: the second round is about the other chosen indicator, and nobody got the
    # same prompt twice in a row.
    topics = [
        m.blocks[1]
        for u, m, _ in platform.directs
        if u == "ana" and m.title == "A moment to reflect"
    ]
    assert "B3" in str(topics[0]) and "A1" in str(topics[1])


async def test_no_prompt_on_a_quiet_day_or_outside_the_school_year(sqlite_url: str) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    platform = Platform()
    bot = with_platform(
        make_bot(sqlite_url, clock, PLCBOT_SCHOOL_YEAR="2026-08-24..2026-12-31"),
        RecordingMessenger(clock, platform),
    )
    async with bot.running():
        team, _ = await seed_team(bot.db, clock, ["ana", "ben"])
        async with bot.db.write() as session:
            await school_calendar.add_quiet(
                session,
                team.id,
                date(2026, 12, 11),
                date(2026, 12, 11),
                "Staff day",
                "manual",
                clock.now(),
            )
        await set_schedule(bot, team, weekday=4, at_time="15:00", first_day=date(2026, 12, 4))
        await tick(bot, clock, datetime(2027, 1, 9, 0, 0, tzinfo=UTC), 3 * HOUR)
        got = await rounds_of(bot, team.id)
    sent_days = sorted(
        {at.date() for _, m, at in platform.directs if m.title == "A moment to reflect"}
    )
    assert sent_days == [date(2026, 12, 4), date(2026, 12, 18), date(2026, 12, 25)]
    assert (date(2026, 12, 11), "skipped", "Staff day") in got
    assert (date(2027, 1, 1), "skipped", "outside the school year") in got
    assert (date(2027, 1, 8), "skipped", "outside the school year") in got


async def test_one_reminder_and_never_on_a_quiet_day(sqlite_url: str, clock: FakeClock) -> None:
    platform = Platform()
    bot = with_platform(make_bot(sqlite_url, clock), RecordingMessenger(clock, platform))
    async with bot.running():
        team, _ = await seed_team(bot.db, clock, ["ana", "ben", "cy"])
        await set_schedule(bot, team, weekday=0, at_time="10:00", first_day=date(2026, 11, 30))
        await tick(bot, clock, datetime(2026, 11, 30, 11, 0, tzinfo=UTC), HOUR)
        assert len(platform.prompt_counts()) == 3
        # Reminders are due Tuesday 10:00; Tuesday becomes a quiet day after the round opened.
        async with bot.db.write() as session:
            await school_calendar.add_quiet(
                session,
                team.id,
                date(2026, 12, 1),
                date(2026, 12, 1),
                "Snow day",
                "manual",
                clock.now(),
            )
        from tests.reflections.support import calendar_of

        calendar_of(bot).forget(team.id)
        await tick(bot, clock, datetime(2026, 12, 3, 12, 0, tzinfo=UTC), HOUR)
        nudges = [u for u, m, _ in platform.directs if m.title == "A gentle nudge"]
        assert nudges == []
        # Next week, no quiet day: one nudge each to those who didn't answer, never a second.
        await tick(bot, clock, datetime(2026, 12, 12, 0, 0, tzinfo=UTC), HOUR)
        nudges = [u for u, m, _ in platform.directs if m.title == "A gentle nudge"]
    assert sorted(nudges) == ["ana", "ben", "cy"]
    assert platform.posts and all(m.title != "A gentle nudge" for _, m in platform.posts)


async def test_a_429_is_retried_after_retry_after_and_delivered_once(
    db_url: str, clock: FakeClock
) -> None:
    platform = Platform()
    messenger = RecordingMessenger(clock, platform, rate_limit_once={"ben", "cy"})
    bot = with_platform(make_bot(db_url, clock), messenger)
    async with bot.running():
        team, _ = await seed_team(bot.db, clock, ["ana", "ben", "cy", "dee"])
        await set_schedule(bot, team, weekday=0, at_time="10:00", first_day=date(2026, 11, 23))
        clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
        await bot.scheduler.run_due()
        assert sorted(platform.prompt_counts()) == ["ana", "dee"]
        clock.advance(timedelta(seconds=4))
        await bot.scheduler.run_due()
        assert sorted(platform.prompt_counts()) == ["ana", "dee"]  # Retry-After is 5 s
        clock.advance(timedelta(seconds=2))
        await bot.scheduler.run_due()
    assert platform.prompt_counts() == {"ana": 1, "ben": 1, "cy": 1, "dee": 1}


async def test_after_downtime_recent_rounds_go_out_and_old_ones_are_recorded_skipped(
    db_url: str, clock: FakeClock
) -> None:
    platform = Platform()
    bot = with_platform(make_bot(db_url, clock), RecordingMessenger(clock, platform))
    async with bot.running():
        team, _ = await seed_team(bot.db, clock, ["ana", "ben"])
        await set_schedule(bot, team, weekday=4, at_time="15:00", first_day=date(2026, 11, 27))
    # plcbot is down over Friday 15:00 and comes back two hours later (grace is 6 h).
    clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=UTC))
    bot = with_platform(make_bot(db_url, clock), RecordingMessenger(clock, platform))
    async with bot.running():
        assert platform.prompt_counts() == {"ana": 1, "ben": 1}
    # Down again over the next Friday and back on Sunday: that round is recorded as missed,
    # and the one after is still planned and sent.
    clock.set(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    bot = with_platform(make_bot(db_url, clock), RecordingMessenger(clock, platform))
    async with bot.running():
        got = await rounds_of(bot, team.id)
        assert (date(2026, 12, 4), "skipped", "missed while plcbot was offline") in got
        await tick(bot, clock, datetime(2026, 12, 11, 16, 0, tzinfo=UTC), 6 * HOUR)
    assert platform.prompt_counts() == {"ana": 2, "ben": 2}


@pytest.mark.postgres
async def test_two_bots_on_one_postgres_send_each_prompt_once(
    pg_url: str, clock: FakeClock
) -> None:
    platform = Platform()
    names = [f"m{n:03d}" for n in range(150)]
    bots = [
        with_platform(make_bot(pg_url, clock), RecordingMessenger(clock, platform, f"bot{n}"))
        for n in range(2)
    ]
    async with bots[0].running(), bots[1].running():
        # One member in Tokyo opens the round early (10:00 there); the rest get theirs at 10:00
        # UTC, when both bots claim prompts side by side, ten at a time.
        team, _ = await seed_team(bots[0].db, clock, ["tokyo", *names], ["Asia/Tokyo"])
        for b in bots:
            b.scheduler.batch = 10
            await set_schedule(b, team, weekday=0, at_time="10:00", first_day=date(2026, 11, 30))
        clock.set(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
        await asyncio.gather(*(b.scheduler.run_due() for b in bots))
        assert platform.prompt_counts() == {"tokyo": 1}
        clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
        await asyncio.gather(*(b.scheduler.run_due() for b in bots))
        got = await rounds_of(bots[0], team.id)
    names.append("tokyo")
    counts = platform.prompt_counts()
    assert set(counts) == set(names) and set(counts.values()) == {1}
    assert len(got) == 1 and got[0][1] == "open"
    assert platform.by_sender["bot0"] > 0 and platform.by_sender["bot1"] > 0


async def test_a_bot_stopped_mid_round_is_taken_over_with_nothing_lost_or_doubled(
    db_url: str, clock: FakeClock
) -> None:
    platform = Platform()
    names = [f"m{n:02d}" for n in range(40)]
    crashing = RecordingMessenger(clock, platform, "crashing", hang_after=15)
    first = with_platform(make_bot(db_url, clock), crashing)
    # One job at a time, so the stop lands between deliveries and not inside the documented
    # window (platform accepted, not yet recorded), where a duplicate is the accepted cost.
    first.scheduler._limit = asyncio.Semaphore(1)
    async with first.running():
        team, _ = await seed_team(first.db, clock, names)
        await set_schedule(first, team, weekday=0, at_time="10:00", first_day=date(2026, 11, 23))
        clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
        running = asyncio.create_task(first.scheduler.run_due())
        await crashing.hanging.wait()  # mid-round: 15 sent, others claimed and in flight
        running.cancel()  # the process stops while it holds the leases
        with pytest.raises(asyncio.CancelledError):
            await running
    assert platform.by_sender["crashing"] == 15
    survivor = with_platform(
        make_bot(db_url, clock), RecordingMessenger(clock, platform, "survivor")
    )
    async with survivor.running():
        await survivor.scheduler.run_due()
        assert len(platform.prompt_counts()) == 15  # the leases have not run out yet
        clock.advance(timedelta(minutes=3))
        await survivor.scheduler.run_due()
        states = await delivery_states(survivor)
    counts = platform.prompt_counts()
    assert set(counts) == set(names) and set(counts.values()) == {1}
    assert platform.by_sender["survivor"] == 25
    assert states == {"sent": 40}


async def test_the_only_duplicate_is_a_stop_between_the_platforms_answer_and_the_record(
    sqlite_url: str, clock: FakeClock
) -> None:
    """The documented window: the platform took the prompt, the process died before recording
    it. That one member gets it twice after the takeover; nobody else is affected."""
    platform = Platform()
    names = [f"m{n:02d}" for n in range(10)]
    crashing = RecordingMessenger(clock, platform, "crashing", hang_after=4, accept_then_hang=True)
    first = with_platform(make_bot(sqlite_url, clock), crashing)
    first.scheduler._limit = asyncio.Semaphore(1)
    async with first.running():
        team, _ = await seed_team(first.db, clock, names)
        await set_schedule(first, team, weekday=0, at_time="10:00", first_day=date(2026, 11, 23))
        clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
        running = asyncio.create_task(first.scheduler.run_due())
        await crashing.hanging.wait()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    in_window = platform.directs[-1][0]
    survivor = with_platform(make_bot(sqlite_url, clock), RecordingMessenger(clock, platform, "s"))
    async with survivor.running():
        clock.advance(timedelta(minutes=3))
        await survivor.scheduler.run_due()
    counts = platform.prompt_counts()
    assert set(counts) == set(names)
    assert {u: n for u, n in counts.items() if n > 1} == {in_window: 2}
