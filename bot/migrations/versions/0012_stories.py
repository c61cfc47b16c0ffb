"""Stories and people across networks (issue 18): story, story_key, mention.story_id; identity, author_key, author.identity_id

Revision ID: 0012_stories
Revises: 0013_quiet
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0012_stories'
down_revision = '0013_quiet'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('manual', sa.Boolean(), nullable=False),
        sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'story',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('last_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_story_brand_id', 'story', ['brand_id'], unique=False)
    with op.batch_alter_table('author', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_author_identity_id', ['identity_id'], unique=False)
        batch_op.create_foreign_key('fk_author_identity_id', 'identity', ['identity_id'], ['id'])
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_mention_story_id', ['story_id'], unique=False)
        batch_op.create_foreign_key('fk_mention_story_id', 'story', ['story_id'], ['id'])
    op.create_table(
        'author_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['author.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('author_id', 'key'),
    )
    op.create_index('ix_author_key_author_id', 'author_key', ['author_id'], unique=False)
    op.create_index('ix_author_key_key', 'author_key', ['key'], unique=False)
    op.create_table(
        'story_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('at', bot.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id']),
        sa.ForeignKeyConstraint(['mention_id'], ['mention.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_story_key_brand_key_at', 'story_key', ['brand_id', 'key', 'at'],
                    unique=False)
    op.create_index('ix_story_key_mention_id', 'story_key', ['mention_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_story_key_mention_id', table_name='story_key')
    op.drop_index('ix_story_key_brand_key_at', table_name='story_key')
    op.drop_table('story_key')
    op.drop_index('ix_author_key_key', table_name='author_key')
    op.drop_index('ix_author_key_author_id', table_name='author_key')
    op.drop_table('author_key')
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_constraint('fk_mention_story_id', type_='foreignkey')
        batch_op.drop_index('ix_mention_story_id')
        batch_op.drop_column('story_id')
    with op.batch_alter_table('author', schema=None) as batch_op:
        batch_op.drop_constraint('fk_author_identity_id', type_='foreignkey')
        batch_op.drop_index('ix_author_identity_id')
        batch_op.drop_column('identity_id')
    op.drop_index('ix_story_brand_id', table_name='story')
    op.drop_table('story')
    op.drop_table('identity')
