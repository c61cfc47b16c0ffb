"""Covering indexes for the digest's scans of mention (issue 16): (brand_id, created_at) followed
by every column the digest reads of a window's rows, in place of 0001's (brand_id, created_at);
and (brand_id, status, created_at) followed by the columns the overdue list and the SLA monitor
filter on, in place of 0002's (brand_id, status, created_at). Each serves what the index it
replaces served (same leading columns)

Revision ID: 0007_digest_cover
Revises: 0006_credentials
Create Date: 2026-12-05 22:45:00
"""

from __future__ import annotations

from alembic import op

revision = '0007_digest_cover'
down_revision = '0006_credentials'
branch_labels = None
depends_on = None

WINDOW = ['brand_id', 'created_at', 'muted', 'network', 'status', 'sentiment', 'likes',
          'reposts', 'author_id', 'id']
OPEN = ['brand_id', 'status', 'created_at', 'muted', 'network', 'id']


def upgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.create_index('ix_mention_brand_created_cover', WINDOW, unique=False)
        batch_op.drop_index('ix_mention_brand_created')
        batch_op.create_index('ix_mention_brand_status_created_cover', OPEN, unique=False)
        batch_op.drop_index('ix_mention_brand_status_created')


def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.create_index('ix_mention_brand_created', ['brand_id', 'created_at'],
                              unique=False)
        batch_op.drop_index('ix_mention_brand_created_cover')
        batch_op.create_index('ix_mention_brand_status_created',
                              ['brand_id', 'status', 'created_at'], unique=False)
        batch_op.drop_index('ix_mention_brand_status_created_cover')
