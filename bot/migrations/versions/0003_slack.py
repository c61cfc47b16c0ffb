"""Slack: OAuth installations and install states; thread replies find their card by message_ref

Revision ID: 0003_slack
Revises: 0002_digest
Create Date: 2026-11-23 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models


revision = '0003_slack'
down_revision = '0002_digest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tables of integrations/chat/slack/install.py (slack_sdk's AsyncInstallationStore and
    # AsyncOAuthStateStore on our schema).
    op.create_table('slack_installation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('workspace', sa.String(length=100), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=True),
    sa.Column('enterprise_id', sa.String(length=64), nullable=True),
    sa.Column('enterprise_name', sa.String(length=200), nullable=True),
    sa.Column('team_id', sa.String(length=64), nullable=True),
    sa.Column('team_name', sa.String(length=200), nullable=True),
    sa.Column('bot_token', sa.Text(), nullable=False),
    sa.Column('bot_id', sa.String(length=64), nullable=False),
    sa.Column('bot_user_id', sa.String(length=64), nullable=False),
    sa.Column('bot_scopes', sa.Text(), nullable=False),
    sa.Column('bot_refresh_token', sa.Text(), nullable=True),
    sa.Column('bot_token_expires_at', sa.BigInteger(), nullable=True),
    sa.Column('is_enterprise_install', sa.Boolean(), nullable=False),
    sa.Column('installer_user_id', sa.String(length=64), nullable=True),
    sa.Column('installed_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'workspace', name='uq_slack_installation_workspace')
    )
    op.create_table('slack_oauth_state',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('expire_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('state')
    )
    # A message in a card's thread finds its mention through (platform, message_ref).
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_platform_ref', ['platform', 'message_ref'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_platform_ref')
    op.drop_table('slack_oauth_state')
    op.drop_table('slack_installation')
