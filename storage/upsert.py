"""Portable INSERT ... ON CONFLICT for the two databases plcbot runs on."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import Base


def insert_for(session: AsyncSession, model: type[Base]) -> Any:
    """The dialect's own ``insert`` (which has ``on_conflict_do_*``) for this session's database."""
    return insert_of(session.get_bind().dialect.name, model)


# The statements are built once and given their values as parameters: building one per call
# (and its ``excluded`` alias, which copies every column) cost more than running it.


@functools.lru_cache(maxsize=256)
def _ignore_statement(dialect: str, model: type[Base], keys: tuple[str, ...]) -> Any:
    return insert_of(dialect, model).on_conflict_do_nothing(index_elements=list(keys))


@functools.lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str,
    model: type[Base],
    keys: tuple[str, ...],
    update: tuple[str, ...],
    returning: tuple[str, ...],
) -> Any:
    stmt = insert_of(dialect, model)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in update}
    )
    return stmt.returning(*(stmt.table.c[name] for name in returning)) if returning else stmt


def insert_of(dialect: str, model: type[Base]) -> Any:
    """The dialect's own ``insert`` for ``model`` (for builders given to :func:`built_once`)."""
    table = cast(Table, model.__table__)
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


@functools.lru_cache(maxsize=256)
def _built(dialect: str, build: Callable[[str], Any]) -> Any:
    return build(dialect)


def built_once(session: AsyncSession, build: Callable[[str], Any]) -> Any:
    """``build(dialect)``, made once per kind of database and kept (see above): for a hot
    statement that takes all its values as parameters. ``build`` must be a module-level
    function, so that the cache stays small."""
    return _built(session.get_bind().dialect.name, build)


async def insert_ignore(
    session: AsyncSession, model: type[Base], values: Mapping[str, Any], keys: Sequence[str]
) -> bool:
    """Insert unless a row with the same ``keys`` exists; True when this call inserted it."""
    stmt = _ignore_statement(session.get_bind().dialect.name, model, tuple(keys))
    result = await session.execute(stmt, dict(values))
    return bool(getattr(result, "rowcount", 0))


async def insert_ignore_many(
    session: AsyncSession,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
) -> None:
    """:func:`insert_ignore` for many rows in one statement."""
    if rows:
        stmt = _ignore_statement(session.get_bind().dialect.name, model, tuple(keys))
        await session.execute(stmt, [dict(row) for row in rows])


async def upsert(
    session: AsyncSession,
    model: type[Base],
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str],
    *,
    returning: str | None = None,
) -> Any:
    """Insert, or update ``update`` where a row with the same ``keys`` exists; with
    ``returning``, that column of the row inserted or updated (its id, say)."""
    dialect = session.get_bind().dialect.name
    columns = (returning,) if returning else ()
    stmt = _upsert_statement(dialect, model, tuple(keys), tuple(update), columns)
    result = await session.execute(stmt, dict(values))
    return result.scalar_one() if returning else None


async def upsert_many(
    session: AsyncSession,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    *,
    returning: Sequence[str] = (),
) -> list[Any]:
    """:func:`upsert` for many rows in one statement; with ``returning``, those columns of
    each row inserted or updated (in no particular order: return a key with them). ``rows``
    must not repeat a key (PostgreSQL refuses to update one row twice in a statement)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    stmt = _upsert_statement(dialect, model, tuple(keys), tuple(update), tuple(returning))
    result = await session.execute(stmt, [dict(row) for row in rows])
    return list(result.all()) if returning else []
