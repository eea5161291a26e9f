"""In-app notifications for users (the Send Internal Notification action): one row per recipient,
unique per step run and user, with an index for each user's unread ones, and the state of the
copy texted to the user's own phone.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

UNREAD = sa.text('read_at IS NULL')


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('workflow_id', sa.Integer(), nullable=True),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=True),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('sms_to', sa.String(length=20), nullable=True),
    sa.Column('sms_status', sa.String(length=20), nullable=True),
    sa.Column('sms_error', sa.Text(), nullable=True),
    sa.Column('sms_sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key', 'user_id', name='uq_notifications_key_user')
    )
    op.create_index('ix_notifications_account_id', 'notifications', ['account_id'], unique=False)
    op.create_index('ix_notifications_user', 'notifications', ['user_id', 'id'], unique=False)
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id', 'id'], unique=False,
                    postgresql_where=UNREAD, sqlite_where=UNREAD)


def downgrade():
    op.drop_index('ix_notifications_user_unread', table_name='notifications')
    op.drop_index('ix_notifications_user', table_name='notifications')
    op.drop_index('ix_notifications_account_id', table_name='notifications')
    op.drop_table('notifications')
