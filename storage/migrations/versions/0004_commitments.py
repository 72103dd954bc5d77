"""Commitments: commitments, their peers and history, per-team numbers, proposed drafts.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('commitment_counters',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_commitment_counters_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_commitment_counters'))
    )
    op.create_table('commitments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('how_know', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('indicators', storage.base.JSONType, nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('evidence_url', sa.String(length=500), nullable=True),
    sa.Column('reported_at', storage.base.UTCDateTime(), nullable=True),
    sa.Column('outcome_shared_at', storage.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_commitments_owner_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_commitments_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitments')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_commitments_team_id_number'))
    )
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.create_index('ix_commitments_owner_status', ['owner_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitments_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_commitments_team_due', ['team_id', 'due_on'], unique=False)

    op.create_table('commitment_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('indicators', storage.base.JSONType, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('decided_at', storage.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_commitment_drafts_commitment_id_commitments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_commitment_drafts_owner_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_commitment_drafts_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_drafts'))
    )
    with op.batch_alter_table('commitment_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_drafts_owner_id'), ['owner_id'], unique=False)

    op.create_table('commitment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', storage.base.JSONType, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['members.id'], name=op.f('fk_commitment_events_actor_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_commitment_events_commitment_id_commitments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_events'))
    )
    with op.batch_alter_table('commitment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_events_commitment_id'), ['commitment_id'], unique=False)

    op.create_table('commitment_peers',
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', storage.base.UTCDateTime(), nullable=True),
    sa.Column('replied_at', storage.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_commitment_peers_commitment_id_commitments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_commitment_peers_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('commitment_id', 'member_id', name=op.f('pk_commitment_peers'))
    )
    with op.batch_alter_table('commitment_peers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_peers_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('commitment_peers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_peers_member_id'))

    op.drop_table('commitment_peers')
    with op.batch_alter_table('commitment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_events_commitment_id'))

    op.drop_table('commitment_events')
    with op.batch_alter_table('commitment_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_drafts_owner_id'))

    op.drop_table('commitment_drafts')
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_index('ix_commitments_team_due')
        batch_op.drop_index(batch_op.f('ix_commitments_session_id'))
        batch_op.drop_index('ix_commitments_owner_status')

    op.drop_table('commitments')
    op.drop_table('commitment_counters')
