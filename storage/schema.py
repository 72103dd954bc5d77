"""Every table plcbot owns, gathered in one metadata for Alembic and the schema-drift test.

Each feature's models module is imported here so that ``metadata`` is complete. Slack's
installation tables are built with slack-sdk's own table builders (``adapters/slack/tables.py``)
so that a change in slack-sdk's schema shows up in the drift test.
"""

from adapters.slack import tables as slack_tables
from storage import commitments, models, protocol_sessions, reflection_models
from storage.base import Base

metadata = Base.metadata

__all__ = [
    "commitments",
    "metadata",
    "models",
    "protocol_sessions",
    "reflection_models",
    "slack_tables",
]
