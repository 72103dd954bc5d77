"""The database handle: an async engine plus read and write sessions.

SQLite needs care to behave under concurrent writers: WAL lets readers run beside a writer, the
busy timeout makes a second writer wait instead of failing, and write transactions start with
``BEGIN IMMEDIATE`` so two transactions never both read and then both try to upgrade to a write
lock (which fails at once with "database is locked"). Reads keep a plain deferred ``BEGIN``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

_MODE = "plcbot_mode"
_AFTER_COMMIT = "plcbot_after_commit"
SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened or reached; the message says what to check."""


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _check_sqlite_path(url: str) -> None:
    path = _sqlite_path(url)
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DatabaseUnavailable(
            f"DATABASE_URL: the folder {str(folder)!r} for the SQLite file does not exist"
        )
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise DatabaseUnavailable(f"DATABASE_URL: {str(target)!r} is not writable by this user")


class Database:
    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            _check_sqlite_path(url)
            # One file, one process: a small pool; aiosqlite runs each connection in a thread.
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            if _sqlite_path(url) is None:
                kwargs["poolclass"] = NullPool
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            self._configure_sqlite()
        self._write = async_sessionmaker(
            self.engine.execution_options(**{_MODE: "write"}), expire_on_commit=False
        )
        self._read = async_sessionmaker(
            self.engine.execution_options(**{_MODE: "read"}), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def _configure_sqlite(self) -> None:
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from the driver so we can choose BEGIN IMMEDIATE.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get(_MODE, "write")
            conn.exec_driver_sql("BEGIN" if mode == "read" else "BEGIN IMMEDIATE")

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Callbacks added with :func:`after_commit` run once the commit has succeeded, so work
        that must not happen for a rolled-back change (waking the scheduler) waits for it.
        """
        async with self._write() as session:
            async with session.begin():
                yield session
            for callback in session.info.pop(_AFTER_COMMIT, []):
                callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session, session.begin():
            yield session

    async def ping(self) -> None:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OSError, DBAPIError, OperationalError) as exc:
            raise DatabaseUnavailable(describe_connect_error(self.url, exc)) from exc

    async def close(self) -> None:
        await self.engine.dispose()


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once this :meth:`Database.write` transaction commits, never if not."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":****@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def describe_connect_error(url: str, exc: BaseException) -> str:
    """One line an IT person can act on, without the driver's stack."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"DATABASE_URL: cannot connect to {mask_url(url)}: {reason}"
