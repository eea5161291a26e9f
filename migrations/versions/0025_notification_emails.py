"""Internal notifications can be emailed to their users: an email in the outbox may be addressed to a user
(`emails.user_id`), in which case it is a notification's copy, not part of the contact's conversation.

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('emails') as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_emails_user_id_users', 'users', ['user_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('emails') as batch_op:
        batch_op.drop_constraint('fk_emails_user_id_users', type_='foreignkey')
        batch_op.drop_column('user_id')
