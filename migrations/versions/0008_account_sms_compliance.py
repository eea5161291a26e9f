"""Account SMS compliance settings: opt-out / opt-in keywords and quiet hours.

Null keyword lists mean Twilio's defaults; existing accounts get quiet hours on, 08:00-21:00.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: on SQLite a batch would copy and drop `accounts`, which every
# other table references (foreign keys are on). SQLite adds and (since 3.35) drops columns in place.
def upgrade():
    op.add_column('accounts', sa.Column('opt_out_keywords', sa.JSON(), nullable=True))
    op.add_column('accounts', sa.Column('opt_in_keywords', sa.JSON(), nullable=True))
    op.add_column('accounts', sa.Column('quiet_hours_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('accounts', sa.Column('quiet_hours_start', sa.String(length=5), server_default='08:00',
                                        nullable=False))
    op.add_column('accounts', sa.Column('quiet_hours_end', sa.String(length=5), server_default='21:00',
                                        nullable=False))


def downgrade():
    for name in ('quiet_hours_end', 'quiet_hours_start', 'quiet_hours_enabled', 'opt_in_keywords',
                 'opt_out_keywords'):
        op.drop_column('accounts', name)
