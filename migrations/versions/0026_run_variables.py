"""Run variables: enrollments keep the outputs of earlier steps that later steps read

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('enrollments', sa.Column('vars', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('enrollments') as batch_op:  # SQLite drops columns by copying the table
        batch_op.drop_column('vars')
