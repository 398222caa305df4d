"""Carts across shops: one per customer (unique), guests' found by id from the session cookie.

Revision ID: c0d1e2f30045
Revises: a7c5e9d10036
Create Date: 2026-12-04 21:42:00.216333

"""
from alembic import op
import sqlalchemy as sa

import portal.clock


# revision identifiers, used by Alembic.
revision = 'c0d1e2f30045'
down_revision = 'a7c5e9d10036'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('carts',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_carts_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carts')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_carts_customer_id'))
    )
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.create_index('idx_carts_guest_updated', ['updated_at'], unique=False, postgresql_where=sa.text('customer_id IS NULL'))

    op.create_table('cart_items',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('cart_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('added_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_cart_items_quantity_positive')),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], name=op.f('fk_cart_items_cart_id_carts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_cart_items_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cart_items')),
    sa.UniqueConstraint('cart_id', 'product_id', name='unique_cart_product')
    )
    with op.batch_alter_table('cart_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_items_product_id'), ['product_id'], unique=False)



def downgrade():
    with op.batch_alter_table('cart_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_items_product_id'))

    op.drop_table('cart_items')
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.drop_index('idx_carts_guest_updated', postgresql_where=sa.text('customer_id IS NULL'))

    op.drop_table('carts')
