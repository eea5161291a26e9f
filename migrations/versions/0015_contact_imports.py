"""CSV imports of contacts: the import and its counters, its rejected rows, the contacts it sends on into a
workflow, and the column mappings each account last used per header row.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('file_format', sa.JSON(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('bulk_enrollment_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['bulk_enrollment_id'], ['bulk_enrollments.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_contact_imports_account', 'contact_imports', ['account_id', 'id'], unique=False)
    op.create_index('ix_contact_imports_status', 'contact_imports', ['status', 'updated_at'], unique=False)
    op.create_table('contact_import_rejections',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['contact_imports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'row_number')
    )
    op.create_table('contact_import_contacts',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['contact_imports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'position')
    )
    op.create_table('contact_import_mappings',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('headers_key', sa.String(length=64), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'headers_key')
    )


def downgrade():
    op.drop_table('contact_import_mappings')
    op.drop_table('contact_import_contacts')
    op.drop_table('contact_import_rejections')
    op.drop_index('ix_contact_imports_status', table_name='contact_imports')
    op.drop_index('ix_contact_imports_account', table_name='contact_imports')
    op.drop_table('contact_imports')
