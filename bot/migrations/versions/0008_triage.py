"""Triage signals (issue 15): each mention's needs-reply and relevance scores (0..1; NULL for
mentions stored before), and each route's minimum relevance (below it a mention is stored but
not carded: "hidden as noise").

Revision ID: 0008_triage
Revises: 0011_publish
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_triage'
down_revision = '0011_publish'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_reply', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('relevance', sa.Float(), nullable=True))
    with op.batch_alter_table('route', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_relevance', sa.Float(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('route', schema=None) as batch_op:
        batch_op.drop_column('min_relevance')
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_column('relevance')
        batch_op.drop_column('needs_reply')
