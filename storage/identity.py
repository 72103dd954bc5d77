"""The identity aggregate: workspaces, teams, members, their roles, and conversation references."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Row, Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import Base
from storage.models import ConversationRefRow, MemberRow, TeamMemberRow, TeamRow, WorkspaceRow
from storage.upsert import built_once, insert_ignore, insert_ignore_many, upsert, upsert_many

LEAD = "lead"
MEMBER = "member"

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    workspace_id: int
    platform: str
    workspace_external_id: str
    conversation_id: str
    name: str | None
    timezone: str | None
    settings: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    workspace_id: int
    platform: str
    workspace_external_id: str
    user_id: str
    display_name: str
    timezone: str | None
    last_team_id: int | None = None


@dataclass(frozen=True, slots=True)
class TeamMember:
    member: Member
    role: str

    @property
    def is_lead(self) -> bool:
        return self.role == LEAD


@dataclass(frozen=True, slots=True)
class StoredConversation:
    workspace_id: int
    platform: str
    workspace_external_id: str
    conversation_id: str
    kind: str
    name: str | None
    member_id: int | None
    platform_data: Mapping[str, Any]


async def _found_or_inserted(
    session: AsyncSession,
    lookup: Select[*Ts],
    model: type[Base],
    values: Mapping[str, Any],
    keys: Sequence[str],
) -> Row[*Ts]:
    """The row ``lookup`` finds, inserting ``values`` first when there is none. It is looked up
    first: it almost always exists, and a lookup is cheaper than an insert that does nothing."""
    found = (await session.execute(lookup)).first()
    if found is None:
        await insert_ignore(session, model, values, keys)
        found = (await session.execute(lookup)).first()
    assert found is not None
    return found


async def ensure_workspace(
    session: AsyncSession, platform: str, external_id: str, now: datetime
) -> int:
    (workspace_id,) = await _found_or_inserted(
        session,
        select(WorkspaceRow.id).where(
            WorkspaceRow.platform == platform, WorkspaceRow.external_id == external_id
        ),
        WorkspaceRow,
        {"platform": platform, "external_id": external_id, "created_at": now},
        ["platform", "external_id"],
    )
    return int(workspace_id)


async def ensure_team(
    session: AsyncSession, workspace_id: int, conversation_id: str, name: str | None, now: datetime
) -> int:
    team_id, stored_name = await _found_or_inserted(
        session,
        select(TeamRow.id, TeamRow.name).where(
            TeamRow.workspace_id == workspace_id, TeamRow.conversation_id == conversation_id
        ),
        TeamRow,
        {
            "workspace_id": workspace_id,
            "conversation_id": conversation_id,
            "name": name,
            "settings": {},
            "created_at": now,
        },
        ["workspace_id", "conversation_id"],
    )
    if name and stored_name != name:
        await session.execute(update(TeamRow).where(TeamRow.id == team_id).values(name=name))
    return int(team_id)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone as a platform lists them, for :func:`ensure_member` and :func:`ensure_members`."""

    user_id: str
    display_name: str
    timezone: str | None


def _member_row(workspace_id: int, person: Person, now: datetime) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "user_id": person.user_id,
        "display_name": person.display_name,
        "timezone": person.timezone,
        "created_at": now,
        "updated_at": now,
    }


def _member_changes(with_zone: bool) -> tuple[str, ...]:
    """What seeing someone again updates: the name always, the time zone when one is given."""
    return (
        ("display_name", "updated_at", "timezone") if with_zone else ("display_name", "updated_at")
    )


async def ensure_member(
    session: AsyncSession,
    workspace_id: int,
    user_id: str,
    display_name: str,
    timezone: str | None,
    now: datetime,
    last_team_id: int | None = None,
) -> int:
    values = _member_row(workspace_id, Person(user_id, display_name, timezone), now)
    changing = list(_member_changes(bool(timezone)))
    if last_team_id is not None:
        values["last_team_id"] = last_team_id
        changing.append("last_team_id")
    return int(
        await upsert(
            session, MemberRow, values, ["workspace_id", "user_id"], changing, returning="id"
        )
    )


async def ensure_membership(
    session: AsyncSession, team_id: int, member_id: int, now: datetime, *, may_lead: bool = True
) -> tuple[str, bool]:
    """Adds the member to the team; returns (role, whether this call added them).

    A new team's first member becomes its lead (``may_lead``): somebody has to be able to run
    the team's settings from day one, and the first person to use plcbot in a channel is almost
    always the one who set it up there. They can hand the role on (``/team lead @name``), and
    the bot tells them so when it happens. Members found by a roster sync never become lead.
    """
    existing = (
        await session.execute(
            select(TeamMemberRow.role, TeamMemberRow.active).where(
                TeamMemberRow.team_id == team_id, TeamMemberRow.member_id == member_id
            )
        )
    ).first()
    if existing is not None:
        role, active = existing
        if not active:
            await session.execute(
                update(TeamMemberRow)
                .where(TeamMemberRow.team_id == team_id, TeamMemberRow.member_id == member_id)
                .values(active=True)
            )
        return role, False
    role = MEMBER
    if may_lead:
        has_lead = await session.scalar(
            select(func.count())
            .select_from(TeamMemberRow)
            .where(TeamMemberRow.team_id == team_id, TeamMemberRow.role == LEAD)
        )
        role = MEMBER if has_lead else LEAD
    inserted = await insert_ignore(
        session,
        TeamMemberRow,
        {
            "team_id": team_id,
            "member_id": member_id,
            "role": role,
            "active": True,
            "joined_at": now,
        },
        ["team_id", "member_id"],
    )
    return role, inserted


async def ensure_members(
    session: AsyncSession, workspace_id: int, people: Sequence[Person], now: datetime
) -> dict[str, int]:
    """:func:`ensure_member` for many people at once; their member ids by platform user id.

    Two statements at most, whatever the number (one for people whose time zone is known, which
    it updates, one for the rest, whose stored zone it keeps). A person listed twice is stored
    once, as listed last."""
    last = {person.user_id: person for person in people}
    ids: dict[str, int] = {}
    for with_zone in (True, False):
        group = [p for p in last.values() if bool(p.timezone) == with_zone]
        found = await upsert_many(
            session,
            MemberRow,
            [_member_row(workspace_id, p, now) for p in group],
            ("workspace_id", "user_id"),
            _member_changes(with_zone),
            returning=("user_id", "id"),
        )
        ids.update((str(user_id), int(member_id)) for user_id, member_id in found)
    return ids


async def ensure_memberships(
    session: AsyncSession, team_id: int, member_ids: Sequence[int], now: datetime
) -> None:
    """:func:`ensure_membership` with ``may_lead=False`` for many members at once: those who had
    left are back, the others join as members; roles already given stay."""
    if not member_ids:
        return
    ids = sorted(set(member_ids))
    await session.execute(built_once(session, _rejoin), {"team": team_id, "ids": ids})
    await insert_ignore_many(
        session,
        TeamMemberRow,
        [
            {"team_id": team_id, "member_id": m, "role": MEMBER, "active": True, "joined_at": now}
            for m in ids
        ],
        ["team_id", "member_id"],
    )


def _rejoin(_dialect: str) -> Any:
    return (
        update(TeamMemberRow)
        .where(
            TeamMemberRow.team_id == bindparam("team"),
            TeamMemberRow.member_id.in_(bindparam("ids", expanding=True)),
            TeamMemberRow.active.is_(False),
        )
        .values(active=True)
    )


async def set_role(session: AsyncSession, team_id: int, member_id: int, role: str) -> None:
    await session.execute(
        update(TeamMemberRow)
        .where(TeamMemberRow.team_id == team_id, TeamMemberRow.member_id == member_id)
        .values(role=role)
    )


async def save_conversation(
    session: AsyncSession,
    workspace_id: int,
    conversation_id: str,
    kind: str,
    name: str | None,
    member_id: int | None,
    platform_data: Mapping[str, Any],
    now: datetime,
) -> None:
    values = {
        "workspace_id": workspace_id,
        "conversation_id": conversation_id,
        "kind": kind,
        "name": name,
        "member_id": member_id,
        "platform_data": dict(platform_data),
        "updated_at": now,
    }
    update_cols = ["kind", "platform_data", "updated_at"]
    if name:
        update_cols.append("name")
    if member_id is not None:
        update_cols.append("member_id")
    await upsert(
        session,
        ConversationRefRow,
        values,
        ["workspace_id", "conversation_id"],
        update_cols,
    )


@dataclass(frozen=True, slots=True)
class OpenedDirect:
    """A member's 1:1 chat that plcbot opened to message them (they never wrote to it)."""

    member_id: int
    conversation_id: str
    name: str | None
    platform_data: Mapping[str, Any]


async def save_direct_conversations(
    session: AsyncSession, opened: Sequence[OpenedDirect], now: datetime
) -> None:
    """Remember chats plcbot opened, so the next message needs no "open" call (Slack's
    ``conversations.open`` is rate-limited to about 50 a minute): one statement for many.

    A chat already stored (the member wrote to plcbot there) keeps its name."""
    if not opened:
        return
    found = await session.execute(
        built_once(session, _member_workspaces), {"ids": [o.member_id for o in opened]}
    )
    workspaces = {member_id: workspace_id for member_id, workspace_id in found.all()}
    rows = [
        {
            "workspace_id": workspaces[o.member_id],
            "conversation_id": o.conversation_id,
            "kind": "direct",
            "name": o.name,
            "member_id": o.member_id,
            "platform_data": dict(o.platform_data),
            "updated_at": now,
        }
        for o in opened
        if o.member_id in workspaces
    ]
    await upsert_many(
        session,
        ConversationRefRow,
        rows,
        ("workspace_id", "conversation_id"),
        ("kind", "member_id", "platform_data", "updated_at"),
    )


def _member_workspaces(_dialect: str) -> Any:
    return select(MemberRow.id, MemberRow.workspace_id).where(
        MemberRow.id.in_(bindparam("ids", expanding=True))
    )


# Team's fields, in order, as columns: reading columns skips building and tracking two ORM
# objects per row, which costs more than the query itself.
_TEAM_COLUMNS = (
    TeamRow.id,
    TeamRow.workspace_id,
    WorkspaceRow.platform,
    WorkspaceRow.external_id,
    TeamRow.conversation_id,
    TeamRow.name,
    TeamRow.timezone,
    TeamRow.settings,
)


def _team(row: Sequence[Any]) -> Team:
    team_id, workspace_id, platform, external_id, conversation_id, name, zone, settings = row
    return Team(
        team_id,
        workspace_id,
        platform,
        external_id,
        conversation_id,
        name,
        zone,
        dict(settings or {}),
    )


# Member's fields, in order, as columns (see team_members)
_MEMBER_COLUMNS = (
    MemberRow.id,
    MemberRow.workspace_id,
    WorkspaceRow.platform,
    WorkspaceRow.external_id,
    MemberRow.user_id,
    MemberRow.display_name,
    MemberRow.timezone,
    MemberRow.last_team_id,
)


async def get_team(session: AsyncSession, team_id: int) -> Team | None:
    row = (
        await session.execute(
            select(*_TEAM_COLUMNS)
            .join(WorkspaceRow, WorkspaceRow.id == TeamRow.workspace_id)
            .where(TeamRow.id == team_id)
        )
    ).first()
    return _team(row) if row else None


async def get_member(session: AsyncSession, member_id: int) -> Member | None:
    row = (
        await session.execute(
            select(*_MEMBER_COLUMNS)
            .join(WorkspaceRow, WorkspaceRow.id == MemberRow.workspace_id)
            .where(MemberRow.id == member_id)
        )
    ).first()
    return Member(*row) if row else None


async def find_member(session: AsyncSession, workspace_id: int, user_id: str) -> Member | None:
    row = (
        await session.execute(
            select(*_MEMBER_COLUMNS)
            .join(WorkspaceRow, WorkspaceRow.id == MemberRow.workspace_id)
            .where(MemberRow.workspace_id == workspace_id, MemberRow.user_id == user_id)
        )
    ).first()
    return Member(*row) if row else None


async def team_members(
    session: AsyncSession, team_id: int, *, include_inactive: bool = False
) -> list[TeamMember]:
    """Columns, not ORM rows: a round to a team of thousands reads them all, and building
    (and tracking) two ORM objects per member cost more than the query."""
    stmt = (
        select(*_MEMBER_COLUMNS, TeamMemberRow.role)
        .join(TeamMemberRow, TeamMemberRow.member_id == MemberRow.id)
        .join(WorkspaceRow, WorkspaceRow.id == MemberRow.workspace_id)
        .where(TeamMemberRow.team_id == team_id)
        .order_by(MemberRow.display_name, MemberRow.id)
    )
    if not include_inactive:
        stmt = stmt.where(TeamMemberRow.active.is_(True))
    return [TeamMember(Member(*row[:-1]), row[-1]) for row in await session.execute(stmt)]


async def role_in(session: AsyncSession, team_id: int, member_id: int) -> str | None:
    return await session.scalar(
        select(TeamMemberRow.role).where(
            TeamMemberRow.team_id == team_id,
            TeamMemberRow.member_id == member_id,
            TeamMemberRow.active.is_(True),
        )
    )


async def teams_of(session: AsyncSession, member_id: int) -> list[tuple[Team, str]]:
    rows = await session.execute(
        select(*_TEAM_COLUMNS, TeamMemberRow.role)
        .join(TeamMemberRow, TeamMemberRow.team_id == TeamRow.id)
        .join(WorkspaceRow, WorkspaceRow.id == TeamRow.workspace_id)
        .where(TeamMemberRow.member_id == member_id, TeamMemberRow.active.is_(True))
        .order_by(TeamRow.name, TeamRow.id)
    )
    return [(_team(row[:-1]), row[-1]) for row in rows]


async def set_team_timezone(session: AsyncSession, team_id: int, timezone: str | None) -> None:
    await session.execute(update(TeamRow).where(TeamRow.id == team_id).values(timezone=timezone))


async def update_team_settings(
    session: AsyncSession, team_id: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    row = await session.get(TeamRow, team_id, with_for_update=True)
    if row is None:
        raise LookupError(f"team {team_id} not found")
    merged = {**(row.settings or {}), **changes}
    row.settings = merged
    return merged


async def conversation_for(
    session: AsyncSession, workspace_id: int, conversation_id: str
) -> StoredConversation | None:
    row = (
        await session.execute(
            select(ConversationRefRow, WorkspaceRow)
            .join(WorkspaceRow, WorkspaceRow.id == ConversationRefRow.workspace_id)
            .where(
                ConversationRefRow.workspace_id == workspace_id,
                ConversationRefRow.conversation_id == conversation_id,
            )
        )
    ).first()
    return _conversation(*row) if row else None


async def direct_conversations(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, StoredConversation]:
    """Each member's 1:1 chat with the bot, where one is known."""
    if not member_ids:
        return {}
    rows = await session.execute(
        select(ConversationRefRow, WorkspaceRow)
        .join(WorkspaceRow, WorkspaceRow.id == ConversationRefRow.workspace_id)
        .where(
            ConversationRefRow.member_id.in_(list(member_ids)),
            ConversationRefRow.kind == "direct",
        )
        .order_by(ConversationRefRow.updated_at)
    )
    found: dict[int, StoredConversation] = {}
    for ref, ws in rows.all():
        if ref.member_id is not None:
            found[ref.member_id] = _conversation(ref, ws)  # the most recently used one wins
    return found


async def latest_conversation(
    session: AsyncSession, platform: str, workspace_external_id: str
) -> StoredConversation | None:
    """The workspace's most recently used conversation reference.

    Opening a new 1:1 chat needs what any reference in the same workspace carries (a Teams
    service URL, tenant and bot id), even when the member never talked to the bot directly.
    """
    row = (
        await session.execute(
            select(ConversationRefRow, WorkspaceRow)
            .join(WorkspaceRow, WorkspaceRow.id == ConversationRefRow.workspace_id)
            .where(
                WorkspaceRow.platform == platform,
                WorkspaceRow.external_id == workspace_external_id,
            )
            .order_by(ConversationRefRow.updated_at.desc(), ConversationRefRow.id.desc())
            .limit(1)
        )
    ).first()
    return _conversation(*row) if row else None


async def find_workspace(session: AsyncSession, platform: str, external_id: str) -> int | None:
    return await session.scalar(
        select(WorkspaceRow.id).where(
            WorkspaceRow.platform == platform, WorkspaceRow.external_id == external_id
        )
    )


def _conversation(row: ConversationRefRow, ws: WorkspaceRow) -> StoredConversation:
    return StoredConversation(
        workspace_id=row.workspace_id,
        platform=ws.platform,
        workspace_external_id=ws.external_id,
        conversation_id=row.conversation_id,
        kind=row.kind,
        name=row.name,
        member_id=row.member_id,
        platform_data=dict(row.platform_data or {}),
    )
