"""Seen events: a Slack event redelivered to any replica is dropped (seen_event)

Revision ID: 0005_seen_events
Revises: 0004_faults
Create Date: 2026-11-23 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0005_seen_events'
down_revision = '0004_faults'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'seen_event',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('seen_at', bot.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('seen_event') as batch:
        batch.create_index('ix_seen_event_seen_at', ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seen_event') as batch:
        batch.drop_index('ix_seen_event_seen_at')
    op.drop_table('seen_event')
