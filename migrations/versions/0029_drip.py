"""drip: the Drip step's place counters, shared by every worker

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('drip_counters',
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('arrivals', sa.Integer(), nullable=False),
    sa.Column('batch_at', sa.DateTime(), nullable=True),
    sa.Column('in_batch', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workflow_id', 'is_test', 'step_id')
    )


def downgrade():
    op.drop_table('drip_counters')
