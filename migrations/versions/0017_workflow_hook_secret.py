"""Each workflow's own inbound-webhook secret, rotated alone, and a sample-request capture.

Every existing workflow gets a fresh random secret. Its hook_rotated_at stays NULL, which tells the
hook to accept the URL from before too (the HMAC of the id under SECRET_KEY), so integrations set
up before keep working until the workflow's URL is first rotated.

Revision ID: 0017
Revises: 0016
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

CHUNK = 1000  # rows per UPDATE batch while backfilling

workflows = sa.table('workflows', sa.column('id', sa.Integer), sa.column('hook_secret', sa.String))


# Plain ALTER TABLE, not batch mode: on SQLite a batch would copy and drop `workflows`, which other
# tables reference (foreign keys are on). SQLite adds and (since 3.35) drops columns in place.
def upgrade():
    # NOT NULL needs a default to be added in place; every row then gets its own random value.
    op.add_column('workflows', sa.Column('hook_secret', sa.String(length=64), server_default='', nullable=False))
    op.add_column('workflows', sa.Column('hook_rotated_at', sa.DateTime(), nullable=True))
    op.add_column('workflows', sa.Column('hook_listen_until', sa.DateTime(), nullable=True))
    op.add_column('workflows', sa.Column('hook_sample', sa.JSON(), nullable=True))
    op.add_column('workflows', sa.Column('hook_sample_at', sa.DateTime(), nullable=True))
    conn = op.get_bind()
    ids = list(conn.execute(sa.select(workflows.c.id).order_by(workflows.c.id)).scalars())
    update = workflows.update().where(workflows.c.id == sa.bindparam('wid')).values(hook_secret=sa.bindparam('secret'))
    for start in range(0, len(ids), CHUNK):
        conn.execute(update, [{'wid': wid, 'secret': secrets.token_hex(16)} for wid in ids[start:start + CHUNK]])
    if conn.dialect.name != 'sqlite':  # SQLite could only drop the default by copying the table
        op.alter_column('workflows', 'hook_secret', server_default=None)


def downgrade():
    for name in ('hook_sample_at', 'hook_sample', 'hook_listen_until', 'hook_rotated_at', 'hook_secret'):
        op.drop_column('workflows', name)
