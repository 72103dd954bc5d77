"""Applying Alembic migrations from inside plcbot.

Several replicas may start at once against one PostgreSQL: an advisory lock makes them take
turns, so only the first one migrates and the others find the schema current.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_ID = 7_271_001  # an arbitrary constant shared by every plcbot process


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def expected_heads() -> frozenset[str]:
    """The migrations this code expects; read once (``/readyz`` asks on every probe)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def upgrade(db: Database, revision: str = "heads") -> None:
    async with db.engine.begin() as conn:
        if db.is_postgres:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), revision))


async def downgrade(db: Database, revision: str) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), revision))


async def current_heads(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    return set(heads)


async def is_current(db: Database) -> bool:
    return await current_heads(db) == expected_heads()
