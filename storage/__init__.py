"""Persistence: SQLAlchemy 2 async models, one repository per aggregate, Alembic migrations."""

from storage.db import Database, DatabaseUnavailable

__all__ = ["Database", "DatabaseUnavailable"]
