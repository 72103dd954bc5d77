"""Reflections: answers given after their round closed are marked late.

A late answer never joins the round's digest (it had gone out already), so the digest can be
redrawn in place when a member deletes or un-shares an answer shown in it, without late
answers appearing in it. Existing answers were all given before their digest went out.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reflection_answers', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('reflection_answers', schema=None) as batch_op:
        batch_op.drop_column('late')
