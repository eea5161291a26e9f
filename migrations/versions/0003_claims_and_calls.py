"""Let's Start claims on manual actions, and calls placed from them.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('manual_actions') as batch_op:
        batch_op.add_column(sa.Column('claimed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claim_expires_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_manual_actions_claimed_by', 'users', ['claimed_by_id'], ['id'])
    op.create_table(
        'calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('manual_action_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('to_number', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('provider_sid', sa.String(length=64), nullable=True),
        sa.Column('duration_seconds', sa.Integer(), nullable=True),
        sa.Column('is_test', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id']),
        sa.ForeignKeyConstraint(['manual_action_id'], ['manual_actions.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider_sid'),
    )
    op.create_index('ix_calls_manual_action_id', 'calls', ['manual_action_id'])
    op.create_index('ix_calls_contact_id', 'calls', ['contact_id'])


def downgrade():
    op.drop_index('ix_calls_contact_id', table_name='calls')
    op.drop_index('ix_calls_manual_action_id', table_name='calls')
    op.drop_table('calls')
    with op.batch_alter_table('manual_actions') as batch_op:
        batch_op.drop_constraint('fk_manual_actions_claimed_by', type_='foreignkey')
        batch_op.drop_column('claim_expires_at')
        batch_op.drop_column('claimed_by_id')
