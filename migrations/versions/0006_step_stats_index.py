"""An index that answers the builder's step stats (distinct runs per step) on its own.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_execution_logs_step_stats', 'execution_logs',
                    ['workflow_id', 'is_test', 'outcome', 'step_id', 'enrollment_id'])


def downgrade():
    op.drop_index('ix_execution_logs_step_stats', table_name='execution_logs')
