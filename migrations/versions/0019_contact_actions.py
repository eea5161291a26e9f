"""Contact actions: email do-not-disturb, the engagement score, and finding a contact by email.

Existing contacts get dnd_email off and a score of 0. The index on (account_id, lower(email)) answers
Find Contact and Create Contact's lookup by email, which ignores case.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: on SQLite a batch would copy and drop `contacts`, which other
# tables reference. SQLite adds and (since 3.35) drops columns in place.
def upgrade():
    op.add_column('contacts', sa.Column('dnd_email', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('contacts', sa.Column('engagement_score', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_contacts_account_email_lower', 'contacts', ['account_id', sa.text('lower(email)')])


def downgrade():
    op.drop_index('ix_contacts_account_email_lower', table_name='contacts')
    op.drop_column('contacts', 'engagement_score')
    op.drop_column('contacts', 'dnd_email')
