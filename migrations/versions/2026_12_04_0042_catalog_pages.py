"""The vendor's list of their own remap requests, newest first, reads one index.

Revision ID: f7a8b9c00042
Revises: b2c3d4e50038
Create Date: 2026-12-04 22:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'f7a8b9c00042'
down_revision = 'b2c3d4e50038'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('remap_requests', schema=None) as batch_op:
        batch_op.create_index(
            'idx_remap_requests_vendor',
            ['vendor_id', sa.text('created_at DESC'), 'id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('remap_requests', schema=None) as batch_op:
        batch_op.drop_index('idx_remap_requests_vendor')
