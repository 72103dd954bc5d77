"""The jobs aggregate: durable due work, claimed with expiring leases.

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so replicas sharing a database take
disjoint jobs without waiting on each other; on SQLite the write transaction (``BEGIN
IMMEDIATE``) already makes the claim atomic within the one process that owns the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRow
from storage.upsert import built_once, insert_for, insert_of

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    key: str
    due_at: datetime
    not_after: datetime | None
    payload: Mapping[str, Any]
    attempts: int
    # Not stored: what the kind's ``prepare`` step loaded for this job, for its whole claimed
    # batch at once, right after the claim (see :meth:`bot.scheduler.Scheduler.register`).
    context: Any = field(default=None, compare=False)


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        key=row.key,
        due_at=row.due_at,
        not_after=row.not_after,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
    )


@dataclass(frozen=True, slots=True)
class NewJob:
    key: str
    due_at: datetime
    payload: Mapping[str, Any]
    not_after: datetime | None = None


async def schedule(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    now: datetime,
    payload: Mapping[str, Any] | None = None,
    not_after: datetime | None = None,
    replace: bool = True,
) -> None:
    """Create the job, or (``replace``) move an existing one that is not running right now.

    ``replace=False`` is for work that must happen once per key whatever happens later (an
    occurrence of a schedule): a second call finds the key and changes nothing.
    """
    values = _new_row(kind, NewJob(key, due_at, payload or {}, not_after), now)
    build = _schedule_replacing if replace else _schedule_once
    await session.execute(built_once(session, build), values)


async def schedule_each(
    session: AsyncSession, jobs: Sequence[tuple[str, NewJob]], *, now: datetime
) -> None:
    """:func:`schedule` (replacing) for several jobs of any kinds, in one statement.

    A new commitment plans two or three nudges; one executemany instead of one statement each
    (each statement counts while the one SQLite writer holds the lock)."""
    if jobs:
        rows = [_new_row(kind, job, now) for kind, job in jobs]
        await session.execute(built_once(session, _schedule_replacing), rows)


def _new_row(kind: str, job: NewJob, now: datetime) -> dict[str, Any]:
    return {
        "kind": kind,
        "key": job.key,
        "due_at": job.due_at,
        "not_after": job.not_after,
        "payload": dict(job.payload),
        "state": PENDING,
        "attempts": 0,
        "created_at": now,
    }


def _schedule_replacing(dialect: str) -> Any:
    stmt = insert_of(dialect, JobRow)
    return stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "kind": stmt.excluded.kind,
            "due_at": stmt.excluded.due_at,
            "not_after": stmt.excluded.not_after,
            "payload": stmt.excluded.payload,
            "state": PENDING,
            "attempts": 0,
            "lease_owner": None,
            "lease_until": None,
            "last_error": None,
            "finished_at": None,
        },
        where=JobRow.state != RUNNING,
    )


def _schedule_once(dialect: str) -> Any:
    return insert_of(dialect, JobRow).on_conflict_do_nothing(index_elements=["key"])


async def schedule_many(
    session: AsyncSession, *, kind: str, jobs: Sequence[NewJob], now: datetime
) -> int:
    """Create many jobs of one kind at once; keys that exist are left alone.

    For fan-out (a prompt to every member of a team): one statement with many parameter sets,
    which SQLAlchemy sends as batched multi-row INSERTs. Returns how many were created.
    """
    if not jobs:
        return 0
    stmt = (
        insert_for(session, JobRow)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(JobRow.id)
    )
    rows = [_new_row(kind, job, now) for job in jobs]
    result = await session.execute(stmt, rows)
    return len(result.all())


_CANCEL = (
    update(JobRow)
    .where(JobRow.key == bindparam("job_key"), JobRow.state == PENDING)
    .values(state=CANCELLED, finished_at=bindparam("cancelled_at"))
)


async def cancel(session: AsyncSession, key: str, now: datetime) -> None:
    await session.execute(_CANCEL, {"job_key": key, "cancelled_at": now})


async def cancel_prefix(session: AsyncSession, prefix: str, now: datetime) -> int:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await session.execute(
        update(JobRow)
        .where(JobRow.key.like(escaped + "%", escape="\\"), JobRow.state == PENDING)
        .values(state=CANCELLED, finished_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _claimable(now: datetime) -> Any:
    return or_(
        and_(JobRow.state == PENDING, JobRow.due_at <= now),
        and_(JobRow.state == RUNNING, JobRow.lease_until < now),
    )


async def claim_due(
    session: AsyncSession, *, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[Job]:
    pick = select(JobRow.id).where(_claimable(now)).order_by(JobRow.due_at, JobRow.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list((await session.scalars(pick)).all())
    if not ids:
        return []
    rows = await session.execute(
        update(JobRow)
        .where(JobRow.id.in_(ids))
        .values(
            state=RUNNING,
            lease_owner=owner,
            lease_until=now + lease,
            attempts=JobRow.attempts + 1,
        )
        .returning(
            JobRow.id,
            JobRow.kind,
            JobRow.key,
            JobRow.due_at,
            JobRow.not_after,
            JobRow.payload,
            JobRow.attempts,
        )
    )
    return sorted((_job(r) for r in rows.all()), key=lambda j: (j.due_at, j.id))


async def finish(
    session: AsyncSession,
    job_id: int,
    *,
    owner: str,
    now: datetime,
    state: str = DONE,
    error: str | None = None,
) -> bool:
    """Record the outcome, only if this owner still holds the lease (nobody took it over)."""
    result = await session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.state == RUNNING)
        .values(state=state, finished_at=now, lease_until=None, last_error=error)
    )
    return bool(getattr(result, "rowcount", 0))


async def finish_many(
    session: AsyncSession, job_ids: Sequence[int], *, owner: str, now: datetime
) -> set[int]:
    """Record many jobs as done in one statement; returns the ids this owner still held."""
    result = await session.execute(
        built_once(session, _finish_many), {"ids": list(job_ids), "owner": owner, "now": now}
    )
    return set(result.scalars().all())


def _finish_many(_dialect: str) -> Any:
    return (
        update(JobRow)
        .where(
            JobRow.id.in_(bindparam("ids", expanding=True)),
            JobRow.lease_owner == bindparam("owner"),
            JobRow.state == RUNNING,
        )
        .values(state=DONE, finished_at=bindparam("now"), lease_until=None, last_error=None)
        .returning(JobRow.id)
    )


async def retry_later(
    session: AsyncSession, job_id: int, *, owner: str, due_at: datetime, error: str
) -> bool:
    result = await session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.state == RUNNING)
        .values(state=PENDING, due_at=due_at, lease_owner=None, lease_until=None, last_error=error)
    )
    return bool(getattr(result, "rowcount", 0))


async def next_wake(session: AsyncSession) -> datetime | None:
    """The earliest moment something becomes claimable: a due time or a lease running out."""
    due = await session.scalar(select(func.min(JobRow.due_at)).where(JobRow.state == PENDING))
    lease = await session.scalar(
        select(func.min(JobRow.lease_until)).where(JobRow.state == RUNNING)
    )
    candidates = [t for t in (due, lease) if t is not None]
    if not candidates:
        return None
    # min() in SQL on SQLite returns the raw stored string's parse; normalise through the type.
    return min(candidates)


async def get(session: AsyncSession, key: str) -> tuple[Job, str] | None:
    row = await session.scalar(select(JobRow).where(JobRow.key == key))
    return (_job(row), row.state) if row else None


async def pending_with_prefix(session: AsyncSession, prefix: str) -> list[Job]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await session.scalars(
        select(JobRow)
        .where(JobRow.key.like(escaped + "%", escape="\\"), JobRow.state == PENDING)
        .order_by(JobRow.due_at)
    )
    return [_job(r) for r in rows.all()]


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(JobRow).where(
            JobRow.state.in_([DONE, CANCELLED, EXPIRED]), JobRow.finished_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
