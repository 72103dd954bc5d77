"""Durable jobs: idempotent scheduling, leases, retries, expiry, and replicas on PostgreSQL."""

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.scheduler import RetryLater, Scheduler
from storage import jobs as repo
from storage import migrate
from storage.db import Database
from storage.jobs import Job


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
