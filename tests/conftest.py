"""Shared fixtures: real databases (a SQLite file, a fresh PostgreSQL database) and a fake clock.

PostgreSQL tests use ``PLCBOT_TEST_POSTGRES_URL`` (default: the local server these machines
run, ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``). Each test gets its own database,
copied from a migrated template, so tests never see each other's rows. Under ``CI=true`` an
unreachable server fails the run; elsewhere those tests skip and say how to enable them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from tests.support import pg

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday in term time


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'plcbot.db'}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database, made once per test run."""
    admin = pg.admin_url()
    reason = pg.unreachable(admin)
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {reason}")
        pytest.skip(
            f"PostgreSQL not reachable ({reason}); start one and set PLCBOT_TEST_POSTGRES_URL "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) to run these tests"
        )
    name = f"plcbot_tpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg.create_template(admin, name))
    yield name
    asyncio.run(pg.drop_database(admin, name))


@pytest.fixture
async def pg_url(pg_template: str) -> AsyncIterator[str]:
    admin = pg.admin_url()
    name = f"plcbot_t_{uuid.uuid4().hex[:12]}"
    await pg.clone(admin, pg_template, name)
    yield pg.url_for(admin, name)
    await pg.drop_database(admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))
