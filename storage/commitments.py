"""The commitments aggregate: commitments, their peers, their history, and proposed drafts.

Numbers are per team (``#12`` in Grade 5 PLC), because people type them; a counter row per team
hands them out atomically on both databases. The protocol session a commitment came from is a
plain integer (the protocols feature owns that table). Who may see a commitment is decided by
:func:`visible_to`, the one place that rule lives in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from storage.base import Base, JSONType, UTCDateTime
from storage.models import MemberRow, TeamRow
from storage.upsert import built_once, insert_of

SHARED = "shared"
PRIVATE = "private"
OPEN = "open"
DONE = "done"
PARTLY = "partly"
NOT_YET = "not_yet"
DROPPED = "dropped"
STATUSES = (OPEN, DONE, PARTLY, NOT_YET, DROPPED)
ACTIVE = (OPEN, NOT_YET)  # still to be followed through; carried into the next meeting
PENDING = "pending"  # a draft waiting for its owner
CONFIRMED = "confirmed"
SKIPPED = "skipped"


class CommitmentRow(Base):
    __tablename__ = "commitments"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        Index("ix_commitments_team_due", "team_id", "due_on"),
        Index("ix_commitments_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(Text)
    how_know: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    visibility: Mapped[str] = mapped_column(String(16), default=SHARED)
    indicators: Mapped[list[str]] = mapped_column(JSONType, default=list)
    session_id: Mapped[int | None] = mapped_column(Integer, index=True)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommitmentPeerRow(Base):
    """An accountability partner; ``asked_at``/``replied_at`` track the check-in we asked for."""

    __tablename__ = "commitment_peers"

    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CommitmentEventRow(Base):
    """One change to a commitment, who made it and when: its history."""

    __tablename__ = "commitment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class CommitmentCounterRow(Base):
    __tablename__ = "commitment_counters"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(Integer)


class CommitmentDraftRow(Base):
    """A next step a protocol proposed, waiting for its owner to confirm or skip it."""

    __tablename__ = "commitment_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    indicators: Mapped[list[str]] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    commitment_id: Mapped[int | None] = mapped_column(
        ForeignKey("commitments.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# -- what the rest of plcbot sees -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    member_id: int
    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Peer(Person):
    asked_at: datetime | None = None
    replied_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Commitment:
    id: int
    team_id: int
    number: int
    owner: Person
    what: str
    how_know: str | None
    due_on: date
    status: str
    visibility: str
    indicators: tuple[str, ...]
    session_id: int | None
    outcome_note: str | None
    evidence_url: str | None
    reported_at: datetime | None
    outcome_shared_at: datetime | None
    created_at: datetime
    updated_at: datetime
    peers: tuple[Peer, ...] = ()

    @property
    def ref(self) -> str:
        return f"#{self.number}"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def is_owner(self, member_id: int) -> bool:
        return self.owner.member_id == member_id

    def is_peer(self, member_id: int) -> bool:
        return any(p.member_id == member_id for p in self.peers)

    def visible_to(self, member_id: int) -> bool:
        """For a member of the commitment's team: shared, or theirs, or they are its peer."""
        return self.visibility == SHARED or self.is_owner(member_id) or self.is_peer(member_id)

    def outcome_visible_to(self, member_id: int) -> bool:
        """What happened (the note, the evidence) is the owner's to share; peers hear it first."""
        return (
            self.outcome_shared_at is not None
            or self.is_owner(member_id)
            or self.is_peer(member_id)
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    actor: str | None
    actor_id: int | None
    kind: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    team_id: int
    owner_id: int
    session_id: int | None
    text: str
    indicators: tuple[str, ...]
    state: str
    commitment_id: int | None


# -- writing ----------------------------------------------------------------------------------


def _next_numbers_statement(dialect: str) -> Any:
    stmt = insert_of(dialect, CommitmentCounterRow)
    return stmt.on_conflict_do_update(
        index_elements=["team_id"],
        set_={"last_number": CommitmentCounterRow.last_number + stmt.excluded.last_number},
    ).returning(CommitmentCounterRow.team_id, CommitmentCounterRow.last_number)


async def next_numbers(session: AsyncSession, wanted: Mapping[int, int]) -> dict[int, int]:
    """Take ``wanted[team_id]`` new numbers for each team; the first of each team's run.

    The counter moves by the whole run in one statement, so the numbers of commitments stored
    together are consecutive within their team. The teams' counters are taken in the order of
    their ids, so two replicas' transactions never wait for each other's in a circle (on
    PostgreSQL that is a deadlock, and one of them fails after a second)."""
    result = await session.execute(
        built_once(session, _next_numbers_statement),
        [{"team_id": team_id, "last_number": wanted[team_id]} for team_id in sorted(wanted)],
    )
    return {row.team_id: row.last_number - wanted[row.team_id] + 1 for row in result}


@dataclass(frozen=True, slots=True)
class NewCommitment:
    """A commitment to store: its row's values, and the people the caller already holds."""

    values: Mapping[str, Any]
    owner: Person
    peers: Sequence[Person]


async def insert_many(session: AsyncSession, new: Sequence[NewCommitment]) -> list[Commitment]:
    """Store new commitments; they come back as a read would return them, without reading.

    Core inserts, not the ORM's add and flush: nothing here needs the unit of work, and its
    flush was the largest single cost of a /commit, paid while holding SQLite's one writer.
    The rows come back from the insert itself (``RETURNING``, so defaults and types are the
    database's), and the owner and peers are the people the caller holds. One statement for
    all the commitments and one for all their peers, however many there are.

    A multi-row ``RETURNING`` promises no order, and asking SQLAlchemy for the order of the
    parameters makes it insert row by row on SQLite; each row is found by its team and number
    instead, which are unique.
    """
    if not new:
        return []
    result = await session.execute(
        built_once(session, _insert_commitment), [dict(n.values) for n in new]
    )
    returned = {(row["team_id"], row["number"]): dict(row) for row in result.mappings()}
    rows = [returned[n.values["team_id"], n.values["number"]] for n in new]
    named = [list({p.member_id: p for p in n.peers}.values()) for n in new]
    links = [
        {"commitment_id": row["id"], "member_id": p.member_id}
        for row, people in zip(rows, named, strict=True)
        for p in people
    ]
    if links:
        await session.execute(built_once(session, _insert_peer), links)
    made = []
    for row, n, people in zip(rows, new, named, strict=True):
        row.update(owner_user_id=n.owner.user_id, owner_name=n.owner.name)
        in_order = sorted(people, key=lambda p: (p.name, p.member_id))  # as _PEERS orders them
        made.append(_commitment(row, [Peer(p.member_id, p.user_id, p.name) for p in in_order]))
    return made


def _insert_commitment(dialect: str) -> Any:
    stmt = insert_of(dialect, CommitmentRow)
    return stmt.returning(*stmt.table.c)


def _insert_peer(dialect: str) -> Any:
    return insert_of(dialect, CommitmentPeerRow)


def _insert_event(dialect: str) -> Any:
    return insert_of(dialect, CommitmentEventRow)


async def change(session: AsyncSession, commitment_id: int, **values: Any) -> None:
    await session.execute(
        update(CommitmentRow).where(CommitmentRow.id == commitment_id).values(**values)
    )


async def lock(session: AsyncSession, commitment_id: int) -> None:
    """Serialise concurrent changes to one commitment (PostgreSQL; SQLite writes are serial)."""
    stmt = select(CommitmentRow.id).where(CommitmentRow.id == commitment_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    await session.execute(stmt)


async def set_peers(session: AsyncSession, commitment_id: int, member_ids: Sequence[int]) -> None:
    existing = set(
        (
            await session.scalars(
                select(CommitmentPeerRow.member_id).where(
                    CommitmentPeerRow.commitment_id == commitment_id
                )
            )
        ).all()
    )
    wanted = set(member_ids)
    for gone in existing - wanted:
        row = await session.get(CommitmentPeerRow, (commitment_id, gone))
        if row is not None:
            await session.delete(row)
    for member_id in dict.fromkeys(m for m in member_ids if m not in existing):
        session.add(CommitmentPeerRow(commitment_id=commitment_id, member_id=member_id))
    await session.flush()


async def mark_peers_asked(session: AsyncSession, commitment_id: int, at: datetime) -> None:
    await session.execute(
        update(CommitmentPeerRow)
        .where(CommitmentPeerRow.commitment_id == commitment_id)
        .values(asked_at=at)
    )


async def mark_peer_replied(
    session: AsyncSession, commitment_id: int, member_id: int, at: datetime
) -> None:
    await session.execute(
        update(CommitmentPeerRow)
        .where(
            CommitmentPeerRow.commitment_id == commitment_id,
            CommitmentPeerRow.member_id == member_id,
        )
        .values(replied_at=at)
    )


async def add_history(
    session: AsyncSession,
    commitment_id: int,
    at: datetime,
    actor_id: int | None,
    kind: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    await add_history_many(session, [HistoryRow(commitment_id, at, actor_id, kind, detail)])


@dataclass(frozen=True, slots=True)
class HistoryRow:
    commitment_id: int
    at: datetime
    actor_id: int | None
    kind: str
    detail: Mapping[str, Any] | None = None


async def add_history_many(session: AsyncSession, rows: Sequence[HistoryRow]) -> None:
    """History entries of any commitments, in one statement."""
    if rows:
        await session.execute(
            built_once(session, _insert_event),
            [
                {
                    "commitment_id": r.commitment_id,
                    "at": r.at,
                    "actor_id": r.actor_id,
                    "kind": r.kind,
                    "detail": dict(r.detail or {}),
                }
                for r in rows
            ],
        )


# -- reading ----------------------------------------------------------------------------------


def _party(viewer_id: int) -> ColumnElement[bool]:
    named = exists().where(
        CommitmentPeerRow.commitment_id == CommitmentRow.id,
        CommitmentPeerRow.member_id == viewer_id,
    )
    return or_(CommitmentRow.owner_id == viewer_id, named)


def visible_to(viewer_id: int) -> ColumnElement[bool]:
    """Shared with the team, or the viewer's own, or the viewer is named as a peer.

    Callers also limit the query to teams the viewer belongs to.
    """
    return or_(CommitmentRow.visibility == SHARED, _party(viewer_id))


def outcome_visible_to(viewer_id: int) -> ColumnElement[bool]:
    """:meth:`Commitment.outcome_visible_to` in SQL."""
    return or_(CommitmentRow.outcome_shared_at.is_not(None), _party(viewer_id))


_COLUMNS = CommitmentRow.__table__.c


# Plain columns, not ORM objects: summaries read hundreds of rows and never change them. The
# statements are built once (building one cost more than running it, as a commitment is read
# back after each change); their values come as parameters.
_SELECT = select(
    *_COLUMNS,
    MemberRow.display_name.label("owner_name"),
    MemberRow.user_id.label("owner_user_id"),
).join(MemberRow, MemberRow.id == CommitmentRow.owner_id)
_BY_ID = _SELECT.where(CommitmentRow.id == bindparam("commitment_id"))
_PEERS = (
    select(
        CommitmentPeerRow.commitment_id,
        CommitmentPeerRow.member_id,
        MemberRow.user_id,
        MemberRow.display_name,
        CommitmentPeerRow.asked_at,
        CommitmentPeerRow.replied_at,
    )
    .join(MemberRow, MemberRow.id == CommitmentPeerRow.member_id)
    .where(CommitmentPeerRow.commitment_id.in_(bindparam("commitment_ids", expanding=True)))
    .order_by(MemberRow.display_name, MemberRow.id)
)


async def _load(
    session: AsyncSession, stmt: Any, params: Mapping[str, Any] | None = None
) -> list[Commitment]:
    rows = (await session.execute(stmt, params)).mappings().all()
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    peers: dict[int, list[Peer]] = {}
    found = await session.execute(_PEERS, {"commitment_ids": ids})
    for commitment_id, member_id, user_id, name, asked_at, replied_at in found.all():
        peers.setdefault(commitment_id, []).append(
            Peer(member_id, user_id, name, asked_at, replied_at)
        )
    return [_commitment(row, peers.get(row["id"], ())) for row in rows]


def _commitment(row: Mapping[Any, Any], peers: Iterable[Peer]) -> Commitment:
    return Commitment(
        id=row["id"],
        team_id=row["team_id"],
        number=row["number"],
        owner=Person(row["owner_id"], row["owner_user_id"], row["owner_name"]),
        what=row["what"],
        how_know=row["how_know"],
        due_on=row["due_on"],
        status=row["status"],
        visibility=row["visibility"],
        indicators=tuple(row["indicators"] or ()),
        session_id=row["session_id"],
        outcome_note=row["outcome_note"],
        evidence_url=row["evidence_url"],
        reported_at=row["reported_at"],
        outcome_shared_at=row["outcome_shared_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        peers=tuple(peers),
    )


async def get(session: AsyncSession, commitment_id: int) -> Commitment | None:
    found = await _load(session, _BY_ID, {"commitment_id": commitment_id})
    return found[0] if found else None


async def by_number(
    session: AsyncSession, team_ids: Sequence[int], number: int
) -> list[Commitment]:
    if not team_ids:
        return []
    return await _load(
        session,
        _SELECT.where(CommitmentRow.team_id.in_(list(team_ids)), CommitmentRow.number == number),
    )


async def owned_by(
    session: AsyncSession,
    owner_id: int,
    *,
    statuses: Sequence[str],
    updated_since: datetime | None = None,
    limit: int = 100,
) -> list[Commitment]:
    stmt = _SELECT.where(
        CommitmentRow.owner_id == owner_id, CommitmentRow.status.in_(list(statuses))
    )
    if updated_since is not None:
        stmt = stmt.where(CommitmentRow.updated_at >= updated_since)
        stmt = stmt.order_by(CommitmentRow.updated_at.desc(), CommitmentRow.id.desc())
    else:
        stmt = stmt.order_by(CommitmentRow.due_on, CommitmentRow.id)
    return await _load(session, stmt.limit(limit))


async def for_team(
    session: AsyncSession,
    team_id: int,
    *,
    viewer_id: int | None = None,
    due_from: date | None = None,
    active: bool = False,
    limit: int | None = None,
) -> list[Commitment]:
    """A team's commitments (visible to ``viewer_id`` if given): active ones and/or due lately."""
    stmt = _SELECT.where(CommitmentRow.team_id == team_id)
    if viewer_id is not None:
        stmt = stmt.where(visible_to(viewer_id))
    wanted: list[ColumnElement[bool]] = []
    if active:
        wanted.append(CommitmentRow.status.in_(ACTIVE))
    if due_from is not None:
        wanted.append(CommitmentRow.due_on >= due_from)
    if wanted:
        stmt = stmt.where(or_(*wanted))
    stmt = stmt.order_by(CommitmentRow.due_on, CommitmentRow.number)
    if limit is not None:
        stmt = stmt.limit(limit)
    return await _load(session, stmt)


def _like(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(
    session: AsyncSession,
    team_ids: Sequence[int],
    viewer_id: int,
    words: Sequence[str],
    limit: int = 15,
) -> list[Commitment]:
    """Commitments mentioning every word (in what, how they'd know, or an outcome they may see)."""
    if not team_ids or not words:
        return []
    stmt = _SELECT.where(CommitmentRow.team_id.in_(list(team_ids)), visible_to(viewer_id))
    for word in words:
        pattern = _like(word)
        stmt = stmt.where(
            or_(
                func.lower(CommitmentRow.what).like(pattern, escape="\\"),
                func.lower(func.coalesce(CommitmentRow.how_know, "")).like(pattern, escape="\\"),
                and_(
                    func.lower(func.coalesce(CommitmentRow.outcome_note, "")).like(
                        pattern, escape="\\"
                    ),
                    outcome_visible_to(viewer_id),
                ),
            )
        )
    reported_first = CommitmentRow.reported_at.is_(None)
    stmt = stmt.order_by(reported_first, CommitmentRow.updated_at.desc()).limit(limit)
    return await _load(session, stmt)


async def awaiting_check_in(session: AsyncSession, member_id: int) -> list[Commitment]:
    """Commitments whose owner we asked ``member_id`` to check in with, not yet answered."""
    asked = (
        select(CommitmentPeerRow.commitment_id)
        .where(
            CommitmentPeerRow.member_id == member_id,
            CommitmentPeerRow.asked_at.is_not(None),
            or_(
                CommitmentPeerRow.replied_at.is_(None),
                CommitmentPeerRow.replied_at < CommitmentPeerRow.asked_at,
            ),
        )
        .scalar_subquery()
    )
    stmt = _SELECT.where(CommitmentRow.id.in_(asked)).order_by(CommitmentRow.due_on)
    return await _load(session, stmt.limit(50))


async def asked_about_a_report(session: AsyncSession, commitment_id: int) -> bool:
    """Whether the peers were already asked to check in after one of the owner's reports."""
    details = await session.scalars(
        select(CommitmentEventRow.detail).where(
            CommitmentEventRow.commitment_id == commitment_id, CommitmentEventRow.kind == "asked"
        )
    )
    return any((d or {}).get("reason") == "reported" for d in details.all())


async def history(session: AsyncSession, commitment_id: int) -> list[HistoryEntry]:
    rows = await session.execute(
        select(CommitmentEventRow, MemberRow.display_name)
        .outerjoin(MemberRow, MemberRow.id == CommitmentEventRow.actor_id)
        .where(CommitmentEventRow.commitment_id == commitment_id)
        .order_by(CommitmentEventRow.at, CommitmentEventRow.id)
    )
    return [
        HistoryEntry(row.at, name, row.actor_id, row.kind, dict(row.detail or {}))
        for row, name in rows.all()
    ]


async def team_names(session: AsyncSession, team_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(team_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(TeamRow.id, TeamRow.name, TeamRow.conversation_id).where(TeamRow.id.in_(ids))
    )
    return {tid: name or conv for tid, name, conv in rows.all()}


# -- drafts -----------------------------------------------------------------------------------


def _draft(row: CommitmentDraftRow) -> Draft:
    return Draft(
        row.id,
        row.team_id,
        row.owner_id,
        row.session_id,
        row.text,
        tuple(row.indicators or ()),
        row.state,
        row.commitment_id,
    )


async def add_draft(
    session: AsyncSession,
    *,
    team_id: int,
    owner_id: int,
    session_id: int | None,
    text: str,
    indicators: Sequence[str],
    now: datetime,
) -> tuple[Draft, bool]:
    """The draft for this proposal; False when the same proposal was already made."""
    same = await session.scalar(
        select(CommitmentDraftRow).where(
            CommitmentDraftRow.team_id == team_id,
            CommitmentDraftRow.owner_id == owner_id,
            CommitmentDraftRow.text == text,
            CommitmentDraftRow.session_id.is_(None)
            if session_id is None
            else CommitmentDraftRow.session_id == session_id,
        )
    )
    if same is not None:
        return _draft(same), False
    row = CommitmentDraftRow(
        team_id=team_id,
        owner_id=owner_id,
        session_id=session_id,
        text=text,
        indicators=list(indicators),
        state=PENDING,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return _draft(row), True


async def get_draft(
    session: AsyncSession, draft_id: int, *, for_update: bool = False
) -> Draft | None:
    stmt = select(CommitmentDraftRow).where(CommitmentDraftRow.id == draft_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    return _draft(row) if row else None


async def decide_draft(
    session: AsyncSession, draft_id: int, state: str, now: datetime, commitment_id: int | None
) -> None:
    await session.execute(
        update(CommitmentDraftRow)
        .where(CommitmentDraftRow.id == draft_id)
        .values(state=state, decided_at=now, commitment_id=commitment_id)
    )


async def pending_drafts(session: AsyncSession, owner_id: int) -> list[Draft]:
    rows = await session.scalars(
        select(CommitmentDraftRow)
        .where(CommitmentDraftRow.owner_id == owner_id, CommitmentDraftRow.state == PENDING)
        .order_by(CommitmentDraftRow.id)
    )
    return [_draft(r) for r in rows.all()]
