"""The reflections aggregate: schedules, rounds and deliveries.

Answers (and everything that reads their text) live in :mod:`storage.reflection_answers`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MemberRow, TeamMemberRow
from storage.reflection_models import (
    ReflectionDeliveryRow,
    ReflectionRoundRow,
    ReflectionScheduleRow,
)
from storage.upsert import built_once, insert_for, insert_ignore

# delivery states
PENDING, SENT, ANSWERED, PASSED, MISSED, QUIET, FAILED = (
    "pending",
    "sent",
    "answered",
    "passed",
    "missed",
    "quiet",
    "failed",
)
REACHED = (SENT, ANSWERED, PASSED)  # the member got the prompt
OPEN, CLOSED, SKIPPED = "open", "closed", "skipped"  # round states


@dataclass(frozen=True, slots=True)
class Schedule:
    team_id: int
    weekday: int
    at_time: str
    indicators: tuple[str, ...]
    mode: str
    state: str
    skip_dates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    team_id: int
    round_key: str
    local_date: date
    indicator: str
    mode: str
    state: str
    note: str | None
    opens_at: datetime
    closes_at: datetime
    digest_ref: Mapping[str, Any] | None = None  # the digest as posted (a SentMessage's JSON)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    round_id: int
    team_id: int
    member_id: int
    indicator: str
    prompt_id: str
    prompt_text: str
    due_at: datetime
    state: str
    sent_ref: Mapping[str, Any] | None


# -- schedules -------------------------------------------------------------------------------


def _schedule(row: ReflectionScheduleRow) -> Schedule:
    return Schedule(
        team_id=row.team_id,
        weekday=row.weekday,
        at_time=row.at_time,
        indicators=tuple(row.indicators or ()),
        mode=row.mode,
        state=row.state,
        skip_dates=tuple(row.skip_dates or ()),
    )


async def get_schedule(
    session: AsyncSession, team_id: int, *, for_update: bool = False
) -> Schedule | None:
    stmt = select(ReflectionScheduleRow).where(ReflectionScheduleRow.team_id == team_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    return _schedule(row) if row else None


async def save_schedule(
    session: AsyncSession,
    team_id: int,
    *,
    weekday: int,
    at_time: str,
    indicators: Sequence[str],
    mode: str,
    by: int | None,
    now: datetime,
) -> None:
    values = {
        "team_id": team_id,
        "weekday": weekday,
        "at_time": at_time,
        "indicators": list(indicators),
        "mode": mode,
        "state": "active",
        "skip_dates": [],
        "updated_by": by,
        "updated_at": now,
    }
    stmt = insert_for(session, ReflectionScheduleRow).values(**values)
    changed = ("weekday", "at_time", "indicators", "mode", "state", "updated_by", "updated_at")
    stmt = stmt.on_conflict_do_update(
        index_elements=["team_id"], set_={k: stmt.excluded[k] for k in changed}
    )
    await session.execute(stmt)


async def update_schedule(
    session: AsyncSession, team_id: int, now: datetime, **changes: Any
) -> None:
    await session.execute(
        update(ReflectionScheduleRow)
        .where(ReflectionScheduleRow.team_id == team_id)
        .values(updated_at=now, **changes)
    )


async def member_timezones(session: AsyncSession, team_id: int) -> set[str | None]:
    """The distinct profile time zones of a team's active members (None: not known)."""
    rows = await session.scalars(
        select(MemberRow.timezone)
        .join(TeamMemberRow, TeamMemberRow.member_id == MemberRow.id)
        .where(TeamMemberRow.team_id == team_id, TeamMemberRow.active.is_(True))
        .distinct()
    )
    return set(rows.all())


# -- rounds ----------------------------------------------------------------------------------


def _round(row: ReflectionRoundRow) -> Round:
    return Round(
        id=row.id,
        team_id=row.team_id,
        round_key=row.round_key,
        local_date=row.local_date,
        indicator=row.indicator,
        mode=row.mode,
        state=row.state,
        note=row.note,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        digest_ref=row.digest_ref,
    )


async def create_round(
    session: AsyncSession,
    *,
    team_id: int,
    round_key: str,
    local_date: date,
    indicator: str,
    mode: str,
    state: str,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
    note: str | None = None,
) -> Round | None:
    """The new round, or None when this occurrence already exists (it was created before)."""
    inserted = await insert_ignore(
        session,
        ReflectionRoundRow,
        {
            "team_id": team_id,
            "round_key": round_key,
            "local_date": local_date,
            "indicator": indicator,
            "mode": mode,
            "state": state,
            "note": note,
            "opens_at": opens_at,
            "closes_at": closes_at,
            "created_at": now,
        },
        ["team_id", "round_key"],
    )
    if not inserted:
        return None
    row = await session.scalar(
        select(ReflectionRoundRow).where(
            ReflectionRoundRow.team_id == team_id, ReflectionRoundRow.round_key == round_key
        )
    )
    assert row is not None
    return _round(row)


async def get_round(session: AsyncSession, round_id: int) -> Round | None:
    row = await session.get(ReflectionRoundRow, round_id)
    return _round(row) if row else None


async def close_round(
    session: AsyncSession, round_id: int, digest_ref: Mapping[str, Any] | None
) -> bool:
    result = await session.execute(
        update(ReflectionRoundRow)
        .where(ReflectionRoundRow.id == round_id, ReflectionRoundRow.state == OPEN)
        .values(state=CLOSED, digest_ref=dict(digest_ref) if digest_ref else None)
    )
    return bool(getattr(result, "rowcount", 0))


async def recent_rounds(
    session: AsyncSession, team_id: int, *, since: date | None = None, limit: int = 200
) -> list[Round]:
    stmt = select(ReflectionRoundRow).where(ReflectionRoundRow.team_id == team_id)
    if since is not None:
        stmt = stmt.where(ReflectionRoundRow.local_date >= since)
    rows = await session.scalars(stmt.order_by(ReflectionRoundRow.id.desc()).limit(limit))
    return [_round(r) for r in rows.all()]


# -- deliveries ------------------------------------------------------------------------------


def _delivery(row: ReflectionDeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        round_id=row.round_id,
        team_id=row.team_id,
        member_id=row.member_id,
        indicator=row.indicator,
        prompt_id=row.prompt_id,
        prompt_text=row.prompt_text,
        due_at=row.due_at,
        state=row.state,
        sent_ref=row.sent_ref,
    )


async def add_deliveries(
    session: AsyncSession, round_id: int, rows: Sequence[Mapping[str, Any]]
) -> dict[int, int]:
    """Insert a round's deliveries in one batched statement; returns member id -> delivery id."""
    if rows:
        await session.execute(
            insert_for(session, ReflectionDeliveryRow).on_conflict_do_nothing(
                index_elements=["round_id", "member_id"]
            ),
            [{**r, "round_id": round_id} for r in rows],
        )
    found = await session.execute(
        select(ReflectionDeliveryRow.member_id, ReflectionDeliveryRow.id).where(
            ReflectionDeliveryRow.round_id == round_id
        )
    )
    return {member_id: delivery_id for member_id, delivery_id in found.all()}


async def recent_prompt_ids(
    session: AsyncSession, team_id: int, member_ids: Iterable[int], *, rounds: int = 30
) -> dict[int, list[str]]:
    """Each member's prompt ids in the team's last ``rounds`` rounds, most recent first."""
    last_rounds = (
        select(ReflectionRoundRow.id)
        .where(ReflectionRoundRow.team_id == team_id)
        .order_by(ReflectionRoundRow.id.desc())
        .limit(rounds)
        .scalar_subquery()
    )
    ids = list(member_ids)
    found: dict[int, list[str]] = {m: [] for m in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(ReflectionDeliveryRow.member_id, ReflectionDeliveryRow.prompt_id)
        .where(
            ReflectionDeliveryRow.round_id.in_(last_rounds),
            ReflectionDeliveryRow.member_id.in_(ids),
        )
        .order_by(ReflectionDeliveryRow.id.desc())
    )
    for member_id, prompt_id in rows.all():
        found.setdefault(member_id, []).append(prompt_id)
    return found


async def get_delivery(session: AsyncSession, delivery_id: int) -> Delivery | None:
    row = await session.get(ReflectionDeliveryRow, delivery_id)
    return _delivery(row) if row else None


async def delivery_states(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    rows = await session.execute(
        select(ReflectionDeliveryRow.id, ReflectionDeliveryRow.state).where(
            ReflectionDeliveryRow.id.in_(list(ids))
        )
    )
    return {delivery_id: state for delivery_id, state in rows.all()}


async def record_sent_many(
    session: AsyncSession, sent: Sequence[tuple[int, Mapping[str, Any]]], now: datetime
) -> None:
    """Mark many deliveries sent in one transaction (one statement, many parameter sets)."""
    if not sent:
        return
    await session.execute(
        built_once(session, _record_sent),
        [{"delivery_id": d, "ref": dict(ref), "now": now} for d, ref in sent],
    )


def _record_sent(_dialect: str) -> Any:
    table = cast(Table, ReflectionDeliveryRow.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("delivery_id"), table.c.state == PENDING)
        .values(state=SENT, sent_at=bindparam("now"), sent_ref=bindparam("ref"))
    )


async def set_delivery_state(
    session: AsyncSession,
    delivery_id: int,
    state: str,
    *,
    only_from: Sequence[str],
    **values: Any,
) -> bool:
    """Move a delivery to ``state`` if it is in one of ``only_from``; True if it moved."""
    result = await session.execute(
        update(ReflectionDeliveryRow)
        .where(ReflectionDeliveryRow.id == delivery_id, ReflectionDeliveryRow.state.in_(only_from))
        .values(state=state, **values)
    )
    return bool(getattr(result, "rowcount", 0))


async def first_delivery(session: AsyncSession, round_id: int) -> Delivery | None:
    row = await session.scalar(
        select(ReflectionDeliveryRow)
        .where(ReflectionDeliveryRow.round_id == round_id)
        .order_by(ReflectionDeliveryRow.id)
        .limit(1)
    )
    return _delivery(row) if row else None


async def set_round_deliveries(
    session: AsyncSession, round_id: int, state: str, **values: Any
) -> int:
    """Move every still-pending delivery of a round (a prompt posted in the channel)."""
    result = await session.execute(
        update(ReflectionDeliveryRow)
        .where(ReflectionDeliveryRow.round_id == round_id, ReflectionDeliveryRow.state == PENDING)
        .values(state=state, **values)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_reminded(session: AsyncSession, delivery_id: int, now: datetime) -> None:
    await session.execute(
        update(ReflectionDeliveryRow)
        .where(ReflectionDeliveryRow.id == delivery_id)
        .values(reminded_at=now)
    )


async def open_deliveries(session: AsyncSession, member_id: int) -> list[Delivery]:
    """Prompts this member got whose round is still open and that they haven't answered."""
    rows = await session.scalars(
        select(ReflectionDeliveryRow)
        .join(ReflectionRoundRow, ReflectionRoundRow.id == ReflectionDeliveryRow.round_id)
        .where(
            ReflectionDeliveryRow.member_id == member_id,
            ReflectionDeliveryRow.state == SENT,
            ReflectionRoundRow.state == OPEN,
        )
        .order_by(ReflectionDeliveryRow.id.desc())
    )
    return [_delivery(r) for r in rows.all()]


async def next_delivery(session: AsyncSession, member_id: int, now: datetime) -> Delivery | None:
    row = await session.scalar(
        select(ReflectionDeliveryRow)
        .where(
            ReflectionDeliveryRow.member_id == member_id,
            ReflectionDeliveryRow.state == PENDING,
            ReflectionDeliveryRow.due_at > now,
        )
        .order_by(ReflectionDeliveryRow.due_at)
        .limit(1)
    )
    return _delivery(row) if row else None


async def delivery_in_round(
    session: AsyncSession, round_id: int, member_id: int
) -> Delivery | None:
    row = await session.scalar(
        select(ReflectionDeliveryRow).where(
            ReflectionDeliveryRow.round_id == round_id,
            ReflectionDeliveryRow.member_id == member_id,
        )
    )
    return _delivery(row) if row else None
