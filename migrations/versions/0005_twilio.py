"""Twilio: per-account settings, inbound events, delivery statuses and retries, call statuses.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'twilio_settings',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('account_sid', sa.String(length=34), nullable=False),
        sa.Column('auth_token_encrypted', sa.Text(), nullable=False),
        sa.Column('from_number', sa.String(length=20), nullable=True),
        sa.Column('messaging_service_sid', sa.String(length=34), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('account_id'),
    )
    op.create_index('ix_twilio_settings_account_sid', 'twilio_settings', ['account_sid'])

    with op.batch_alter_table('messages') as batch_op:
        batch_op.add_column(sa.Column('from_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('error_code', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('status_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('retry_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('calls') as batch_op:
        batch_op.add_column(sa.Column('status_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))

    op.create_table(
        'inbound_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('provider_sid', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('processed_at', sa.DateTime(), nullable=True),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider_sid'),
    )
    op.create_index('ix_inbound_events_pending', 'inbound_events', ['processed_at', 'received_at'])


def downgrade():
    op.drop_index('ix_inbound_events_pending', table_name='inbound_events')
    op.drop_table('inbound_events')
    with op.batch_alter_table('calls') as batch_op:
        batch_op.drop_column('error')
        batch_op.drop_column('status_at')
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_column('retry_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('status_at')
        batch_op.drop_column('error_code')
        batch_op.drop_column('from_number')
    op.drop_index('ix_twilio_settings_account_sid', table_name='twilio_settings')
    op.drop_table('twilio_settings')
