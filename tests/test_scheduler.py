"""Durable jobs: idempotent scheduling, leases, retries, expiry, and replicas on PostgreSQL."""

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FakeClock
from bot.scheduler import RetryLater, Scheduler
from storage import jobs as repo
from storage import migrate
from storage.db import Database
from storage.jobs import Job
from storage.models import JobRow


@pytest.fixture
async def db(db_url: str):  # type: ignore[no-untyped-def]
    database = Database(db_url)
    await migrate.upgrade(database)
    yield database
    await database.close()


def make(db: Database, clock: FakeClock, seen: list[str], **kw) -> Scheduler:  # type: ignore[no-untyped-def]
    s = Scheduler(db, clock, **kw)

    async def record(job: Job) -> None:
        seen.append(job.key)

    s.register("note", record)
    return s


async def test_jobs_run_when_the_clock_reaches_them(db: Database, clock: FakeClock) -> None:
    seen: list[str] = []
    s = make(db, clock, seen)
    await s.schedule(kind="note", key="b", due_at=clock.now() + timedelta(minutes=10))
    await s.schedule(kind="note", key="a", due_at=clock.now() + timedelta(minutes=5))
    assert await s.run_due() == 0
    clock.advance(timedelta(minutes=6))
    assert await s.run_due() == 1
    clock.advance(timedelta(minutes=6))
    await s.run_due()
    assert seen == ["a", "b"]
    assert await s.run_due() == 0  # done jobs never run again


async def test_scheduling_the_same_key_twice_is_one_job(db: Database, clock: FakeClock) -> None:
    seen: list[str] = []
    s = make(db, clock, seen)
    due = clock.now() + timedelta(minutes=1)
    for _ in range(3):
        await s.schedule(kind="note", key="once", due_at=due, replace=False)
    await s.schedule(kind="note", key="moved", due_at=due)
    await s.schedule(kind="note", key="moved", due_at=due + timedelta(hours=1))
    clock.advance(timedelta(minutes=2))
    await s.run_due()
    assert seen == ["once"]  # "moved" was moved an hour later


async def test_a_cancelled_job_does_not_run(db: Database, clock: FakeClock) -> None:
    seen: list[str] = []
    s = make(db, clock, seen)
    await s.schedule(kind="note", key="session:1:warn", due_at=clock.now())
    await s.schedule(kind="note", key="session:1:end", due_at=clock.now())
    await s.schedule(kind="note", key="session:10:end", due_at=clock.now())
    async with db.write() as session:
        assert await s.cancel_prefix_in(session, "session:1:") == 2
    await s.run_due()
    assert seen == ["session:10:end"]


async def test_retry_later_and_failures_back_off(db: Database, clock: FakeClock) -> None:
    s = Scheduler(db, clock, max_attempts=2)
    calls: Counter[str] = Counter()

    async def limited(job: Job) -> None:
        calls[job.key] += 1
        if calls[job.key] == 1:
            raise RetryLater(30)

    async def broken(job: Job) -> None:
        calls[job.key] += 1
        raise RuntimeError("platform down")

    s.register("limited", limited)
    s.register("broken", broken)
    await s.schedule(kind="limited", key="l", due_at=clock.now())
    await s.schedule(kind="broken", key="b", due_at=clock.now())
    await s.run_due()
    assert calls == {"l": 1, "b": 1}
    clock.advance(timedelta(seconds=31))
    await s.run_due()
    assert calls == {"l": 2, "b": 2}  # the retry after 30 s, and the first back-off (30 s)
    clock.advance(timedelta(hours=2))
    await s.run_due()
    assert calls == {"l": 2, "b": 2}  # "b" gave up after max_attempts
    async with db.read() as session:
        found = await repo.get(session, "b")
    assert found is not None and found[1] == repo.FAILED


async def test_work_past_its_deadline_is_recorded_as_expired(
    db: Database, clock: FakeClock
) -> None:
    seen: list[str] = []
    expired: list[str] = []
    s = Scheduler(db, clock)

    async def run(job: Job) -> None:
        seen.append(job.key)

    async def skip(job: Job) -> None:
        expired.append(job.key)

    s.register("prompt", run, on_expired=skip)
    await s.schedule(
        kind="prompt", key="late", due_at=clock.now(), not_after=clock.now() + timedelta(hours=1)
    )
    clock.advance(timedelta(hours=3))  # the process was down
    await s.run_due()
    assert (seen, expired) == ([], ["late"])


async def test_a_crashed_owners_lease_is_taken_over(db: Database, clock: FakeClock) -> None:
    seen: list[str] = []
    survivor = make(db, clock, seen, owner="survivor", lease=timedelta(minutes=2))
    await survivor.schedule(kind="note", key="orphan", due_at=clock.now())
    async with db.write() as session:  # another replica claims it, then dies
        claimed = await repo.claim_due(
            session, now=clock.now(), owner="crashed", lease=timedelta(minutes=2), limit=10
        )
    assert [j.key for j in claimed] == ["orphan"]
    await survivor.run_due()
    assert seen == []  # still leased
    clock.advance(timedelta(minutes=3))
    await survivor.run_due()
    assert seen == ["orphan"]
    async with db.write() as session:  # the crashed owner can no longer record an outcome
        assert not await repo.finish(session, claimed[0].id, owner="crashed", now=clock.now())


@pytest.mark.postgres
async def test_two_replicas_on_postgres_run_each_job_once(pg_url: str, clock: FakeClock) -> None:
    dbs = [Database(pg_url), Database(pg_url)]
    seen: list[str] = []
    try:
        replicas = [make(d, clock, seen, owner=f"r{i}", batch=7) for i, d in enumerate(dbs)]

        async def slow(job: Job) -> None:
            await asyncio.sleep(0)
            seen.append(job.key)

        for r in replicas:
            r._kinds.clear()
            r.register("note", slow)
        for n in range(300):
            await replicas[n % 2].schedule(kind="note", key=f"p{n}", due_at=clock.now())
        await asyncio.gather(*(r.run_due() for r in replicas))
        assert len(seen) == 300 and len(set(seen)) == 300
    finally:
        for d in dbs:
            await d.close()


async def test_many_jobs_are_scheduled_at_once_and_only_once(
    db: Database, clock: FakeClock
) -> None:
    seen: list[str] = []
    s = make(db, clock, seen)
    jobs = [repo.NewJob(f"bulk:{n}", clock.now(), {"n": n}) for n in range(1500)]
    async with db.write() as session:
        assert await s.schedule_many_in(session, kind="note", jobs=jobs) == 1500
    async with db.write() as session:  # a second fan-out of the same keys changes nothing
        assert await s.schedule_many_in(session, kind="note", jobs=jobs[:10]) == 0
    while await s.run_due():
        pass
    assert sorted(seen) == sorted(f"bulk:{n}" for n in range(1500))


async def test_jobs_of_several_kinds_are_scheduled_or_moved_in_one_statement(
    db: Database, clock: FakeClock
) -> None:
    seen: list[str] = []
    s = make(db, clock, seen)
    s.register("other", lambda job: _note(seen, job))
    soon, later = clock.now() + timedelta(minutes=5), clock.now() + timedelta(hours=2)
    await s.schedule(kind="note", key="moved", due_at=later)
    statements: list[str] = []
    engine = db.write_engine.sync_engine

    def listener(*args: object) -> None:
        statements.append(str(args[2]))  # the SQL of (conn, cursor, statement, ...)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        async with db.write() as session:
            await s.schedule_each_in(
                session,
                [
                    ("note", repo.NewJob("moved", soon, {"n": 1})),
                    ("other", repo.NewJob("fresh", soon, {"n": 2})),
                ],
            )
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([sql for sql in statements if sql.lstrip().upper().startswith("INSERT")]) == 1
    with pytest.raises(ValueError, match="no handler"):
        async with db.write() as session:
            await s.schedule_each_in(session, [("nobody", repo.NewJob("x", soon, {}))])
    clock.advance(timedelta(minutes=6))
    await s.run_due()
    assert sorted(seen) == ["fresh", "moved"]  # "moved" runs at its new time, once
    clock.advance(timedelta(hours=3))
    assert await s.run_due() == 0


async def _note(seen: list[str], job: Job) -> None:
    seen.append(job.key)


async def test_a_platforms_rate_limit_retries_the_job_after_its_retry_after(
    db: Database, clock: FakeClock
) -> None:
    """A messenger raising RateLimited (Slack's 429) is a RetryLater, not a failure."""
    from bot.ports import RateLimited

    s = Scheduler(db, clock)
    attempts: list[str] = []

    async def send(job: Job) -> None:
        attempts.append(job.key)
        if len(attempts) == 1:
            raise RateLimited(45, "Slack said slow down")

    s.register("send", send)
    await s.schedule(kind="send", key="s1", due_at=clock.now())
    await s.run_due()
    clock.advance(timedelta(seconds=44))
    assert await s.run_due() == 0  # not before its Retry-After
    clock.advance(timedelta(seconds=2))
    await s.run_due()
    assert attempts == ["s1", "s1"]
    async with db.read() as session:
        found = await repo.get(session, "s1")
    assert found is not None
    job, state = found
    assert state == repo.DONE and job.attempts == 2


async def _states(db: Database) -> Counter[str]:
    async with db.read() as session:
        rows = await session.execute(select(JobRow.state, func.count()).group_by(JobRow.state))
        return Counter({str(state): int(n) for state, n in rows.all()})


async def test_what_handlers_return_is_recorded_with_their_jobs_in_shared_transactions(
    db: Database, clock: FakeClock
) -> None:
    s = Scheduler(db, clock, batch=40, concurrency=8)
    groups: list[list[str]] = []

    async def send(job: Job) -> str:
        await asyncio.sleep(0)
        return job.key

    async def record(session: AsyncSession, keys: Sequence[str]) -> None:
        # The same transaction that marks these jobs done: they are still running in it.
        rows = await session.scalars(select(JobRow.state).where(JobRow.key.in_(list(keys))))
        assert set(rows.all()) == {repo.RUNNING}
        groups.append(list(keys))

    s.register("send", send, record=record)
    keys = [f"send:{n}" for n in range(100)]
    async with db.write() as session:
        await s.schedule_many_in(
            session, kind="send", jobs=[repo.NewJob(k, clock.now(), {}) for k in keys]
        )
    commits: list[int] = []
    listener = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(db.write_engine.sync_engine, "commit", listener)
    try:
        assert await s.run_due() == 100
    finally:
        event.remove(db.write_engine.sync_engine, "commit", listener)
    assert sorted(k for group in groups for k in group) == sorted(keys)
    assert len(groups) <= 25  # jobs that end together share one commit
    # Four claims (40, 40, 20, then nothing) and one commit per group: nothing else.
    assert len(commits) == len(groups) + 4
    assert await _states(db) == {repo.DONE: 100}


async def test_a_failing_record_leaves_its_jobs_to_run_again_and_spares_the_others(
    db: Database, clock: FakeClock
) -> None:
    s = Scheduler(db, clock, concurrency=10, lease=timedelta(minutes=2))
    ran: Counter[str] = Counter()
    recorded: list[str] = []
    broken = True

    async def run(job: Job) -> str:
        ran[job.key] += 1
        await asyncio.sleep(0)
        return job.key

    async def good(session: AsyncSession, keys: Sequence[str]) -> None:
        recorded.extend(keys)

    async def bad(session: AsyncSession, keys: Sequence[str]) -> None:
        if broken:
            raise RuntimeError("a bug in one feature's record")
        recorded.extend(keys)

    s.register("good", run, record=good)
    s.register("bad", run, record=bad)
    for n in range(5):
        await s.schedule(kind="good", key=f"good:{n}", due_at=clock.now())
        await s.schedule(kind="bad", key=f"bad:{n}", due_at=clock.now())
    await s.run_due()
    # (A list outside the database keeps what a rolled-back group appended: compare sets.)
    assert set(recorded) == {f"good:{n}" for n in range(5)}
    assert await _states(db) == {repo.DONE: 5, repo.RUNNING: 5}  # not done: they run again
    broken = False
    clock.advance(timedelta(minutes=3))
    await s.run_due()
    assert set(recorded) == {f"good:{n}" for n in range(5)} | {f"bad:{n}" for n in range(5)}
    assert ran == {**{f"good:{n}": 1 for n in range(5)}, **{f"bad:{n}": 2 for n in range(5)}}
    assert await _states(db) == {repo.DONE: 10}


async def test_what_was_done_is_recorded_even_when_the_lease_was_lost_meanwhile(
    db: Database, clock: FakeClock
) -> None:
    s = Scheduler(db, clock, owner="slow", lease=timedelta(minutes=2))
    recorded: list[str] = []

    async def send(job: Job) -> str:
        clock.advance(timedelta(minutes=3))  # so slow that another replica took the job over
        async with db.write() as session:
            taken = await repo.claim_due(
                session, now=clock.now(), owner="other", lease=timedelta(minutes=2), limit=10
            )
        assert [j.key for j in taken] == [job.key]
        return job.key

    async def record(session: AsyncSession, keys: Sequence[str]) -> None:
        recorded.extend(keys)

    s.register("send", send, record=record)
    await s.schedule(kind="send", key="s1", due_at=clock.now())
    await s.run_due()
    assert recorded == ["s1"]  # the message went out: saying so keeps "other" from resending
    assert await _states(db) == {repo.RUNNING: 1}  # the outcome is the new owner's to record


async def test_a_claimed_batch_is_prepared_at_once_and_a_failed_prepare_is_not_fatal(
    db: Database, clock: FakeClock
) -> None:
    s = Scheduler(db, clock, batch=10)
    batches: list[int] = []
    seen: dict[str, object] = {}

    async def run(job: Job) -> None:
        seen[job.key] = job.context

    async def prepare(jobs: Sequence[Job]) -> dict[int, str]:
        batches.append(len(jobs))
        return {job.id: f"ready:{job.key}" for job in jobs if job.key != "p:3"}

    async def broken(jobs: Sequence[Job]) -> dict[int, str]:
        raise RuntimeError("database hiccup")

    s.register("p", run, prepare=prepare)
    s.register("q", run, prepare=broken)
    async with db.write() as session:
        await s.schedule_many_in(
            session, kind="p", jobs=[repo.NewJob(f"p:{n}", clock.now(), {}) for n in range(25)]
        )
    await s.schedule(kind="q", key="q:0", due_at=clock.now() + timedelta(seconds=1))
    clock.advance(timedelta(seconds=1))
    await s.run_due()
    assert batches == [10, 10, 5]  # once per claimed batch (q:0 came last, in the third)
    assert seen == {
        **{f"p:{n}": f"ready:p:{n}" for n in range(25) if n != 3},
        "p:3": None,  # nothing prepared for it: the handler loads what it needs itself
        "q:0": None,
    }


async def test_the_next_batch_is_claimed_while_the_previous_one_still_runs(
    db: Database, clock: FakeClock
) -> None:
    s = Scheduler(db, clock, batch=4, concurrency=1)
    claimed: list[list[str]] = []
    second_batch = asyncio.Event()
    ran: list[str] = []

    async def prepare(jobs: Sequence[Job]) -> dict[int, None]:
        claimed.append([job.key for job in jobs])
        if len(claimed) == 2:
            second_batch.set()
        return {}

    async def run(job: Job) -> None:
        if job.key == "j3":  # the first batch's last job: the next batch is already claimed
            await asyncio.wait_for(second_batch.wait(), timeout=10)
        ran.append(job.key)

    s.register("j", run, prepare=prepare)
    async with db.write() as session:
        await s.schedule_many_in(
            session, kind="j", jobs=[repo.NewJob(f"j{n}", clock.now(), {}) for n in range(8)]
        )
    assert await s.run_due() == 8
    assert claimed == [["j0", "j1", "j2", "j3"], ["j4", "j5", "j6", "j7"]]
    assert ran == [f"j{n}" for n in range(8)]
    assert await _states(db) == {repo.DONE: 8}


async def test_a_wake_during_a_long_drain_starts_no_second_one_and_loses_nothing(
    db: Database, clock: FakeClock
) -> None:
    """APScheduler's poll returns at once (so it never logs overlapping polls as skipped runs);
    what came due meanwhile is run by the drain in progress or one more pass after it."""
    seen: list[str] = []
    s = make(db, clock, seen)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(job: Job) -> None:
        started.set()
        await release.wait()
        seen.append(job.key)

    s.register("slow", slow)
    await s.start()
    await s.schedule(kind="slow", key="long", due_at=clock.now())
    await s._wake()
    drain = s._draining
    await asyncio.wait_for(started.wait(), 10)
    await s.schedule(kind="note", key="meanwhile", due_at=clock.now())
    for _poll in range(3):
        await s._wake()  # returns at once, while the drain still runs
        assert s._draining is drain
    release.set()
    assert drain is not None
    await asyncio.wait_for(drain, 10)
    assert sorted(seen) == ["long", "meanwhile"] and s._draining is None
    await s.stop()
