"""The database handle: an async engine plus read and write sessions.

SQLite needs care to behave under concurrent writers: WAL lets readers run beside a writer, and
write transactions start with ``BEGIN IMMEDIATE`` so two transactions never both read and then
both try to upgrade to a write lock (which fails at once with "database is locked"). Reads keep
a deferred ``BEGIN``.

Within one process, write transactions on SQLite also take turns on an asyncio lock before they
begin. SQLite allows one writer at a time anyway, but a writer that finds the file locked waits
for it, and SQLite's own busy handler sleeps and polls (1, 2, 5, 10 ... 100 ms): under a burst
of small writes (a flood of Slack commands, each claiming its delivery) those sleeps, not the
writes, would set the pace and the slowest answers. Only another process (a ``plcbot`` command
beside ``plcbot serve``) makes a transaction wait for the file.

On a SQLite file, write transactions use a connection of their own whose calls run on the
event loop's thread rather than aiosqlite's, and that wait happens on the loop, not inside
SQLite (:mod:`storage.sqlite_inline` says why and what keeps it safe). Reads stay on aiosqlite's
threads: SQLite releases the GIL while it works, so a read's C work runs beside the loop on
another core (with reads inline too, ``/protocol list`` under a flood fell from 0.65x to 0.55x
the bare bolt app's acks). An in-memory database keeps aiosqlite's threads for both.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only

from storage import sqlite_inline

log = logging.getLogger(__name__)

_MODE = "plcbot_mode"
_AFTER_COMMIT = "plcbot_after_commit"
SQLITE_BUSY_TIMEOUT_MS = 10_000

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
TARGET_SESSION_ATTRS = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")
# SQLAlchemy hands a PostgreSQL URL's query to asyncpg as keyword arguments, but people paste
# libpq's options there, most of which asyncpg takes under another name or only inside a DSN.
# libpq's TLS files and versions: asyncpg reads these from a DSN only, so they go in one that
# names nothing else (the host, user and database still come from the URL).
_PG_TLS_OPTIONS = (
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
)
# libpq sends these to the server when it connects; asyncpg does it through server_settings.
_PG_SERVER_SETTINGS = ("application_name", "options")
_PG_OPTIONS = (
    "sslmode",
    "ssl",
    "connect_timeout",
    "target_session_attrs",
    "passfile",
    "prepared_statement_cache_size",  # SQLAlchemy's own, read from the URL by its dialect
    *_PG_TLS_OPTIONS,
    *_PG_SERVER_SETTINGS,
)
_SECRET_QUERY = ("password", "sslpassword")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened or reached; the message says what to check."""


def _parse_url(url: str) -> URL:
    """The URL as SQLAlchemy reads it, refusing what would otherwise fail later in a driver."""
    try:
        split = urlsplit(url)
    except ValueError as exc:
        raise DatabaseUnavailable(f"DATABASE_URL: cannot read it as a URL ({exc})") from None
    try:
        port = split.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise DatabaseUnavailable(
            f"DATABASE_URL: {mask_url(url)} needs a port that is a number 1-65535 "
            "(PostgreSQL's is usually 5432), or none"
        )
    try:
        parsed = make_url(url)
    except (ValueError, ArgumentError) as exc:
        raise DatabaseUnavailable(
            f"DATABASE_URL: cannot read {mask_url(url)} as a database URL ({exc})"
        ) from None
    if parsed.get_backend_name() == "sqlite" and _in_memory(parsed):
        raise DatabaseUnavailable(
            "DATABASE_URL: an in-memory SQLite database forgets everything when plcbot stops, and "
            "each connection would see a different one; name a file, e.g. "
            "sqlite+aiosqlite:///./plcbot.db"
        )
    return parsed


def _in_memory(url: URL) -> bool:
    database = url.database or ""
    return (
        database in ("", ":memory:")
        or (database.startswith("file:") and ":memory:" in database)
        or url.query.get("mode") == "memory"
    )


def check_url(url: str) -> None:
    """Raise :class:`DatabaseUnavailable` naming what is wrong with a URL, before connecting."""
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        _asyncpg_options(parsed)


def _asyncpg_options(url: URL) -> tuple[URL, dict[str, Any]]:
    """The URL without the libpq options of its query, and those options as asyncpg takes them."""
    connect_args: dict[str, Any] = {}
    server_settings: dict[str, str] = {}
    tls: dict[str, str] = {}
    keep: dict[str, str] = {}
    for name, raw in url.query.items():
        value = raw if isinstance(raw, str) else raw[-1]  # libpq, too, takes the last one
        if name not in _PG_OPTIONS:
            raise DatabaseUnavailable(
                f"DATABASE_URL: plcbot does not know the option {name!r} in the URL's query; "
                f"it understands {', '.join(_PG_OPTIONS)}"
            )
        if name in ("sslmode", "ssl"):
            if value not in SSL_MODES:
                raise DatabaseUnavailable(
                    f"DATABASE_URL: {name}={value!r} is not one of {', '.join(SSL_MODES)}"
                )
            connect_args["ssl"] = value
        elif name == "connect_timeout":
            if not value.isdigit() or int(value) < 1:
                raise DatabaseUnavailable(
                    f"DATABASE_URL: connect_timeout={value!r} is not a whole number of seconds "
                    "(1 or more)"
                )
            connect_args["timeout"] = float(value)
        elif name == "target_session_attrs":
            if value not in TARGET_SESSION_ATTRS:
                raise DatabaseUnavailable(
                    f"DATABASE_URL: target_session_attrs={value!r} is not one of "
                    f"{', '.join(TARGET_SESSION_ATTRS)}"
                )
            connect_args[name] = value
        elif name == "passfile":
            connect_args[name] = value
        elif name == "prepared_statement_cache_size":
            if not value.isdigit():
                raise DatabaseUnavailable(
                    f"DATABASE_URL: prepared_statement_cache_size={value!r} is not a whole number"
                )
            keep[name] = value
        elif name in _PG_SERVER_SETTINGS:
            server_settings[name] = value
        else:
            tls[name] = value
    if server_settings:
        connect_args["server_settings"] = server_settings
    if tls:
        connect_args["dsn"] = "postgresql://?" + urlencode(tls)
    return url.set(query=keep), connect_args


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
    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        checkpoint_every: int = sqlite_inline.CHECKPOINT_EVERY,
    ) -> None:
        self.url = url
        engine_url = _parse_url(url)
        self.dialect = engine_url.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        self.checkpoints: sqlite_inline.Checkpoints | None = None
        self._writer: AbstractAsyncContextManager[Any] = nullcontext()
        path = None
        if self.dialect == "sqlite":
            _check_sqlite_path(url)
            path = _sqlite_path(url)
            # One file, one process: a small pool; aiosqlite runs each connection in a thread.
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            if path is None:
                kwargs["poolclass"] = NullPool
            self._writer = asyncio.Lock()  # see the module's docstring
        else:
            if self.dialect == "postgresql":
                engine_url, kwargs["connect_args"] = _asyncpg_options(engine_url)
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        self.write_engine = self.engine  # on a SQLite file, one of its own (see below)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine, inline=False)
        if path is not None:
            # One writer at a time (the lock above), so one connection, whose calls run on
            # the loop's thread: see storage.sqlite_inline.
            self.write_engine = create_async_engine(
                engine_url,
                echo=echo,
                async_creator=sqlite_inline.connect(path),
                pool_size=1,
                max_overflow=1,
            )
            _configure_sqlite(self.write_engine, inline=True)
            checkpoint = functools.partial(asyncio.to_thread, sqlite_inline.checkpoint, path)
            self.checkpoints = sqlite_inline.Checkpoints(checkpoint, checkpoint_every)
        self._write = async_sessionmaker(
            self.write_engine.execution_options(**{_MODE: "write"}), expire_on_commit=False
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

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Callbacks added with :func:`after_commit` run once the commit has succeeded, so work
        that must not happen for a rolled-back change (waking the scheduler) waits for it.
        """
        async with self._writer, self._write() as session:
            async with session.begin():
                yield session
            callbacks = session.info.pop(_AFTER_COMMIT, [])
        if self.checkpoints is not None:
            self.checkpoints.wrote()
        for callback in callbacks:
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
        if self.checkpoints is not None:
            await self.checkpoints.settled()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine, *, inline: bool) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so we can choose BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        if inline:  # see storage.sqlite_inline: nothing waits inside SQLite
            cursor.execute("PRAGMA busy_timeout=0")
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        else:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if inline:
            driver = conn.connection.driver_connection
            await_only(driver.begin_immediate(SQLITE_BUSY_TIMEOUT_MS / 1000))
        else:
            read = conn.get_execution_options().get(_MODE, "write") == "read"
            conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once this :meth:`Database.write` transaction commits, never if not."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def mask_url(url: str) -> str:
    """The URL with its passwords hidden, for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.partition("://")[0] + "://****"
    # Edited as text: urlunsplit would drop the empty host of sqlite:///x.
    masked = url
    if parts.password:
        masked = masked.replace(":" + parts.password + "@", ":****@", 1)
    if parts.query:
        head, sep, query = masked.partition("?")
        pairs = [p.partition("=") for p in query.split("&")]
        masked = (
            head
            + sep
            + "&".join(k + eq + ("****" if k in _SECRET_QUERY and v else v) for k, eq, v in pairs)
        )
    return masked


def describe_connect_error(url: str, exc: BaseException) -> str:
    """One line an IT person can act on, without the driver's stack."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"DATABASE_URL: cannot connect to {mask_url(url)}: {reason}"
