import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, update

from storage import identity, migrate
from storage.db import Database, DatabaseUnavailable
from storage.models import JobRow, TeamMemberRow
from storage.schema import metadata


async def test_migrations_apply_and_match_the_models(db_url: str) -> None:
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        assert await migrate.is_current(db)

        def diff(conn):  # type: ignore[no-untyped-def]
            return compare_metadata(MigrationContext.configure(conn), metadata)

        async with db.engine.connect() as conn:
            differences = await conn.run_sync(diff)
        assert differences == []
    finally:
        await db.close()


async def test_migrations_go_down_and_up_again(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        await migrate.upgrade(db)
        await migrate.downgrade(db, "base")
        assert await migrate.current_heads(db) == set()
        await migrate.upgrade(db)
        assert await migrate.is_current(db)
    finally:
        await db.close()


async def test_times_come_back_aware_utc(db_url: str) -> None:
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        moment = datetime(2026, 3, 8, 2, 30, tzinfo=UTC)
        async with db.write() as s:
            s.add(
                JobRow(
                    kind="k",
                    key="k1",
                    due_at=moment,
                    payload={},
                    state="pending",
                    attempts=0,
                    created_at=moment,
                )
            )
        async with db.read() as s:
            row = await s.scalar(select(JobRow).where(JobRow.key == "k1"))
        assert row is not None
        assert row.due_at == moment and row.due_at.tzinfo is not None
    finally:
        await db.close()


async def test_concurrent_writers_on_sqlite_wait_instead_of_failing(sqlite_url: str) -> None:
    """BEGIN IMMEDIATE: read-then-write transactions that overlap must not hit "locked"."""
    db = Database(sqlite_url)
    try:
        await migrate.upgrade(db)
        now = datetime(2026, 1, 1, tzinfo=UTC)

        async def bump(i: int) -> None:
            async with db.write() as s:
                count = len((await s.scalars(select(JobRow.id))).all())
                await asyncio.sleep(0)  # let the others start their transactions
                s.add(
                    JobRow(
                        kind="k",
                        key=f"k{i}",
                        due_at=now + timedelta(seconds=count),
                        payload={},
                        state="pending",
                        attempts=0,
                        created_at=now,
                    )
                )

        await asyncio.gather(*(bump(i) for i in range(20)))
        async with db.read() as s:
            assert len((await s.scalars(select(JobRow.id))).all()) == 20
    finally:
        await db.close()


async def test_sqlite_writers_in_one_process_take_turns_before_they_begin(
    sqlite_url: str,
) -> None:
    """A second writer waits on the process's own lock, not in SQLite's sleeping busy handler:
    it has not begun while the first is open, and begins once the first commits."""
    db = Database(sqlite_url)
    try:
        await migrate.upgrade(db)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        first_open, release = asyncio.Event(), asyncio.Event()
        began: list[str] = []

        async def write(name: str, hold: bool) -> None:
            async with db.write() as s:
                began.append(name)
                await s.execute(select(JobRow.id))  # BEGIN IMMEDIATE has run
                s.add(
                    JobRow(
                        kind="k",
                        key=name,
                        due_at=now,
                        payload={},
                        state="pending",
                        attempts=0,
                        created_at=now,
                    )
                )
                if hold:
                    first_open.set()
                    await release.wait()

        first = asyncio.create_task(write("first", hold=True))
        await first_open.wait()
        second = asyncio.create_task(write("second", hold=False))
        for _ in range(50):  # plenty of turns for the second to begin if nothing stops it
            await asyncio.sleep(0)
        assert began == ["first"]
        release.set()
        await asyncio.gather(first, second)
        assert began == ["first", "second"]
        async with db.read() as s:
            assert sorted((await s.scalars(select(JobRow.key))).all()) == ["first", "second"]
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite://", "in-memory SQLite database"),
        ("sqlite+aiosqlite:///:memory:", "in-memory SQLite database"),
        ("postgresql+asyncpg://u@127.0.0.1:99999/x", "needs a port that is a number 1-65535"),
        (
            "postgresql+asyncpg://u@127.0.0.1/x?keepalives=1",
            "does not know the option 'keepalives'",
        ),
    ],
)
def test_a_database_that_cannot_work_is_refused_before_connecting(url: str, expected: str) -> None:
    with pytest.raises(DatabaseUnavailable, match=r"^DATABASE_URL: ") as caught:
        Database(url)
    assert expected in str(caught.value)


@pytest.mark.postgres
async def test_a_postgres_url_with_libpq_tls_files_reaches_the_driver(pg_url: str) -> None:
    """A root certificate that isn't there is the driver's one-line complaint, not a TypeError."""
    db = Database(pg_url + "?sslmode=verify-full&sslrootcert=/nonexistent/root.pem")
    try:
        with pytest.raises(DatabaseUnavailable, match=r"^DATABASE_URL: cannot connect to ") as e:
            await db.ping()
        assert "No such file" in str(e.value)  # the file was looked for, so it got through
    finally:
        await db.close()


async def test_a_team_list_reads_each_member_as_the_member_lookup_does(db_url: str) -> None:
    """Members and teams are read as columns; every field must land where it belongs."""
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        now = datetime(2026, 12, 3, tzinfo=UTC)
        async with db.write() as s:
            ws = await identity.ensure_workspace(s, "slack", "T1", now)
            team = await identity.ensure_team(s, ws, "C1", "plc", now)
            ids = [
                await identity.ensure_member(s, ws, "U1", "Maria", "America/Chicago", now, team),
                await identity.ensure_member(s, ws, "U2", "Sam", None, now),
            ]
            for member_id in ids:
                await identity.ensure_membership(s, team, member_id, now)
        async with db.read() as s:
            listed = await identity.team_members(s, team)
            looked_up = [await identity.get_member(s, member_id) for member_id in ids]
        assert [tm.member for tm in listed] == looked_up
        assert [tm.role for tm in listed] == [identity.LEAD, identity.MEMBER]
        assert listed[0].member.timezone == "America/Chicago" and listed[0].member.last_team_id
        async with db.write() as s:  # seen again under a new name: the team is renamed
            assert await identity.ensure_team(s, ws, "C1", "plc-math", now) == team
            assert await identity.ensure_workspace(s, "slack", "T1", now) == ws
            assert await identity.ensure_member(s, ws, "U2", "Sam O.", None, now) == ids[1]
        async with db.read() as s:
            found = await identity.get_team(s, team)
            assert found is not None and found.name == "plc-math" and found.platform == "slack"
            assert await identity.teams_of(s, ids[0]) == [(found, identity.LEAD)]
            sam = await identity.find_member(s, ws, "U2")
            assert sam is not None and sam.display_name == "Sam O." and sam.id == ids[1]
    finally:
        await db.close()


async def test_a_roster_is_stored_many_people_at_a_time_as_one_by_one_would(db_url: str) -> None:
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        now = datetime(2026, 12, 7, tzinfo=UTC)
        later = now + timedelta(days=1)
        async with db.write() as s:
            ws = await identity.ensure_workspace(s, "slack", "T1", now)
            team = await identity.ensure_team(s, ws, "C1", "plc", now)
            lead = await identity.ensure_member(s, ws, "U1", "Maria", "America/Chicago", now)
            await identity.ensure_membership(s, team, lead, now)
            gone = await identity.ensure_member(s, ws, "U2", "Sam", "Europe/Oslo", now)
            await identity.ensure_membership(s, team, gone, now)
            await s.execute(  # nothing in plcbot sets this yet; a roster sync must undo it
                update(TeamMemberRow)
                .where(TeamMemberRow.team_id == team, TeamMemberRow.member_id == gone)
                .values(active=False)
            )
        people = [
            identity.Person("U1", "Maria G.", None),  # no zone given: hers is kept
            identity.Person("U2", "Sam", "America/Denver"),
            *(identity.Person(f"U{n}", f"Teacher {n}", None) for n in range(3, 60)),
            identity.Person("U3", "Teacher 3 (renamed)", "Asia/Tokyo"),  # listed twice
        ]
        async with db.write() as s:
            ids = await identity.ensure_members(s, ws, people, later)
            await identity.ensure_memberships(s, team, list(ids.values()), later)
            assert await identity.ensure_members(s, ws, [], later) == {}
            await identity.ensure_memberships(s, team, [], later)
        assert ids["U1"] == lead and ids["U2"] == gone and len(ids) == 59
        async with db.read() as s:
            listed = {tm.member.user_id: tm for tm in await identity.team_members(s, team)}
            for user_id, member_id in ids.items():
                assert await identity.get_member(s, member_id) == listed[user_id].member
        assert len(listed) == 59  # Sam is back
        assert listed["U1"].role == identity.LEAD and listed["U1"].member.display_name == "Maria G."
        assert listed["U1"].member.timezone == "America/Chicago"
        assert listed["U2"].member.timezone == "America/Denver"
        assert listed["U3"].member.display_name == "Teacher 3 (renamed)"
        assert listed["U3"].member.timezone == "Asia/Tokyo"
        assert {tm.role for user_id, tm in listed.items() if user_id != "U1"} == {identity.MEMBER}
    finally:
        await db.close()
