"""Approvals and drafts (issue 17): a brand's approval rule and voice guide (columns on brand),
and the draft table (replies awaiting a second person, AI-suggested replies)

Revision ID: 0010_approvals
Revises: 0007_digest_cover
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0010_approvals'
down_revision = '0007_digest_cover'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('brand', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval', sa.String(length=16), nullable=False,
                                      server_default='none'))
        batch_op.add_column(sa.Column('approval_networks', sa.String(length=500),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('approval_min_priority', sa.String(length=16),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('voice', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('by', sa.String(length=200), nullable=False),
        sa.Column('by_platform', sa.String(length=32), nullable=False),
        sa.Column('by_user', sa.String(length=200), nullable=False),
        sa.Column('edited_by', sa.String(length=200), nullable=True),
        sa.Column('edited_by_user', sa.String(length=240), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('reply_id', sa.Integer(), nullable=True),
        sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('decided_at', bot.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['mention_id'], ['mention.id']),
        sa.ForeignKeyConstraint(['reply_id'], ['reply.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_mention_id'), ['mention_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_mention_id'))
    op.drop_table('draft')
    with op.batch_alter_table('brand', schema=None) as batch_op:
        batch_op.drop_column('voice')
        batch_op.drop_column('approval_min_priority')
        batch_op.drop_column('approval_networks')
        batch_op.drop_column('approval')
