"""SQLite calls run on the event loop's own thread.

aiosqlite runs every call on a connection's thread and hands the result back through the event
loop: a cursor, an execute, a fetch and a close are four round trips per statement, and each
waits its turn among everything else the loop is doing, then for the GIL. A commitment is six
statements, so under a flood of Slack commands its write transaction held SQLite's one write
lock for about 8 ms, nearly all of it waiting for those turns, and about 100 commitments a
second could be stored (``bench/slack_commands.py``). SQLite's own work for such a transaction
is tens of microseconds (WAL, ``synchronous=NORMAL``: no disk sync at commit), so on a SQLite
file plcbot's write connection runs its calls inline instead: the lock is held about 2 ms, and
under the same flood about twice as many commitments are stored.

Blocking the loop is only safe for calls that are short and never wait, so:

- only write transactions use this connection (each a handful of small statements); reads,
  which can be large, stay on aiosqlite's threads;
- its busy timeout is 0: ``BEGIN IMMEDIATE`` takes the write lock first thing
  (:meth:`InlineConnection.begin_immediate`), and while another process holds it (a ``plcbot``
  command beside ``plcbot serve``) the transaction sleeps on the loop and tries again, never
  waiting inside SQLite; once it holds the lock, nothing in WAL mode makes it wait;
- automatic checkpoints are off on it (a checkpoint syncs the file to disk):
  :class:`Checkpoints` runs them on a worker thread every so many writes.

The rest stays aiosqlite's: opening and closing on its thread, and its cursor and connection
objects, which SQLAlchemy's aiosqlite dialect drives.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 200  # write transactions between checkpoints (each writes a few pages)
_RETRY_FIRST, _RETRY_MAX = 0.001, 0.1  # seconds between tries for a busy lock
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run at once, on the caller's thread.

    aiosqlite's thread still opens and closes it (hence ``check_same_thread=False``)."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def begin_immediate(self, within: float) -> None:
        """Take the write lock, waiting on the loop (up to ``within`` seconds) while another
        connection holds it."""
        deadline = time.monotonic() + within
        delay = _RETRY_FIRST
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode not in _BUSY or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)


def connect(path: Path) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """An ``async_creator`` for SQLAlchemy's engine: connections to ``path`` that run inline."""

    async def creator() -> aiosqlite.Connection:
        connection = InlineConnection(
            lambda: sqlite3.connect(str(path), timeout=0, check_same_thread=False), 64
        )
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own threads
        return await connection

    return creator


def checkpoint(path: Path) -> None:
    """Copy what the write-ahead log holds into the database file, without waiting for
    anyone (PASSIVE). Blocks: run it on a worker thread."""
    connection = sqlite3.connect(str(path), timeout=0)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        connection.close()


class Checkpoints:
    """Runs a checkpoint every ``every`` writes, one at a time, off the loop."""

    def __init__(self, run: Callable[[], Awaitable[None]], every: int = CHECKPOINT_EVERY) -> None:
        self._run = run
        self.every = every
        self._writes = 0
        self._task: asyncio.Task[None] | None = None

    def wrote(self) -> None:
        self._writes += 1
        if self._writes < self.every or (self._task is not None and not self._task.done()):
            return
        self._writes = 0
        self._task = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await self._run()
        except Exception:  # the next one will try again; SQLite's log just grows meanwhile
            log.warning("SQLite checkpoint failed", exc_info=True)

    async def settled(self) -> None:
        if self._task is not None:
            await self._task
