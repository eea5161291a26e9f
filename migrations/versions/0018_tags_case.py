"""Tags ignore case: one spelling per contact, enforced by a unique index on (lower(tag), contact_id).

A contact that has the same tag in two spellings from before ("VIP" and "vip") keeps one of them (the
one that sorts first); no trigger fires, as the contact still has the tag. The index also answers the
tag filter, which now compares lower(tag).

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text(
        "DELETE FROM contact_tags WHERE EXISTS (SELECT 1 FROM contact_tags AS other"
        " WHERE other.contact_id = contact_tags.contact_id AND lower(other.tag) = lower(contact_tags.tag)"
        " AND other.tag < contact_tags.tag)"))
    op.create_index('uq_contact_tags_lower', 'contact_tags', [sa.text('lower(tag)'), 'contact_id'], unique=True)


def downgrade():
    op.drop_index('uq_contact_tags_lower', table_name='contact_tags')
