"""Durable due work, woken on time.

The ``jobs`` table says what is due; this service claims due jobs with a lease, runs the handler
registered for each job's kind, and records the outcome. APScheduler (memory job store) only
wakes the process at the next due time; a slower poll picks up work other replicas scheduled
and leases that ran out. With a clock that does not tick (tests, scripted console runs) nothing
runs by itself: the caller moves the clock and calls :meth:`Scheduler.run_due`.

Delivery is at-least-once with a small window: a handler that sent a message and then crashed
before its ``finish`` committed will be run again after its lease expires. Handlers keep that
window small by returning what they sent: a kind registered with ``record`` has it written in
the same transaction that marks the job done, straight after the handler returns.

Fan-out (a prompt to each of 5,000 members) would spend its time waiting on database round
trips, one after another, so a job's round trips are shared with others: jobs are claimed a
batch at a time, a kind's ``prepare`` reads what the whole batch needs at once, the next batch
is claimed while the last jobs of the previous one still run (no idle tail per batch), and the
outcomes of jobs that end at the same moment, with what their handlers return, are committed
together (one transaction, and no second writer queueing for SQLite's lock).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.batching import GroupCall
from bot.clock import Clock, FakeClock
from bot.ports import RateLimited
from storage import jobs as repo
from storage.db import Database, after_commit
from storage.jobs import Job, NewJob

log = logging.getLogger(__name__)

R = TypeVar("R")
JobHandler = Callable[[Job], Awaitable[Any]]
# Writes what handlers of one kind returned, inside the transaction that marks their jobs done.
JobRecorder = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]
# Loads what a claimed batch of one kind's jobs needs, in one go; by job id.
JobPreparer = Callable[[Sequence[Job]], Awaitable[Mapping[int, Any]]]


class RetryLater(Exception):
    """Raised by a handler to run the job again after ``after`` (a platform's Retry-After)."""

    def __init__(self, after: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {after:g}s")
        self.after = after


@dataclass(frozen=True)
class _Kind:
    handler: JobHandler
    on_expired: JobHandler | None
    record: JobRecorder | None
    prepare: JobPreparer | None


@dataclass(frozen=True, eq=False)  # compared by identity: one outcome per run of a job
class _Outcome:
    job: Job
    state: str  # DONE, FAILED or EXPIRED; PENDING is a retry at ``due_at``
    error: str | None = None
    due_at: datetime | None = None
    result: Any = None  # what the handler returned, for its kind's ``record``


class Scheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 200,
        concurrency: int = 32,
        max_attempts: int = 6,
        poll_seconds: float = 30.0,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._kinds: dict[str, _Kind] = {}
        self._limit = asyncio.Semaphore(concurrency)
        self._aps: Any = None
        self._running = False
        self._drain_lock = asyncio.Lock()
        self._wake_at: datetime | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._draining: asyncio.Task[None] | None = None  # the drain a wake started
        self._again = False  # a wake came while it ran: one more pass
        self._concurrency = concurrency
        # Jobs that end together are recorded together: one transaction for a whole group.
        self._settle = GroupCall(self._settle_many)

    # -- registration and scheduling ---------------------------------------------------------

    def register(
        self,
        kind: str,
        handler: Callable[[Job], Awaitable[R | None]],
        *,
        on_expired: JobHandler | None = None,
        record: Callable[[AsyncSession, Sequence[R]], Awaitable[None]] | None = None,
        prepare: JobPreparer | None = None,
    ) -> None:
        """Run ``handler`` for due jobs of ``kind``.

        With ``prepare``, each claimed batch of the kind's jobs is passed to it once, right
        after the claim, and each job reaches the handler with its entry as ``job.context``
        (None when there is none, or when ``prepare`` failed): one read for a batch instead of
        one per job. It is a snapshot from the claim, so a handler that must see changes made
        since (another replica's, after a lease ran out) checks again for ``job.attempts > 1``.

        With ``record``, whatever the handler returns (unless None) is passed to ``record`` in
        the transaction that marks the job done, together with other jobs of the kind that
        finish at the same moment. It runs even for a job whose lease was lost meanwhile: the
        work was done, and saying so is what keeps the next owner from doing it again.
        """
        if kind in self._kinds:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        self._kinds[kind] = _Kind(handler, on_expired, record, prepare)

    async def schedule_in(
        self,
        session: AsyncSession,
        *,
        kind: str,
        key: str,
        due_at: datetime,
        payload: Mapping[str, Any] | None = None,
        not_after: datetime | None = None,
        replace: bool = True,
    ) -> None:
        """Schedule inside the caller's transaction; the wake-up is arranged once it commits."""
        self._check_kind(kind)
        await repo.schedule(
            session,
            kind=kind,
            key=key,
            due_at=due_at,
            now=self.clock.now(),
            payload=payload,
            not_after=not_after,
            replace=replace,
        )
        after_commit(session, lambda: self.wake_at(due_at))

    async def schedule_each_in(
        self, session: AsyncSession, jobs: Sequence[tuple[str, NewJob]]
    ) -> None:
        """:meth:`schedule_in` for several jobs (each ``(kind, job)``) in one statement."""
        for kind, _job in jobs:
            self._check_kind(kind)
        if not jobs:
            return
        await repo.schedule_each(session, jobs, now=self.clock.now())
        first = min(job.due_at for _kind, job in jobs)
        after_commit(session, lambda: self.wake_at(first))

    async def schedule_many_in(
        self, session: AsyncSession, *, kind: str, jobs: Sequence[NewJob]
    ) -> int:
        """Schedule many jobs of one kind at once; keys that already exist are left alone."""
        self._check_kind(kind)
        if not jobs:
            return 0
        created = await repo.schedule_many(session, kind=kind, jobs=jobs, now=self.clock.now())
        first = min(job.due_at for job in jobs)
        after_commit(session, lambda: self.wake_at(first))
        return created

    def _check_kind(self, kind: str) -> None:
        if kind not in self._kinds:
            raise ValueError(f"no handler registered for job kind {kind!r}")

    async def schedule(self, **kwargs: Any) -> None:
        async with self.db.write() as session:
            await self.schedule_in(session, **kwargs)

    async def cancel_in(self, session: AsyncSession, key: str) -> None:
        await repo.cancel(session, key, self.clock.now())

    async def cancel_prefix_in(self, session: AsyncSession, prefix: str) -> int:
        return await repo.cancel_prefix(session, prefix, self.clock.now())

    # -- running -----------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Claim and run everything due now, batch after batch; returns how many jobs ran.

        Jobs that a handler schedules for "now" while this runs are picked up in the same call,
        which is what makes a console ``/clock +10m`` show every consequence at once. A full
        batch means more may be due: the next one is claimed as soon as the jobs still waiting
        for a slot would not keep every slot busy, so claiming overlaps running.
        """
        async with self._drain_lock:
            total = 0
            tasks: set[asyncio.Task[None]] = set()
            try:
                while True:
                    now = self.clock.now()
                    async with self.db.write() as session:
                        claimed = await repo.claim_due(
                            session, now=now, owner=self.owner, lease=self.lease, limit=self.batch
                        )
                    jobs = await self._prepare(claimed)
                    tasks.update(asyncio.ensure_future(self._run_one(job)) for job in jobs)
                    total += len(claimed)
                    if len(claimed) < self.batch:  # all that is due now is claimed
                        await _wait(tasks, until=0)
                        if not claimed:
                            break
                    else:  # claim again while a slot's worth of claimed jobs still waits
                        await _wait(tasks, until=2 * self._concurrency)
            finally:
                for task in tasks:  # only left when this call is cancelled or one failed
                    task.cancel()
                if tasks:
                    await asyncio.wait(tasks)
            if self._running:
                await self._plan_next()
            return total

    async def _prepare(self, claimed: Sequence[Job]) -> list[Job]:
        by_kind: dict[str, list[Job]] = defaultdict(list)
        for job in claimed:
            kind = self._kinds.get(job.kind)
            if kind is not None and kind.prepare is not None:
                by_kind[job.kind].append(job)
        if not by_kind:
            return list(claimed)
        contexts: dict[int, Any] = {}
        for name, jobs in by_kind.items():
            prepare = self._kinds[name].prepare
            assert prepare is not None
            try:
                contexts.update(await prepare(jobs))
            except Exception:  # the handlers load what they need themselves
                log.exception("preparing %d %r jobs failed", len(jobs), name)
        return [
            replace(job, context=contexts[job.id]) if job.id in contexts else job for job in claimed
        ]

    async def _run_one(self, job: Job) -> None:
        async with self._limit:
            # The slot is held until the outcome is committed: what was sent but not yet
            # recorded (the duplicate window) is never more than ``concurrency`` jobs.
            outcome = await self._outcome(job)
            kept = await self._settle(outcome)
        if kept is None:
            log.error(
                "job %s: its outcome was not recorded; it runs again when its lease ends", job.key
            )
        elif not kept:
            log.warning(
                "job %s: lease was lost before it finished (another replica took it)", job.key
            )
        if outcome.due_at is not None:
            self.wake_at(outcome.due_at)

    async def _outcome(self, job: Job) -> _Outcome:
        now = self.clock.now()
        kind = self._kinds.get(job.kind)
        if kind is None:
            log.error(
                "job %s has kind %r that no feature handles; marking failed", job.key, job.kind
            )
            return _Outcome(job, repo.FAILED, f"unknown job kind {job.kind!r}")
        if job.not_after is not None and now > job.not_after:
            log.info("job %s expired (was due %s); recording it as skipped", job.key, job.due_at)
            if kind.on_expired is not None:
                try:
                    await kind.on_expired(job)
                except Exception:
                    log.exception("expiry handler for job %s failed", job.key)
            return _Outcome(job, repo.EXPIRED)
        try:
            result = await kind.handler(job)
        except (RetryLater, RateLimited) as exc:
            after = exc.after if isinstance(exc, RetryLater) else exc.retry_after
            log.info("job %s: %s", job.key, exc)
            return self._retry(job, timedelta(seconds=max(after, 0.0)), str(exc))
        except Exception as exc:
            if job.attempts >= self.max_attempts:
                log.exception("job %s failed %d times; giving up", job.key, job.attempts)
                return _Outcome(job, repo.FAILED, _describe(exc))
            delay = timedelta(seconds=min(30 * 2 ** (job.attempts - 1), 3600))
            log.warning(
                "job %s failed (attempt %d), retrying in %s: %s",
                job.key,
                job.attempts,
                delay,
                _describe(exc),
            )
            return self._retry(job, delay, _describe(exc))
        return _Outcome(job, repo.DONE, result=result if kind.record is not None else None)

    def _retry(self, job: Job, delay: timedelta, error: str) -> _Outcome:
        return _Outcome(job, repo.PENDING, error, due_at=self.clock.now() + delay)

    async def _settle_many(self, outcomes: Sequence[_Outcome]) -> dict[_Outcome, bool]:
        """Commit outcomes together; an outcome left out could not be recorded at all."""
        try:
            async with self.db.write() as session:
                return await self._write_outcomes(session, outcomes)
        except Exception:
            if len(outcomes) == 1:
                log.exception("recording the outcome of job %s failed", outcomes[0].job.key)
                return {}
            log.exception("recording %d job outcomes together failed; one at a time", len(outcomes))
        # One kind's record failing must not take the other jobs of its group down with it.
        kept: dict[_Outcome, bool] = {}
        for outcome in outcomes:
            try:
                async with self.db.write() as session:
                    kept.update(await self._write_outcomes(session, [outcome]))
            except Exception:
                log.exception("recording the outcome of job %s failed", outcome.job.key)
        return kept

    async def _write_outcomes(
        self, session: AsyncSession, outcomes: Sequence[_Outcome]
    ) -> dict[_Outcome, bool]:
        results: dict[str, list[Any]] = {}
        for o in outcomes:
            if o.result is not None:
                results.setdefault(o.job.kind, []).append(o.result)
        for kind, values in results.items():
            record = self._kinds[kind].record
            assert record is not None
            await record(session, values)
        now = self.clock.now()
        done = [o.job.id for o in outcomes if o.state == repo.DONE]
        held = await repo.finish_many(session, done, owner=self.owner, now=now) if done else set()
        kept: dict[_Outcome, bool] = {}
        for o in outcomes:
            if o.state == repo.DONE:
                kept[o] = o.job.id in held
            elif o.due_at is not None:
                kept[o] = await repo.retry_later(
                    session, o.job.id, owner=self.owner, due_at=o.due_at, error=o.error or ""
                )
            else:
                kept[o] = await repo.finish(
                    session, o.job.id, owner=self.owner, now=now, state=o.state, error=o.error
                )
        return kept

    # -- waking up on time -------------------------------------------------------------------

    @property
    def _clock_ticks(self) -> bool:
        return not isinstance(self.clock, FakeClock) or self.clock.ticking

    def wake_at(self, moment: datetime) -> None:
        """Make sure the process wakes by ``moment`` (no-op when nothing runs on its own)."""
        if not self._running or not self._clock_ticks:
            return
        if self._wake_at is not None and self._wake_at <= moment:
            return
        self._wake_at = moment
        delay = max(0.0, (moment - self.clock.now()).total_seconds())
        run_date = datetime.now(UTC) + timedelta(seconds=delay)
        self._aps.add_job(
            self._wake,
            "date",
            run_date=run_date,
            id="plcbot-wake",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _wake(self) -> None:
        """What APScheduler runs (the poll, the next wake): it starts a drain and returns.

        A drain can outlast the poll interval (a round to thousands of members). Had APScheduler
        run it, each poll due meanwhile would be logged as a skipped run, a warning that means
        nothing: a wake that comes while a drain runs just asks for one more pass after it.
        """
        self._wake_at = None
        self._again = True
        if self._draining is None:
            self._draining = asyncio.get_running_loop().create_task(self._drain())
            self._inflight.add(self._draining)
            self._draining.add_done_callback(self._inflight.discard)

    async def _drain(self) -> None:
        try:
            while self._again and self._running:
                self._again = False
                try:
                    await self.run_due()
                except Exception:
                    log.exception("running due jobs failed; will try again at the next poll")
        finally:
            self._draining = None

    async def _plan_next(self) -> None:
        async with self.db.read() as session:
            moment = await repo.next_wake(session)
        if moment is not None:
            self.wake_at(moment)

    async def start(self) -> None:
        self._running = True
        if self._clock_ticks:
            from apscheduler.schedulers.asyncio import AsyncIOScheduler

            self._aps = AsyncIOScheduler(timezone=UTC)
            self._aps.add_job(
                self._wake,
                "interval",
                seconds=self.poll_seconds,
                id="plcbot-poll",
                max_instances=1,
                coalesce=True,
            )
            self._aps.start()
        # Catch up on whatever came due while the process was down.
        await self.run_due()

    async def stop(self) -> None:
        self._running = False
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=10)
        async with self._drain_lock:  # let a running batch finish recording its outcomes
            pass


async def _wait(tasks: set[asyncio.Task[None]], *, until: int) -> None:
    """Wait until at most ``until`` of ``tasks`` are left; the first failure is raised."""
    while len(tasks) > until:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        tasks.difference_update(done)
        for task in done:
            task.result()


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:2000]
