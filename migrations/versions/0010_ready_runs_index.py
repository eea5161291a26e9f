"""A partial index over the runs that are runnable now, for the batched "advance ready runs" pass.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

READY = sa.text("status = 'active'")


def upgrade():
    op.create_index('ix_enrollments_ready', 'enrollments', ['id'], postgresql_where=READY, sqlite_where=READY)


def downgrade():
    op.drop_index('ix_enrollments_ready', table_name='enrollments')
