"""Making and dropping throw-away PostgreSQL databases for tests."""

from __future__ import annotations

import os

import asyncpg
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import Database

DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("PLCBOT_TEST_POSTGRES_URL", DEFAULT)


def url_for(admin: str, database: str) -> str:
    return make_url(admin).set(database=database).render_as_string(hide_password=False)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def unreachable(url: str) -> str | None:
    import asyncio

    async def check() -> None:
        conn = await asyncpg.connect(_dsn(url), timeout=5)
        await conn.close()

    try:
        asyncio.run(check())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


async def _admin(sql: str, admin: str) -> None:
    conn = await asyncpg.connect(_dsn(admin))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_template(admin: str, name: str) -> None:
    await _admin(f'CREATE DATABASE "{name}"', admin)
    db = Database(url_for(admin, name))
    try:
        await migrate.upgrade(db)
    finally:
        await db.close()


async def clone(admin: str, template: str, name: str) -> None:
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"', admin)


async def drop_database(admin: str, name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin)
