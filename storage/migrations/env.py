"""Alembic environment.

plcbot runs migrations itself (at start-up and with ``plcbot db upgrade``) by handing Alembic a
connection in ``config.attributes["connection"]``. Run from the ``alembic`` command line (to write
a new revision), it opens its own engine from ``DATABASE_URL``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_standalone() -> None:
    from bot.settings import load_settings
    from storage.db import Database

    async def main() -> None:
        db = Database(load_settings().database_url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(_run)
        finally:
            await db.close()

    asyncio.run(main())


if context.is_offline_mode():
    raise SystemExit("plcbot migrations run online only: use `plcbot db upgrade`")

connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_standalone()
