"""The tables of slack-sdk's SQLAlchemy installation and OAuth state stores, in plcbot's schema.

slack-sdk can create these itself (``create_tables``), but plcbot's schema is only ever changed
by migrations (``0005``). Building them with slack-sdk's own table builders keeps the two in
step: if a future slack-sdk adds a column, the schema-drift test fails and asks for a new
migration instead of the store failing at run time.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from storage.base import Base

INSTALLATIONS = "slack_installations"
BOTS = "slack_bots"
OAUTH_STATES = "slack_oauth_states"

installations = SQLAlchemyInstallationStore.build_installations_table(Base.metadata, INSTALLATIONS)
bots = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS)
oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, OAUTH_STATES)
