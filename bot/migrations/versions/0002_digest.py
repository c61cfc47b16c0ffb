"""digest, SLA clocks, spike alerts, channel settings, brand follower counts

Revision ID: 0002_digest
Revises: 0001
Create Date: 2026-11-23 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models


revision = '0002_digest'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_setting',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('digest_hour', sa.Integer(), nullable=True),
    sa.Column('business_hours', sa.String(length=300), nullable=True),
    sa.Column('digest_enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'channel')
    )
    op.create_table('digest_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('posted_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_ref', sa.String(length=300), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'channel', 'day')
    )
    op.create_table('sla_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('brand_id', 'network')
    )
    op.create_table('spike_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('window_start', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('negative_share', sa.Float(), nullable=False),
    sa.Column('negative_threshold', sa.Float(), nullable=False),
    sa.Column('detected_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('message_ref', sa.String(length=300), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('brand_id', 'platform', 'channel', 'window_end')
    )
    with op.batch_alter_table('spike_alert', schema=None) as batch_op:
        batch_op.create_index('ix_spike_alert_brand_detected', ['brand_id', 'detected_at'],
                              unique=False)

    op.create_table('brand_account_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('handle', sa.String(length=300), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=False),
    sa.Column('recorded_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('brand_id', 'network', 'handle', 'day')
    )
    # What the digest queries, the SLA clocks and the flood gate read (see docs/digest.md).
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.create_index('ix_reply_sent_at', ['sent_at', 'state', 'mention_id', 'by'],
                              unique=False)
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_brand_kind_at',
                              ['brand_id', 'kind', 'at', 'mention_id', 'actor'], unique=False)
        batch_op.create_index('ix_event_mention_kind_at', ['mention_id', 'kind', 'at'],
                              unique=False)
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.create_index('ix_mention_brand_seen', ['brand_id', 'seen_at'], unique=False)
        batch_op.create_index('ix_mention_brand_status_created',
                              ['brand_id', 'status', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index('ix_mention_brand_status_created')
        batch_op.drop_index('ix_mention_brand_seen')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_mention_kind_at')
        batch_op.drop_index('ix_event_brand_kind_at')
    with op.batch_alter_table('reply', schema=None) as batch_op:
        batch_op.drop_index('ix_reply_sent_at')
    op.drop_table('brand_account_followers')
    with op.batch_alter_table('spike_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_spike_alert_brand_detected')
    op.drop_table('spike_alert')
    op.drop_table('sla_target')
    op.drop_table('digest_run')
    op.drop_table('channel_setting')
