"""Learning from the team (issue 15): labelled examples (feedback), each brand's learnt
correction of relevance and needs-reply (team_model), who corrected a mention's sentiment
(mention.sentiment_by)

Revision ID: 0009_feedback
Revises: 0008_triage
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0009_feedback'
down_revision = '0008_triage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('explicit', sa.Boolean(), nullable=False),
        sa.Column('base', sa.Float(), nullable=True),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('at', bot.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.ForeignKeyConstraint(['mention_id'], ['mention.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('mention_id', 'target'),
    )
    with op.batch_alter_table('feedback') as batch:
        batch.create_index('ix_feedback_brand_target_at', ['brand_id', 'target', 'at'],
                           unique=False)
    op.create_table(
        'team_model',
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('examples', sa.Integer(), nullable=False),
        sa.Column('weights', sa.LargeBinary(), nullable=False),
        sa.Column('updated_at', bot.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.PrimaryKeyConstraint('brand_id', 'target'),
    )
    with op.batch_alter_table('mention') as batch:
        batch.add_column(sa.Column('sentiment_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.drop_column('sentiment_by')
    op.drop_table('team_model')
    with op.batch_alter_table('feedback') as batch:
        batch.drop_index('ix_feedback_brand_target_at')
    op.drop_table('feedback')
