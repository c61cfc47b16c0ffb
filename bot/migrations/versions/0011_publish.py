"""Prepared posts and their publications, scheduled publish jobs, the on-call rota, escalation
pings, and the deleted/edited marks of a mention (issue 17, items 3-5)

Revision ID: 0011_publish
Revises: 0012_stories
Create Date: 2026-12-05 23:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0011_publish'
down_revision = '0012_stories'
branch_labels = None
depends_on = None

OPEN = ['brand_id', 'status', 'created_at', 'muted', 'network', 'id']


def upgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', bot.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', bot.models.UTCDateTime(), nullable=True))
        # The open-mentions index covers the deleted mark too (the SLA monitor and the digest's
        # overdue list skip deleted posts without reading the table).
        batch_op.drop_index('ix_mention_brand_status_created_cover')
        batch_op.create_index('ix_mention_brand_status_created_cover', [*OPEN, 'deleted_at'],
                              unique=False)
    op.create_table(
        'prepared_post',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=100), nullable=False),
        sa.Column('outcome', sa.String(length=100), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('updated_at', bot.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('brand_id', 'event', 'outcome', 'network'),
    )
    op.create_table(
        'publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('prepared_id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('by', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('network_post_id', sa.String(length=500), nullable=True),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('sent_at', bot.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.ForeignKeyConstraint(['prepared_id'], ['prepared_post.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_publication_prepared_state', 'publication', ['prepared_id', 'state'],
                    unique=False)
    op.create_table(
        'publish_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=100), nullable=False),
        sa.Column('outcome', sa.String(length=100), nullable=False),
        sa.Column('due_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=200), nullable=True),
        sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('lease_until', bot.models.UTCDateTime(), nullable=True),
        sa.Column('finished_at', bot.models.UTCDateTime(), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_publish_job_state_due', 'publish_job', ['state', 'due_at'],
                    unique=False)
    op.create_table(
        'oncall',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('person', sa.String(length=200), nullable=False),
        sa.Column('hours', sa.String(length=300), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('set_by', sa.String(length=200), nullable=False),
        sa.Column('updated_at', bot.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('brand_id', 'level', 'platform', 'person'),
    )
    op.create_table(
        'escalation_ping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('people', sa.Text(), nullable=False),
        sa.Column('at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.ForeignKeyConstraint(['mention_id'], ['mention.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('mention_id', 'step'),
    )


def downgrade() -> None:
    op.drop_table('escalation_ping')
    op.drop_table('oncall')
    op.drop_index('ix_publish_job_state_due', table_name='publish_job')
    op.drop_table('publish_job')
    op.drop_index('ix_publication_prepared_state', table_name='publication')
    op.drop_table('publication')
    op.drop_table('prepared_post')
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index('ix_mention_brand_status_created_cover')
        batch_op.create_index('ix_mention_brand_status_created_cover', OPEN, unique=False)
        batch_op.drop_column('edited_at')
        batch_op.drop_column('deleted_at')
