"""Indexes for the account-wide manual actions list and its counts.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_manual_actions_status_created', 'manual_actions', ['account_id', 'status', 'created_at'])
    op.create_index('ix_manual_actions_status_type', 'manual_actions',
                    ['account_id', 'status', 'type', 'created_at'])


def downgrade():
    op.drop_index('ix_manual_actions_status_type', table_name='manual_actions')
    op.drop_index('ix_manual_actions_status_created', table_name='manual_actions')
