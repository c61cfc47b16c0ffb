"""Quiet hours per route, held cards and catch-up notices; pinned queue status (0013_quiet)

Revision ID: 0013_quiet
Revises: 0010_approvals
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0013_quiet'
down_revision = '0010_approvals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('route') as batch:
        batch.add_column(sa.Column('quiet_hours', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('quiet_timezone', sa.String(length=64), nullable=True))
    op.create_table(
        'catch_up',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('lines', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('next_attempt_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('sent_at', bot.models.UTCDateTime(), nullable=True),
        sa.Column('message_ref', sa.String(length=300), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('catch_up') as batch:
        batch.create_index('ix_catch_up_due', ['state', 'next_attempt_at'], unique=False)
    op.create_table(
        'status_board',
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('message_ref', sa.String(length=300), nullable=True),
        sa.Column('pinned', sa.Boolean(), nullable=False),
        sa.Column('marker', sa.Integer(), nullable=False),
        sa.Column('requested_by', sa.String(length=200), nullable=False),
        sa.Column('updated_at', bot.models.UTCDateTime(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('platform', 'channel'),
    )
    with op.batch_alter_table('delivery') as batch:
        batch.add_column(sa.Column('catch_up_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_delivery_catch_up_id', 'catch_up', ['catch_up_id'], ['id'])
        batch.create_index('ix_delivery_catch_up_id', ['catch_up_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery') as batch:
        batch.drop_index('ix_delivery_catch_up_id')
        batch.drop_constraint('fk_delivery_catch_up_id', type_='foreignkey')
        batch.drop_column('catch_up_id')
    op.drop_table('status_board')
    with op.batch_alter_table('catch_up') as batch:
        batch.drop_index('ix_catch_up_due')
    op.drop_table('catch_up')
    with op.batch_alter_table('route') as batch:
        batch.drop_column('quiet_timezone')
        batch.drop_column('quiet_hours')
