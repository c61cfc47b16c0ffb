"""Credentials the bot renews itself: X's rotating OAuth 2.0 refresh token (credential)

Revision ID: 0006_credentials
Revises: 0005_seen_events
Create Date: 2026-11-23 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0006_credentials'
down_revision = '0005_seen_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'credential',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('access', sa.Text(), nullable=True),
        sa.Column('expires_at', bot.models.UTCDateTime(), nullable=True),
        sa.Column('origin', sa.String(length=64), nullable=False),
        sa.Column('lease_holder', sa.String(length=100), nullable=True),
        sa.Column('lease_until', bot.models.UTCDateTime(), nullable=True),
        sa.Column('updated_at', bot.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('credential')
