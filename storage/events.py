"""Processed events: the durable memory that makes platform retries harmless."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEventRow
from storage.upsert import built_once, insert_of


async def claim_event(session: AsyncSession, platform: str, event_id: str, now: datetime) -> bool:
    """True the first time (platform, event_id) is seen, False for every later delivery."""
    return (platform, event_id) in await claim_events(session, [(platform, event_id)], now)


async def claim_events(
    session: AsyncSession, keys: Iterable[tuple[str, str]], now: datetime
) -> set[tuple[str, str]]:
    """The ``(platform, event_id)`` pairs among ``keys`` seen here for the first time.

    One statement for the lot: concurrent deliveries share a transaction (see
    :class:`bot.batching.GroupCall`) instead of paying for one each. It is run as an
    executemany, which SQLAlchemy sends as multi-row INSERTs ("insertmanyvalues") and compiles
    once, whatever the batch's size.
    """
    # In key order: two replicas claiming overlapping batches then take the rows' locks in the
    # same order, so neither can wait for the other in a circle (a deadlock on PostgreSQL).
    rows = [
        {"platform": platform, "event_id": event_id, "processed_at": now}
        for platform, event_id in sorted(set(keys))
    ]
    if not rows:
        return set()
    result = await session.execute(built_once(session, _claim_statement), rows)
    return {(platform, event_id) for platform, event_id in result}


def _claim_statement(dialect: str) -> Any:
    return (
        insert_of(dialect, ProcessedEventRow)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(ProcessedEventRow.platform, ProcessedEventRow.event_id)
    )


async def release_event(session: AsyncSession, platform: str, event_id: str) -> None:
    """Forget an event whose handling failed, so the platform's retry gets another chance."""
    await session.execute(
        delete(ProcessedEventRow).where(
            ProcessedEventRow.platform == platform, ProcessedEventRow.event_id == event_id
        )
    )


async def forget_before(session: AsyncSession, cutoff: datetime) -> int:
    """Platforms stop retrying within minutes; keeping ids for days is plenty."""
    result = await session.execute(
        delete(ProcessedEventRow).where(ProcessedEventRow.processed_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
