"""Step counters: the builder's "passed" counts kept by the engine instead of counted from the log.

Backfilled from the execution log as it stands (run it with the workers stopped: a step run logged
by the old code after the backfill would not be counted). The covering index the old count used
goes: nothing reads the log that way any more, and every step run paid for it.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# builder.domain.step_counts.PASSED_OUTCOMES as of this revision.
PASSED = "('ok', 'skipped', 'ended')"


def upgrade():
    op.create_table('step_counts',
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workflow_id', 'is_test', 'step_id')
    )
    # Before the index goes: the count reads it alone.
    op.execute(
        "INSERT INTO step_counts (workflow_id, is_test, step_id, passed) "
        "SELECT workflow_id, is_test, step_id, COUNT(DISTINCT enrollment_id) FROM execution_logs "
        f"WHERE outcome IN {PASSED} GROUP BY workflow_id, is_test, step_id"
    )
    op.drop_index('ix_execution_logs_step_stats', table_name='execution_logs')


def downgrade():
    op.create_index('ix_execution_logs_step_stats', 'execution_logs',
                    ['workflow_id', 'is_test', 'outcome', 'step_id', 'enrollment_id'])
    op.drop_table('step_counts')
