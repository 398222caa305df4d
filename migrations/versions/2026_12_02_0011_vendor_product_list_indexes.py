"""Indexes for a vendor's product list: its default order, its count and its filter choices.

A shop with thousands of products read every one of them four times per page of 25 (the count,
the sort, the brands and the categories offered as filters). The list's default order now reads a
page from ``idx_products_vendor_updated``; the count and the filter choices are index-only scans.

Revision ID: cbf643b2000b
Revises: cae532a1000a
Create Date: 2026-12-02 06:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'cbf643b2000b'
down_revision = 'cae532a1000a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'idx_products_vendor_updated',
        'products',
        ['vendor_id', 'status', sa.text('updated_at DESC'), 'id'],
    )
    op.create_index('idx_products_vendor_brand', 'products', ['vendor_id', 'brand_id'])
    op.create_index('idx_products_vendor_category', 'products', ['vendor_id', 'category_id'])


def downgrade():
    op.drop_index('idx_products_vendor_category', table_name='products')
    op.drop_index('idx_products_vendor_brand', table_name='products')
    op.drop_index('idx_products_vendor_updated', table_name='products')
