"""run failures: the retry policy of steps that reach outside, kept on what they queue

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# Null everywhere: rows queued before (and steps without a policy) keep the app's default delays.
POLICY = {
    "messages": ("max_attempts", "retry_backoff_seconds"),
    "emails": ("max_attempts", "retry_backoff_seconds"),
    "call_steps": ("max_attempts", "retry_backoff_seconds"),
    "outbound_requests": ("retry_backoff_seconds",),
}


def upgrade():
    for table, columns in POLICY.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(sa.Column(column, sa.Integer(), nullable=True))


def downgrade():
    for table, columns in POLICY.items():
        with op.batch_alter_table(table) as batch:
            for column in reversed(columns):
                batch.drop_column(column)
