"""App-store reviews: the stars given and the app reviewed, on the mention (0014_rating)

Revision ID: 0014_rating
Revises: 0009_feedback
Create Date: 2026-12-06 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_rating'
down_revision = '0009_feedback'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('app', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_column('app')
        batch_op.drop_column('rating')
