"""Every table plcbot owns, gathered in one metadata for Alembic and the schema-drift test.

Each feature's models module is imported here so that ``metadata`` is complete.
"""

from adapters.slack import tables as slack_tables
from storage import models
from storage.base import Base

metadata = Base.metadata

__all__ = ["metadata", "models", "slack_tables"]
