"""The school calendar aggregate: each team's school year and its quiet days.

Rows with ``team_id`` NULL come from the deployment's own calendar (``PLCBOT_SCHOOL_CALENDAR``)
and apply to every team.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.reflection_models import QuietDayRow, SchoolYearRow
from storage.upsert import upsert

MANUAL, CALENDAR = "manual", "calendar"


@dataclass(frozen=True, slots=True)
class QuietRange:
    id: int
    team_id: int | None
    first_day: date
    last_day: date
    label: str
    origin: str


@dataclass(frozen=True, slots=True)
class SchoolYear:
    first_day: date | None
    last_day: date | None
    calendar_url: str | None
    fetched_at: datetime | None
    fetch_error: str | None


def _range(row: QuietDayRow) -> QuietRange:
    return QuietRange(row.id, row.team_id, row.first_day, row.last_day, row.label, row.origin)


async def quiet_ranges(session: AsyncSession, team_id: int) -> list[QuietRange]:
    """The team's quiet days and the deployment's, in date order."""
    rows = await session.scalars(
        select(QuietDayRow)
        .where(or_(QuietDayRow.team_id == team_id, QuietDayRow.team_id.is_(None)))
        .order_by(QuietDayRow.first_day, QuietDayRow.id)
    )
    return [_range(r) for r in rows.all()]


async def add_quiet(
    session: AsyncSession,
    team_id: int | None,
    first_day: date,
    last_day: date,
    label: str,
    origin: str,
    now: datetime,
) -> int:
    row = QuietDayRow(
        team_id=team_id,
        first_day=first_day,
        last_day=last_day,
        label=label,
        origin=origin,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def remove_quiet(session: AsyncSession, team_id: int, quiet_id: int) -> bool:
    result = await session.execute(
        delete(QuietDayRow).where(QuietDayRow.id == quiet_id, QuietDayRow.team_id == team_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def replace_calendar(
    session: AsyncSession,
    team_id: int | None,
    ranges: Sequence[tuple[date, date, str]],
    now: datetime,
) -> None:
    """Swap the quiet days that came from a calendar for a freshly read set."""
    owner = QuietDayRow.team_id.is_(None) if team_id is None else QuietDayRow.team_id == team_id
    await session.execute(delete(QuietDayRow).where(owner, QuietDayRow.origin == CALENDAR))
    for first, last, label in ranges:
        session.add(
            QuietDayRow(
                team_id=team_id,
                first_day=first,
                last_day=last,
                label=label[:200],
                origin=CALENDAR,
                created_at=now,
            )
        )
    await session.flush()


async def school_year(session: AsyncSession, team_id: int) -> SchoolYear | None:
    row = await session.get(SchoolYearRow, team_id)
    if row is None:
        return None
    return SchoolYear(
        row.first_day, row.last_day, row.calendar_url, row.fetched_at, row.fetch_error
    )


async def save_school_year(
    session: AsyncSession,
    team_id: int,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    calendar_url: str | None = None,
    fetched_at: datetime | None = None,
    fetch_error: str | None = None,
    fields: Sequence[str],
) -> None:
    """Create the team's row or change only ``fields`` in it."""
    values = {
        "team_id": team_id,
        "first_day": first_day,
        "last_day": last_day,
        "calendar_url": calendar_url,
        "fetched_at": fetched_at,
        "fetch_error": fetch_error,
    }
    await upsert(session, SchoolYearRow, values, ["team_id"], list(fields))


async def teams_with_calendars(session: AsyncSession) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(SchoolYearRow.team_id, SchoolYearRow.calendar_url).where(
            SchoolYearRow.calendar_url.is_not(None)
        )
    )
    return [(team_id, url) for team_id, url in rows.all() if url]
