"""Processed events: the durable memory that makes platform retries harmless."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEventRow
from storage.upsert import insert_ignore


async def claim_event(session: AsyncSession, platform: str, event_id: str, now: datetime) -> bool:
    """True the first time (platform, event_id) is seen, False for every later delivery."""
    return await insert_ignore(
        session,
        ProcessedEventRow,
        {"platform": platform, "event_id": event_id, "processed_at": now},
        ["platform", "event_id"],
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
