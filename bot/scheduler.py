"""Durable due work, woken on time.

The ``jobs`` table says what is due; this service claims due jobs with a lease, runs the handler
registered for each job's kind, and records the outcome. APScheduler (memory job store) only
wakes the process at the next due time; a slower poll picks up work other replicas scheduled
and leases that ran out. With a clock that does not tick (tests, scripted console runs) nothing
runs by itself: the caller moves the clock and calls :meth:`Scheduler.run_due`.

Delivery is at-least-once with a small window: a handler that sent a message and then crashed
before its ``finish`` committed will be run again after its lease expires. Handlers keep that
window small by recording what they sent as soon as the platform answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.batching import GroupCall
from bot.clock import Clock, FakeClock
from bot.ports import RateLimited
from storage import jobs as repo
from storage.db import Database, after_commit
from storage.jobs import Job, NewJob

log = logging.getLogger(__name__)

JobHandler = Callable[[Job], Awaitable[None]]


class RetryLater(Exception):
    """Raised by a handler to run the job again after ``after`` (a platform's Retry-After)."""

    def __init__(self, after: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {after:g}s")
        self.after = after


@dataclass(frozen=True)
class _Kind:
    handler: JobHandler
    on_expired: JobHandler | None


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
        # Jobs that succeed together are recorded together: one transaction for a whole group.
        self._finish_done = GroupCall(self._finish_done_many)

    # -- registration and scheduling ---------------------------------------------------------

    def register(
        self, kind: str, handler: JobHandler, *, on_expired: JobHandler | None = None
    ) -> None:
        if kind in self._kinds:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        self._kinds[kind] = _Kind(handler, on_expired)

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
        if kind not in self._kinds:
            raise ValueError(f"no handler registered for job kind {kind!r}")
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

    async def schedule_many_in(
        self, session: AsyncSession, *, kind: str, jobs: Sequence[NewJob]
    ) -> int:
        """Schedule many jobs of one kind at once; keys that already exist are left alone."""
        if kind not in self._kinds:
            raise ValueError(f"no handler registered for job kind {kind!r}")
        if not jobs:
            return 0
        created = await repo.schedule_many(session, kind=kind, jobs=jobs, now=self.clock.now())
        first = min(job.due_at for job in jobs)
        after_commit(session, lambda: self.wake_at(first))
        return created

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
        which is what makes a console ``/clock +10m`` show every consequence at once.
        """
        async with self._drain_lock:
            total = 0
            while True:
                now = self.clock.now()
                async with self.db.write() as session:
                    claimed = await repo.claim_due(
                        session, now=now, owner=self.owner, lease=self.lease, limit=self.batch
                    )
                if not claimed:
                    break
                await asyncio.gather(*(self._run_one(job) for job in claimed))
                total += len(claimed)
            if self._running:
                await self._plan_next()
            return total

    async def _run_one(self, job: Job) -> None:
        async with self._limit:
            now = self.clock.now()
            kind = self._kinds.get(job.kind)
            if kind is None:
                log.error(
                    "job %s has kind %r that no feature handles; marking failed", job.key, job.kind
                )
                await self._finish(job, repo.FAILED, f"unknown job kind {job.kind!r}")
                return
            if job.not_after is not None and now > job.not_after:
                log.info(
                    "job %s expired (was due %s); recording it as skipped", job.key, job.due_at
                )
                if kind.on_expired is not None:
                    try:
                        await kind.on_expired(job)
                    except Exception:
                        log.exception("expiry handler for job %s failed", job.key)
                await self._finish(job, repo.EXPIRED, None)
                return
            try:
                await kind.handler(job)
            except (RetryLater, RateLimited) as exc:
                after = exc.after if isinstance(exc, RetryLater) else exc.retry_after
                log.info("job %s: %s", job.key, exc)
                await self._retry(job, timedelta(seconds=max(after, 0.0)), str(exc))
            except Exception as exc:
                if job.attempts >= self.max_attempts:
                    log.exception("job %s failed %d times; giving up", job.key, job.attempts)
                    await self._finish(job, repo.FAILED, _describe(exc))
                else:
                    delay = timedelta(seconds=min(30 * 2 ** (job.attempts - 1), 3600))
                    log.warning(
                        "job %s failed (attempt %d), retrying in %s: %s",
                        job.key,
                        job.attempts,
                        delay,
                        _describe(exc),
                    )
                    await self._retry(job, delay, _describe(exc))
            else:
                if not await self._finish_done(job.id):
                    log.warning(
                        "job %s: lease was lost before it finished (another replica took it)",
                        job.key,
                    )

    async def _finish(self, job: Job, state: str, error: str | None) -> None:
        async with self.db.write() as session:
            kept = await repo.finish(
                session, job.id, owner=self.owner, now=self.clock.now(), state=state, error=error
            )
        if not kept:
            log.warning(
                "job %s: lease was lost before it finished (another replica took it)", job.key
            )

    async def _finish_done_many(self, job_ids: Sequence[int]) -> dict[int, bool]:
        async with self.db.write() as session:
            kept = await repo.finish_many(session, job_ids, owner=self.owner, now=self.clock.now())
        return {job_id: job_id in kept for job_id in job_ids}

    async def _retry(self, job: Job, delay: timedelta, error: str) -> None:
        due = self.clock.now() + delay
        async with self.db.write() as session:
            await repo.retry_later(session, job.id, owner=self.owner, due_at=due, error=error)
        self.wake_at(due)

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
        self._wake_at = None
        try:
            await self.run_due()
        except Exception:
            log.exception("running due jobs failed; will try again at the next poll")

    async def _plan_next(self) -> None:
        async with self.db.read() as session:
            moment = await repo.next_wake(session)
        if moment is not None:
            self.wake_at(moment)

    def kick(self) -> None:
        """Run due work soon, without waiting (used after the clock jumps)."""
        task = asyncio.get_running_loop().create_task(self._wake())
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

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


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:2000]
