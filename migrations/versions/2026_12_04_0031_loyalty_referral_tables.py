"""Loyalty points beyond the ledger, and referral attribution.

* ``points_pending_earns``: a paid order's points until its return window closes (then an
  ``earned`` ledger row); ``points_holds``: points set aside for an unpaid order, or for an
  external storefront's order still to come; ``points_clawback_shortfalls``: what a clawback
  could not take because the points were spent.
* ``points_transactions.type`` gains ``clawed_back`` and ``returned`` (a documented adaptation of
  schema-design.md's four types).
* ``referral_daily_stats``: visits, conversions and revenue per shop, day and UTM triple, which
  retention never decrements; ``referral_orders``: a paid order attributed to a referral visit.

Revision ID: a1c0e2f40031
Revises: f7af5b4d0030
Create Date: 2026-12-04 17:54:35.908417

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c0e2f40031'
down_revision = 'f7af5b4d0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('referral_daily_stats',
    sa.Column('shop_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('utm_source', sa.String(length=100), server_default='', nullable=False),
    sa.Column('utm_medium', sa.String(length=100), server_default='', nullable=False),
    sa.Column('utm_campaign', sa.String(length=100), server_default='', nullable=False),
    sa.Column('visits', sa.Integer(), server_default='0', nullable=False),
    sa.Column('conversions', sa.Integer(), server_default='0', nullable=False),
    sa.Column('orders', sa.Integer(), server_default='0', nullable=False),
    sa.Column('revenue', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_referral_daily_stats_shop_id_vendors')),
    sa.PrimaryKeyConstraint('shop_id', 'day', 'utm_source', 'utm_medium', 'utm_campaign', name=op.f('pk_referral_daily_stats'))
    )
    op.create_table('points_clawback_shortfalls',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('order_created_at', sa.DateTime(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('(order_id IS NULL) = (order_created_at IS NULL)', name=op.f('ck_points_clawback_shortfalls_order_reference_complete')),
    sa.CheckConstraint('points > 0', name=op.f('ck_points_clawback_shortfalls_points_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_clawback_shortfalls_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_points_clawback_shortfalls_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_clawback_shortfalls'))
    )
    with op.batch_alter_table('points_clawback_shortfalls', schema=None) as batch_op:
        batch_op.create_index('idx_shortfalls_customer', ['customer_id'], unique=False)

    op.create_table('points_holds',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('order_created_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("source IN ('order', 'external')", name=op.f('ck_points_holds_source')),
    sa.CheckConstraint('(order_id IS NULL) = (order_created_at IS NULL)', name=op.f('ck_points_holds_order_reference_complete')),
    sa.CheckConstraint('points > 0', name=op.f('ck_points_holds_points_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_holds_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_points_holds_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_holds')),
    sa.UniqueConstraint('order_id', name='unique_hold_order'),
    sa.UniqueConstraint('reference', name='unique_hold_reference')
    )
    with op.batch_alter_table('points_holds', schema=None) as batch_op:
        batch_op.create_index('idx_holds_customer', ['customer_id'], unique=False)
        batch_op.create_index('idx_holds_expires', ['expires_at'], unique=False)

    op.create_table('points_pending_earns',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_created_at', sa.DateTime(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('points > 0', name=op.f('ck_points_pending_earns_points_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_pending_earns_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_points_pending_earns_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_pending_earns')),
    sa.UniqueConstraint('order_id', name='unique_pending_earn_order')
    )
    with op.batch_alter_table('points_pending_earns', schema=None) as batch_op:
        batch_op.create_index('idx_pending_earns_available', ['available_at'], unique=False)
        batch_op.create_index('idx_pending_earns_customer', ['customer_id'], unique=False)

    op.create_table('referral_orders',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_created_at', sa.DateTime(), nullable=False),
    sa.Column('shop_referral_id', sa.Uuid(), nullable=False),
    sa.Column('shop_id', sa.Uuid(), nullable=False),
    sa.Column('counted_value', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('counted_value >= 0', name=op.f('ck_referral_orders_counted_value_not_negative')),
    sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_referral_orders_order_id_orders')),
    sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_referral_orders_shop_id_vendors')),
    sa.ForeignKeyConstraint(['shop_referral_id'], ['shop_referrals.id'], name=op.f('fk_referral_orders_shop_referral_id_shop_referrals')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_referral_orders'))
    )
    with op.batch_alter_table('referral_orders', schema=None) as batch_op:
        batch_op.create_index('idx_referral_orders_referral', ['shop_referral_id'], unique=False)


    _retype_points_transactions("type IN ('earned', 'redeemed', 'expired', 'adjusted', 'clawed_back', 'returned')")


def _retype_points_transactions(check):
    op.drop_constraint(op.f('ck_points_transactions_type'), 'points_transactions', type_='check')
    op.create_check_constraint('type', 'points_transactions', check)


def downgrade():
    op.execute("DELETE FROM points_transactions WHERE type IN ('clawed_back', 'returned')")
    _retype_points_transactions("type IN ('earned', 'redeemed', 'expired', 'adjusted')")
    with op.batch_alter_table('referral_orders', schema=None) as batch_op:
        batch_op.drop_index('idx_referral_orders_referral')

    op.drop_table('referral_orders')
    with op.batch_alter_table('points_pending_earns', schema=None) as batch_op:
        batch_op.drop_index('idx_pending_earns_customer')
        batch_op.drop_index('idx_pending_earns_available')

    op.drop_table('points_pending_earns')
    with op.batch_alter_table('points_holds', schema=None) as batch_op:
        batch_op.drop_index('idx_holds_expires')
        batch_op.drop_index('idx_holds_customer')

    op.drop_table('points_holds')
    with op.batch_alter_table('points_clawback_shortfalls', schema=None) as batch_op:
        batch_op.drop_index('idx_shortfalls_customer')

    op.drop_table('points_clawback_shortfalls')
    op.drop_table('referral_daily_stats')
