"""Automated calls: the Call step's side of a call (call_steps); calls placed by a workflow have no agent.

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calls') as batch:
        batch.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
    op.create_table(
        'call_steps',
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('enrollment_id', sa.Integer(), nullable=False),
        sa.Column('workflow_id', sa.Integer(), nullable=True),
        sa.Column('step_id', sa.String(length=64), nullable=False),
        sa.Column('idempotency_key', sa.String(length=80), nullable=False),
        sa.Column('bridge_number', sa.String(length=20), nullable=False),
        sa.Column('whisper_name', sa.String(length=200), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('answered_by', sa.String(length=30), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('retry_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('check_requested_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('call_id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    op.create_index('ix_call_steps_enrollment_id', 'call_steps', ['enrollment_id'])
    op.create_index('ix_call_steps_open', 'call_steps', ['outcome', 'created_at'])


def downgrade():
    op.drop_index('ix_call_steps_open', table_name='call_steps')
    op.drop_index('ix_call_steps_enrollment_id', table_name='call_steps')
    op.drop_table('call_steps')
    with op.batch_alter_table('calls') as batch:
        batch.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
