"""SQLite's write connection runs on the loop's thread: it must never stall the loop, and the
write-ahead log must still reach the database file."""

import asyncio
import logging
import sqlite3
import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import migrate
from storage.db import Database
from storage.models import JobRow
from storage.sqlite_inline import Checkpoints

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _job(key: str) -> JobRow:
    return JobRow(
        kind="k", key=key, due_at=NOW, payload={}, state="pending", attempts=0, created_at=NOW
    )


def _path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


async def test_a_write_waits_for_another_process_on_the_loop_not_inside_sqlite(
    sqlite_url: str,
) -> None:
    """Another connection (a ``plcbot`` command beside ``plcbot serve``) holds the write lock:
    the write waits without blocking the loop, then lands once the lock is free."""
    db = Database(sqlite_url)
    try:
        await migrate.upgrade(db)
        other = sqlite3.connect(_path(sqlite_url), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO jobs (kind, key, due_at, payload, state, attempts, created_at)"
            " VALUES ('k', 'other', '2026-01-01', '{}', 'pending', 0, '2026-01-01')"
        )

        async def write() -> None:
            async with db.write() as s:
                s.add(_job("ours"))

        task = asyncio.create_task(write())
        # The loop keeps turning while the write waits; a wait inside SQLite (its busy
        # timeout) would stall it for as long as the timeout, then fail with "locked".
        turns = [time.monotonic()]
        while len(turns) < 2000 and not task.done():
            await asyncio.sleep(0)
            turns.append(time.monotonic())
        assert len(turns) == 2000 and not task.done()
        assert max(b - a for a, b in pairwise(turns)) < 0.5
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(task, 10)
        async with db.read() as s:
            assert sorted((await s.scalars(select(JobRow.key))).all()) == ["other", "ours"]
    finally:
        await db.close()


async def test_the_log_is_copied_into_the_database_file_every_so_many_writes(
    sqlite_url: str,
) -> None:
    db = Database(sqlite_url, checkpoint_every=2)
    try:
        await migrate.upgrade(db)
        assert db.checkpoints is not None

        def in_file_alone() -> list[str]:  # what the database file holds, ignoring the log
            frozen = sqlite3.connect(f"file:{_path(sqlite_url)}?immutable=1", uri=True)
            try:
                return sorted(k for (k,) in frozen.execute("SELECT key FROM jobs"))
            except sqlite3.OperationalError:  # no such table: the migrations are in the log too
                return []
            finally:
                frozen.close()

        async with db.write() as s:
            s.add(_job("first"))
        await db.checkpoints.settled()
        assert in_file_alone() == []  # one write: still only in the log
        async with db.write() as s:
            s.add(_job("second"))
        await db.checkpoints.settled()
        assert in_file_alone() == ["first", "second"]
    finally:
        await db.close()


async def test_one_checkpoint_runs_at_a_time_and_a_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()
    runs: list[str] = []

    async def run() -> None:
        runs.append("run")
        await release.wait()
        raise OSError("disk full")

    checkpoints = Checkpoints(run, every=2)
    for _ in range(6):  # the 2nd write starts one; the 4th and 6th find it still running
        checkpoints.wrote()
        await asyncio.sleep(0)
    assert runs == ["run"]
    release.set()
    with caplog.at_level(logging.WARNING, "storage.sqlite_writer"):
        await checkpoints.settled()
    assert "SQLite checkpoint failed" in caplog.text
    checkpoints.wrote()
    checkpoints.wrote()
    await asyncio.sleep(0)
    assert runs == ["run", "run"]
    await checkpoints.settled()
