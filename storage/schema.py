"""Every table plcbot owns, gathered in one metadata for Alembic and the schema-drift test.

Each feature's models module is imported here so that ``metadata`` is complete.
"""

from storage import commitments, models, protocol_sessions, reflection_models
from storage.base import Base

metadata = Base.metadata

__all__ = ["commitments", "metadata", "models", "protocol_sessions", "reflection_models"]
