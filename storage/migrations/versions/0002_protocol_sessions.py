"""Protocol sessions (state, card, summary) and their contributions.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base
revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('protocol_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('active_team_id', sa.Integer(), nullable=True),
    sa.Column('conversation', storage.base.JSONType, nullable=False),
    sa.Column('protocol_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('definition', storage.base.JSONType, nullable=False),
    sa.Column('state', storage.base.JSONType, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=True),
    sa.Column('card', storage.base.JSONType, nullable=True),
    sa.Column('summary', storage.base.JSONType, nullable=True),
    sa.Column('started_at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('ended_at', storage.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['facilitator_id'], ['members.id'], name=op.f('fk_protocol_sessions_facilitator_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_protocol_sessions_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protocol_sessions')),
    sa.UniqueConstraint('active_team_id', name=op.f('uq_protocol_sessions_active_team_id'))
    )
    with op.batch_alter_table('protocol_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_protocol_sessions_team_started', ['team_id', 'started_at'], unique=False)

    op.create_table('protocol_contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_protocol_contributions_member_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['protocol_sessions.id'], name=op.f('fk_protocol_contributions_session_id_protocol_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protocol_contributions'))
    )
    with op.batch_alter_table('protocol_contributions', schema=None) as batch_op:
        batch_op.create_index('ix_protocol_contributions_session_step', ['session_id', 'step'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('protocol_contributions', schema=None) as batch_op:
        batch_op.drop_index('ix_protocol_contributions_session_step')

    op.drop_table('protocol_contributions')
    with op.batch_alter_table('protocol_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_protocol_sessions_team_started')

    op.drop_table('protocol_sessions')
