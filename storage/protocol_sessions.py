"""The protocol-session aggregate: a session's state, its card, its contributions, its summary.

The state row carries a ``version``; every change is ``UPDATE ... WHERE version = :old``, so two
replicas (or a button and a timer) acting at once can never both win: the loser reloads and
steps again. Contributions are their own append-only rows, so someone writing during a step
never collides with the facilitator pressing next. ``active_team_id`` is set only while a
session runs and is unique: the database itself keeps it to one live session per channel.
An anonymous contribution is stored without its author.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime

ACTIVE = "active"
ENDED = "ended"
DISCUSSION = "discussion"
NOTE = "note"


class ProtocolSessionRow(Base):
    __tablename__ = "protocol_sessions"
    __table_args__ = (Index("ix_protocol_sessions_team_started", "team_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    active_team_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    conversation: Mapped[dict[str, Any]] = mapped_column(JSONType)
    protocol_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    mode: Mapped[str] = mapped_column(String(16))
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    card: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProtocolContributionRow(Base):
    __tablename__ = "protocol_contributions"
    __table_args__ = (Index("ix_protocol_contributions_session_step", "session_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("protocol_sessions.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    author: Mapped[str | None] = mapped_column(String(200))  # the name at the time; None if anon
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default=DISCUSSION)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: int
    team_id: int
    conversation: Mapping[str, Any]
    protocol_id: str
    title: str
    definition: Mapping[str, Any]
    state: Mapping[str, Any]
    version: int
    status: str
    mode: str
    facilitator_id: int | None
    card: Mapping[str, Any] | None
    summary: Mapping[str, Any] | None
    started_at: datetime
    ended_at: datetime | None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True, slots=True)
class Contribution:
    id: int
    step: int
    step_id: str
    member_id: int | None
    author: str | None
    anonymous: bool
    kind: str
    text: str
    created_at: datetime

    @property
    def is_note(self) -> bool:
        return self.kind == NOTE


@dataclass(frozen=True, slots=True)
class Listing:
    """A line of ``/protocol history``."""

    id: int
    title: str
    status: str
    mode: str
    started_at: datetime
    ended_at: datetime | None
    contributions: int


def _session(row: ProtocolSessionRow) -> StoredSession:
    return StoredSession(
        id=row.id,
        team_id=row.team_id,
        conversation=dict(row.conversation or {}),
        protocol_id=row.protocol_id,
        title=row.title,
        definition=dict(row.definition or {}),
        state=dict(row.state or {}),
        version=row.version,
        status=row.status,
        mode=row.mode,
        facilitator_id=row.facilitator_id,
        card=dict(row.card) if row.card else None,
        summary=dict(row.summary) if row.summary else None,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


async def create(
    session: AsyncSession,
    *,
    team_id: int,
    conversation: Mapping[str, Any],
    protocol_id: str,
    title: str,
    definition: Mapping[str, Any],
    state: Mapping[str, Any],
    mode: str,
    facilitator_id: int,
    now: datetime,
) -> int:
    """Insert a running session; raises ``IntegrityError`` if the team already has one."""
    row = ProtocolSessionRow(
        team_id=team_id,
        active_team_id=team_id,
        conversation=dict(conversation),
        protocol_id=protocol_id,
        title=title,
        definition=dict(definition),
        state=dict(state),
        version=1,
        status=ACTIVE,
        mode=mode,
        facilitator_id=facilitator_id,
        started_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def get(session: AsyncSession, session_id: int) -> StoredSession | None:
    row = await session.get(ProtocolSessionRow, session_id, populate_existing=True)
    return _session(row) if row else None


async def active_for_team(session: AsyncSession, team_id: int) -> StoredSession | None:
    row = await session.scalar(
        select(ProtocolSessionRow).where(ProtocolSessionRow.active_team_id == team_id)
    )
    return _session(row) if row else None


async def active_for_teams(session: AsyncSession, team_ids: Sequence[int]) -> list[StoredSession]:
    if not team_ids:
        return []
    rows = await session.scalars(
        select(ProtocolSessionRow)
        .where(ProtocolSessionRow.active_team_id.in_(list(team_ids)))
        .order_by(ProtocolSessionRow.started_at)
    )
    return [_session(r) for r in rows.all()]


async def save_state(
    session: AsyncSession,
    session_id: int,
    *,
    state: Mapping[str, Any],
    old_version: int,
    facilitator_id: int,
    ended_at: datetime | None,
    now: datetime,
) -> bool:
    """Store the new state if nobody changed it since ``old_version``; False if someone did."""
    values: dict[str, Any] = {
        "state": dict(state),
        "version": old_version + 1,
        "facilitator_id": facilitator_id,
        "updated_at": now,
    }
    if ended_at is not None:
        values.update(status=ENDED, ended_at=ended_at, active_team_id=None)
    result = await session.execute(
        update(ProtocolSessionRow)
        .where(ProtocolSessionRow.id == session_id, ProtocolSessionRow.version == old_version)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def set_card(session: AsyncSession, session_id: int, card: Mapping[str, Any]) -> None:
    await session.execute(
        update(ProtocolSessionRow)
        .where(ProtocolSessionRow.id == session_id)
        .values(card=dict(card))
    )


async def set_summary(session: AsyncSession, session_id: int, summary: Mapping[str, Any]) -> None:
    await session.execute(
        update(ProtocolSessionRow)
        .where(ProtocolSessionRow.id == session_id)
        .values(summary=dict(summary))
    )


async def add_contribution(
    session: AsyncSession,
    *,
    session_id: int,
    step: int,
    step_id: str,
    member_id: int | None,
    author: str | None,
    anonymous: bool,
    note: bool,
    text: str,
    now: datetime,
) -> int:
    row = ProtocolContributionRow(
        session_id=session_id,
        step=step,
        step_id=step_id,
        member_id=None if anonymous else member_id,
        author=None if anonymous else author,
        anonymous=anonymous,
        kind=NOTE if note else DISCUSSION,
        text=text,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def contributions(session: AsyncSession, session_id: int) -> list[Contribution]:
    rows = await session.scalars(
        select(ProtocolContributionRow)
        .where(ProtocolContributionRow.session_id == session_id)
        .order_by(ProtocolContributionRow.step, ProtocolContributionRow.id)
    )
    return [
        Contribution(
            id=r.id,
            step=r.step,
            step_id=r.step_id,
            member_id=r.member_id,
            author=r.author,
            anonymous=r.anonymous,
            kind=r.kind,
            text=r.text,
            created_at=r.created_at,
        )
        for r in rows.all()
    ]


async def contributors(session: AsyncSession, session_id: int, step: int) -> set[int]:
    """Members who contributed to ``step`` under their name."""
    rows = await session.scalars(
        select(ProtocolContributionRow.member_id).where(
            ProtocolContributionRow.session_id == session_id,
            ProtocolContributionRow.step == step,
            ProtocolContributionRow.member_id.is_not(None),
        )
    )
    return {m for m in rows.all() if m is not None}


async def history(session: AsyncSession, team_id: int, *, limit: int = 15) -> list[Listing]:
    counts = (
        select(
            ProtocolContributionRow.session_id.label("sid"),
            func.count(ProtocolContributionRow.id).label("n"),
        )
        .group_by(ProtocolContributionRow.session_id)
        .subquery()
    )
    rows = await session.execute(
        select(ProtocolSessionRow, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.sid == ProtocolSessionRow.id)
        .where(ProtocolSessionRow.team_id == team_id)
        .order_by(ProtocolSessionRow.started_at.desc(), ProtocolSessionRow.id.desc())
        .limit(limit)
    )
    return [
        Listing(
            id=row.id,
            title=row.title,
            status=row.status,
            mode=row.mode,
            started_at=row.started_at,
            ended_at=row.ended_at,
            contributions=int(n),
        )
        for row, n in rows.all()
    ]


async def last_ended(session: AsyncSession, team_id: int) -> StoredSession | None:
    row = await session.scalar(
        select(ProtocolSessionRow)
        .where(ProtocolSessionRow.team_id == team_id, ProtocolSessionRow.status == ENDED)
        .order_by(ProtocolSessionRow.ended_at.desc(), ProtocolSessionRow.id.desc())
        .limit(1)
    )
    return _session(row) if row else None
