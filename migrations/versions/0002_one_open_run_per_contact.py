"""A contact is in a workflow at most once at a time (test runs aside).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OPEN_RUN = "status IN ('active', 'waiting', 'parked') AND is_test = false"


def upgrade():
    op.create_index(
        'uq_enrollment_open', 'enrollments', ['workflow_id', 'contact_id'], unique=True,
        postgresql_where=sa.text(OPEN_RUN), sqlite_where=sa.text(OPEN_RUN),
    )


def downgrade():
    op.drop_index('uq_enrollment_open', table_name='enrollments')
