"""An enroll request's contacts as rows, numbered from 0, instead of one JSON list on the request.

A batch job now reads its own slice by position instead of parsing the whole list (8 MB at a
million contacts, once per batch), and a request by filter is numbered by the database. Existing
requests' lists are copied over in order (they were already de-duplicated when stored).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CHUNK = 5000  # rows per INSERT while copying

requests = sa.table('bulk_enrollments', sa.column('id', sa.Integer), sa.column('contact_ids', sa.JSON))
contacts = sa.table('bulk_enrollment_contacts', sa.column('bulk_id', sa.Integer), sa.column('position', sa.Integer),
                    sa.column('contact_id', sa.Integer))


def upgrade():
    op.create_table('bulk_enrollment_contacts',
    sa.Column('bulk_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bulk_id'], ['bulk_enrollments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bulk_id', 'position')
    )
    conn = op.get_bind()
    # One request at a time, so only one list is in memory.
    for (bulk_id,) in conn.execute(sa.select(requests.c.id).order_by(requests.c.id)).all():
        ids = conn.execute(sa.select(requests.c.contact_ids).where(requests.c.id == bulk_id)).scalar() or []
        for start in range(0, len(ids), CHUNK):
            conn.execute(contacts.insert(), [{'bulk_id': bulk_id, 'position': start + offset, 'contact_id': cid}
                                             for offset, cid in enumerate(ids[start:start + CHUNK])])
    # ALTER TABLE ... DROP COLUMN in place, SQLite included (3.35+): batch mode's usual copy-and-move
    # would drop bulk_enrollments, and with foreign keys on, SQLite's DROP TABLE deletes its rows
    # first, cascading to every request's batches and the contacts just copied.
    with op.batch_alter_table('bulk_enrollments', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('contact_ids')


def downgrade():
    # NOT NULL with a plain default: added in place on SQLite too (see upgrade), no copy-and-move.
    with op.batch_alter_table('bulk_enrollments', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('contact_ids', sa.JSON(), nullable=False, server_default='[]'))
    conn = op.get_bind()
    for (bulk_id,) in conn.execute(sa.select(requests.c.id).order_by(requests.c.id)).all():
        ids = list(conn.execute(sa.select(contacts.c.contact_id).where(contacts.c.bulk_id == bulk_id)
                                .order_by(contacts.c.position)).scalars())
        conn.execute(requests.update().where(requests.c.id == bulk_id).values(contact_ids=ids))
    if conn.dialect.name != 'sqlite':  # SQLite could only drop the default by copying the table
        op.alter_column('bulk_enrollments', 'contact_ids', server_default=None)
    op.drop_table('bulk_enrollment_contacts')
