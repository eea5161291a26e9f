"""workflows.deleted_at: a workflow deleted while contacts finish says so, instead of being told
apart by "unpublished, though published before".

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflows') as batch:
        batch.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
    # The workflows already retiring, as they were told apart until now.
    op.execute(
        "UPDATE workflows SET deleted_at = updated_at WHERE published_version_id IS NULL AND EXISTS "
        "(SELECT 1 FROM workflow_versions v WHERE v.workflow_id = workflows.id AND v.published_at IS NOT NULL)"
    )


def downgrade():
    with op.batch_alter_table('workflows') as batch:
        batch.drop_column('deleted_at')
