"""Reflections: schedules, rounds, deliveries, answers, team prompts, school years, quiet days.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quiet_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_quiet_days_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiet_days'))
    )
    with op.batch_alter_table('quiet_days', schema=None) as batch_op:
        batch_op.create_index('ix_quiet_days_team_range', ['team_id', 'first_day', 'last_day'], unique=False)

    op.create_table('reflection_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('round_key', sa.String(length=64), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('indicator', sa.String(length=4), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('opens_at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('closes_at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('digest_ref', storage.base.JSONType, nullable=True),
    sa.Column('created_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_reflection_rounds_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reflection_rounds')),
    sa.UniqueConstraint('team_id', 'round_key', name=op.f('uq_reflection_rounds_team_id_round_key'))
    )
    op.create_table('school_years',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('calendar_url', sa.String(length=1000), nullable=True),
    sa.Column('fetched_at', storage.base.UTCDateTime(), nullable=True),
    sa.Column('fetch_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_school_years_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_school_years'))
    )
    op.create_table('reflection_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=4), nullable=False),
    sa.Column('prompt_id', sa.String(length=32), nullable=False),
    sa.Column('prompt_text', sa.Text(), nullable=False),
    sa.Column('due_at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('sent_at', storage.base.UTCDateTime(), nullable=True),
    sa.Column('sent_ref', storage.base.JSONType, nullable=True),
    sa.Column('reminded_at', storage.base.UTCDateTime(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_reflection_deliveries_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['reflection_rounds.id'], name=op.f('fk_reflection_deliveries_round_id_reflection_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_reflection_deliveries_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reflection_deliveries')),
    sa.UniqueConstraint('round_id', 'member_id', name=op.f('uq_reflection_deliveries_round_id_member_id'))
    )
    with op.batch_alter_table('reflection_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_reflection_deliveries_member', ['member_id', 'id'], unique=False)

    op.create_table('reflection_prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=4), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['members.id'], name=op.f('fk_reflection_prompts_created_by_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_reflection_prompts_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reflection_prompts'))
    )
    with op.batch_alter_table('reflection_prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reflection_prompts_team_id'), ['team_id'], unique=False)

    op.create_table('reflection_schedules',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('at_time', sa.String(length=5), nullable=False),
    sa.Column('indicators', storage.base.JSONType, nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('skip_dates', storage.base.JSONType, nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_reflection_schedules_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['members.id'], name=op.f('fk_reflection_schedules_updated_by_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_reflection_schedules'))
    )
    op.create_table('reflection_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=4), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('share', sa.String(length=8), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', storage.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['reflection_deliveries.id'], name=op.f('fk_reflection_answers_delivery_id_reflection_deliveries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_reflection_answers_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['reflection_rounds.id'], name=op.f('fk_reflection_answers_round_id_reflection_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_reflection_answers_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reflection_answers')),
    sa.UniqueConstraint('delivery_id', name=op.f('uq_reflection_answers_delivery_id'))
    )
    with op.batch_alter_table('reflection_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reflection_answers_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reflection_answers_round_id'), ['round_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reflection_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reflection_answers_round_id'))
        batch_op.drop_index(batch_op.f('ix_reflection_answers_member_id'))

    op.drop_table('reflection_answers')
    op.drop_table('reflection_schedules')
    with op.batch_alter_table('reflection_prompts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reflection_prompts_team_id'))

    op.drop_table('reflection_prompts')
    with op.batch_alter_table('reflection_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_reflection_deliveries_member')

    op.drop_table('reflection_deliveries')
    op.drop_table('school_years')
    op.drop_table('reflection_rounds')
    with op.batch_alter_table('quiet_days', schema=None) as batch_op:
        batch_op.drop_index('ix_quiet_days_team_range')

    op.drop_table('quiet_days')
