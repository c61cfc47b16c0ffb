"""The digest's rating trend: a partial index of the rated mentions (0015_rated)

Without it the trend's query visits every mention of the channel's windows in the table to
find the few with a rating (on PostgreSQL the hot digest went from about 41 to 71 ms over a
million mentions, bench/digest.py).

Revision ID: 0015_rated
Revises: 0014_rating
Create Date: 2026-12-06 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015_rated'
down_revision = '0014_rating'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_mention_rated', 'mention',
                    ['brand_id', 'created_at', 'muted', 'network', 'app', 'rating'],
                    sqlite_where=sa.text('rating IS NOT NULL'),
                    postgresql_where=sa.text('rating IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_mention_rated', table_name='mention')
