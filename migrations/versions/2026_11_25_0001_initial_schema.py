"""Initial schema: the commerce core and every table of the schema design.

Builds on an empty PostgreSQL 15 database with PostGIS 3 available. `orders` and `commission_records`
are range-partitioned by month and `points_transactions` by year on `created_at`; this revision
creates only their DEFAULT partitions, the periods are created by `flask partitions ensure`
(portal/operations/partitions.py). Adaptations to the design are explained in docs/schema.md.

Revision ID: 5c0e1f2a9b01
Revises:
Create Date: 2026-11-25 16:53:36

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '5c0e1f2a9b01'
down_revision = None
branch_labels = None
depends_on = None

# Frozen here rather than imported from the app: a migration must not change when the app does.
PARTITIONED_TABLES = ('orders', 'commission_records', 'points_transactions')


def upgrade():
    # gen_random_uuid() is core since PostgreSQL 13, so pgcrypto is not needed.
    op.execute('CREATE EXTENSION IF NOT EXISTS postgis')

    op.create_table(
        'brands',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('slug', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_brands')),
        sa.UniqueConstraint('name', name=op.f('uq_brands_name')),
        sa.UniqueConstraint('slug', name=op.f('uq_brands_slug')),
    )

    op.create_table(
        'product_categories',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('slug', sa.String(length=255), nullable=False),
        sa.Column('parent_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['parent_id'], ['product_categories.id'], name=op.f('fk_product_categories_parent_id_product_categories')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_categories')),
        sa.UniqueConstraint('slug', name=op.f('uq_product_categories_slug')),
    )

    op.create_table(
        'users',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'vendor', 'driver', 'customer')", name=op.f('ck_users_role')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    )
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True)

    op.create_table(
        'vendors',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('slug', sa.String(length=255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('vendor_type', sa.String(length=20), server_default='shop', nullable=False),
        sa.Column('pickup_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('location', Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column('referral_code', sa.String(length=50), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
        sa.Column('contact_email', sa.String(length=255), nullable=True),
        sa.Column('contact_phone', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'active', 'suspended')", name=op.f('ck_vendors_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendors')),
        sa.UniqueConstraint('referral_code', name=op.f('uq_vendors_referral_code')),
        sa.UniqueConstraint('slug', name=op.f('uq_vendors_slug')),
    )
    op.create_index('idx_vendor_location', 'vendors', ['location'], postgresql_using='gist')

    op.create_table(
        'commission_summaries',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('shop_id', sa.Uuid(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('order_count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_commission_summaries_month_range')),
        sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_commission_summaries_shop_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_commission_summaries')),
        sa.UniqueConstraint('shop_id', 'year', 'month', name='unique_shop_month'),
    )

    op.create_table(
        'connected_accounts',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('stripe_account_id', sa.String(length=255), nullable=False),
        sa.Column('account_type', sa.String(length=20), nullable=False),
        sa.Column('capabilities', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('charges_enabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('payouts_enabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('requirements', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_connected_accounts_vendor_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_connected_accounts')),
        sa.UniqueConstraint('stripe_account_id', name=op.f('uq_connected_accounts_stripe_account_id')),
        sa.UniqueConstraint('vendor_id', name='unique_vendor_account'),
    )

    op.create_table(
        'customers',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('full_name', sa.String(length=255), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('default_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_customers_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
        sa.UniqueConstraint('user_id', name=op.f('uq_customers_user_id')),
    )

    op.create_table(
        'drivers',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('full_name', sa.String(length=255), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=False),
        sa.Column('vehicle_type', sa.String(length=20), nullable=False),
        sa.Column('license_number', sa.String(length=50), nullable=False),
        sa.Column('insurance_verified', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('background_check_status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('current_location', Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='offline', nullable=False),
        sa.Column('total_deliveries', sa.Integer(), server_default='0', nullable=False),
        sa.Column('rating', sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint('rating >= 0 AND rating <= 5', name=op.f('ck_drivers_rating_range')),
        sa.CheckConstraint('total_deliveries >= 0', name=op.f('ck_drivers_total_deliveries_not_negative')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_drivers_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drivers')),
        sa.UniqueConstraint('email', name=op.f('uq_drivers_email')),
        sa.UniqueConstraint('user_id', name='unique_driver_user'),
    )
    op.create_index('idx_driver_location', 'drivers', ['current_location'], postgresql_using='gist')
    op.create_index('idx_driver_status', 'drivers', ['status'], postgresql_where=sa.text("status = 'available'"))

    op.create_table(
        'master_products',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('normalized_name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('category_id', sa.Uuid(), nullable=True),
        sa.Column('brand_id', sa.Uuid(), nullable=True),
        sa.Column('lowest_price', sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column('highest_price', sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column('total_inventory', sa.Integer(), server_default='0', nullable=False),
        sa.Column('vendor_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('slug', sa.String(length=255), nullable=False),
        sa.Column('meta_title', sa.String(length=255), nullable=True),
        sa.Column('meta_description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint('highest_price >= lowest_price', name=op.f('ck_master_products_price_range')),
        sa.CheckConstraint('lowest_price >= 0', name=op.f('ck_master_products_lowest_price_not_negative')),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_master_products_brand_id_brands')),
        sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_master_products_category_id_product_categories')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_master_products')),
        sa.UniqueConstraint('slug', name=op.f('uq_master_products_slug')),
    )
    op.create_index('idx_master_products_brand', 'master_products', ['brand_id'])
    op.create_index('idx_master_products_category', 'master_products', ['category_id'])
    op.create_index('idx_master_products_normalized_name', 'master_products', ['normalized_name'])

    op.create_table(
        'payouts',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('batch_id', sa.Uuid(), nullable=True),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('vendor_type', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('commission_ids', postgresql.ARRAY(sa.Uuid()), nullable=True),
        sa.Column('stripe_transfer_id', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('processed_at', sa.DateTime(), nullable=True),
        sa.Column('failed_at', sa.DateTime(), nullable=True),
        sa.Column('failure_reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint('amount >= 0', name=op.f('ck_payouts_amount_not_negative')),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_payouts_vendor_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    )
    op.create_index('idx_payouts_batch', 'payouts', ['batch_id'])
    op.create_index('idx_payouts_vendor', 'payouts', ['vendor_id'])

    op.create_table(
        'products',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('sku', sa.String(length=255), nullable=True),
        sa.Column('gtin', sa.String(length=14), nullable=True),
        sa.Column('brand_id', sa.Uuid(), nullable=True),
        sa.Column('category_id', sa.Uuid(), nullable=True),
        sa.Column('price', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('inventory', sa.Integer(), server_default='0', nullable=False),
        sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='active', nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_products_status')),
        sa.CheckConstraint('inventory >= 0', name=op.f('ck_products_inventory_not_negative')),
        sa.CheckConstraint('price >= 0', name=op.f('ck_products_price_not_negative')),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_products_brand_id_brands')),
        sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'], name=op.f('fk_products_category_id_product_categories')),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_products_vendor_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
        sa.UniqueConstraint('vendor_id', 'sku', name='unique_vendor_sku'),
    )
    op.create_index('idx_products_gtin', 'products', ['gtin'], postgresql_where=sa.text('gtin IS NOT NULL'))

    op.create_table(
        'shop_tiers',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('shop_id', sa.Uuid(), nullable=False),
        sa.Column('tier', sa.String(length=10), nullable=False),
        sa.Column('commission_rate', sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column('monthly_sales', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('is_promotional', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('promotional_expires_at', sa.DateTime(), nullable=True),
        sa.Column('promotional_reason', sa.String(length=50), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("tier IN ('bronze', 'silver', 'gold')", name=op.f('ck_shop_tiers_tier')),
        sa.CheckConstraint('commission_rate >= 0 AND commission_rate <= 1', name=op.f('ck_shop_tiers_commission_rate_range')),
        sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_shop_tiers_shop_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_tiers')),
        sa.UniqueConstraint('shop_id', name='unique_shop_tier'),
    )

    op.create_table(
        'vendor_members',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('role', sa.String(length=20), server_default='staff', nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'staff')", name=op.f('ck_vendor_members_role')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_vendor_members_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_members_vendor_id_vendors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_members')),
        sa.UniqueConstraint('vendor_id', 'user_id', name='unique_vendor_member'),
    )
    op.create_index('idx_vendor_members_user', 'vendor_members', ['user_id'])

    op.create_table(
        'vendor_monthly_volumes',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('total_sales', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
        sa.Column('total_orders', sa.Integer(), server_default='0', nullable=False),
        sa.Column('fee_tier', sa.String(length=20), nullable=True),
        sa.Column('average_order_value', sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_vendor_monthly_volumes_month_range')),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_monthly_volumes_vendor_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_monthly_volumes')),
        sa.UniqueConstraint('vendor_id', 'year', 'month', name='unique_vendor_month'),
    )
    op.create_index('idx_volume_vendor_date', 'vendor_monthly_volumes', ['vendor_id', sa.literal_column('year DESC'), sa.literal_column('month DESC')])

    op.create_table(
        'archived_orders',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('checkout_id', sa.Uuid(), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('customer_id', sa.Uuid(), nullable=True),
        sa.Column('source', sa.String(length=20), server_default='portal', nullable=False),
        sa.Column('external_id', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('currency', sa.CHAR(length=3), server_default='USD', nullable=False),
        sa.Column('subtotal', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('delivery_fee', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('points_discount', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('total', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('refunded_amount', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('dropoff_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('referral_session', sa.String(length=255), nullable=True),
        sa.Column('paid_at', sa.DateTime(), nullable=True),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('canceled_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('archived_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'paid', 'fulfilled', 'delivered', 'completed', 'canceled', 'refunded', 'partially_refunded')", name=op.f('ck_archived_orders_status')),
        sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= total', name=op.f('ck_archived_orders_refund_within_total')),
        sa.CheckConstraint('subtotal >= 0 AND delivery_fee >= 0 AND points_discount >= 0 AND total >= 0', name=op.f('ck_archived_orders_amounts_not_negative')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_archived_orders_customer_id_customers')),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_archived_orders_vendor_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_archived_orders')),
    )
    op.create_index('idx_archived_orders_vendor_date', 'archived_orders', ['vendor_id', 'created_at'])

    op.create_table(
        'orders',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('checkout_id', sa.Uuid(), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('customer_id', sa.Uuid(), nullable=True),
        sa.Column('source', sa.String(length=20), server_default='portal', nullable=False),
        sa.Column('external_id', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('currency', sa.CHAR(length=3), server_default='USD', nullable=False),
        sa.Column('subtotal', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('delivery_fee', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('points_discount', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('total', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('refunded_amount', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('dropoff_address', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('referral_session', sa.String(length=255), nullable=True),
        sa.Column('paid_at', sa.DateTime(), nullable=True),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('canceled_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'paid', 'fulfilled', 'delivered', 'completed', 'canceled', 'refunded', 'partially_refunded')", name=op.f('ck_orders_status')),
        sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= total', name=op.f('ck_orders_refund_within_total')),
        sa.CheckConstraint('subtotal >= 0 AND delivery_fee >= 0 AND points_discount >= 0 AND total >= 0', name=op.f('ck_orders_amounts_not_negative')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_orders_customer_id_customers')),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_orders_vendor_id_vendors')),
        sa.PrimaryKeyConstraint('id', 'created_at', name=op.f('pk_orders')),
        postgresql_partition_by='RANGE (created_at)',
    )
    op.create_index('idx_orders_checkout', 'orders', ['checkout_id'])
    op.create_index('idx_orders_customer_date', 'orders', ['customer_id', sa.literal_column('created_at DESC')], postgresql_where=sa.text('customer_id IS NOT NULL'))
    op.create_index('idx_orders_vendor_date', 'orders', ['vendor_id', sa.literal_column('created_at DESC')])

    op.create_table(
        'points_balances',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('current_balance', sa.Integer(), server_default='0', nullable=False),
        sa.Column('lifetime_earned', sa.Integer(), server_default='0', nullable=False),
        sa.Column('lifetime_redeemed', sa.Integer(), server_default='0', nullable=False),
        sa.Column('tier', sa.String(length=20), server_default='bronze', nullable=False),
        sa.Column('tier_progress', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_tier_threshold', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("tier IN ('bronze', 'silver', 'gold')", name=op.f('ck_points_balances_tier')),
        sa.CheckConstraint('current_balance >= 0 AND lifetime_earned >= 0 AND lifetime_redeemed >= 0', name=op.f('ck_points_balances_balances_not_negative')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_balances_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_points_balances')),
        sa.UniqueConstraint('customer_id', name='unique_customer_balance'),
    )

    op.create_table(
        'product_obfuscations',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('product_id', sa.Uuid(), nullable=False),
        sa.Column('obfuscated_name', sa.String(length=255), nullable=False),
        sa.Column('obfuscated_description', sa.Text(), nullable=True),
        sa.Column('obfuscated_category', sa.String(length=255), nullable=True),
        sa.Column('obfuscated_brand', sa.String(length=255), nullable=True),
        sa.Column('classification_code', sa.String(length=50), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_obfuscations_product_id_products')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_obfuscations')),
        sa.UniqueConstraint('product_id', name='unique_product_obfuscation'),
    )

    op.create_table(
        'shop_referrals',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('shop_id', sa.Uuid(), nullable=False),
        sa.Column('customer_id', sa.Uuid(), nullable=True),
        sa.Column('session_id', sa.String(length=255), nullable=True),
        sa.Column('referral_code', sa.String(length=50), nullable=True),
        sa.Column('utm_source', sa.String(length=100), nullable=True),
        sa.Column('utm_medium', sa.String(length=100), nullable=True),
        sa.Column('utm_campaign', sa.String(length=100), nullable=True),
        sa.Column('first_visit_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('converted_at', sa.DateTime(), nullable=True),
        sa.Column('lifetime_value', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False),
        sa.Column('total_orders', sa.Integer(), server_default='0', nullable=False),
        sa.CheckConstraint('total_orders >= 0', name=op.f('ck_shop_referrals_total_orders_not_negative')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_shop_referrals_customer_id_customers')),
        sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_shop_referrals_shop_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_referrals')),
    )
    op.create_index('idx_referrals_customer', 'shop_referrals', ['customer_id'])
    op.create_index('idx_referrals_session', 'shop_referrals', ['session_id'])
    op.create_index('idx_referrals_shop', 'shop_referrals', ['shop_id'])

    op.create_table(
        'vendor_product_mappings',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('master_product_id', sa.Uuid(), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('vendor_product_id', sa.Uuid(), nullable=False),
        sa.Column('vendor_sku', sa.String(length=255), nullable=True),
        sa.Column('vendor_price', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('vendor_inventory', sa.Integer(), server_default='0', nullable=False),
        sa.Column('vendor_title', sa.String(length=255), nullable=True),
        sa.Column('match_confidence', sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column('match_method', sa.String(length=20), nullable=True),
        sa.Column('verified', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("match_method IN ('gtin', 'sku', 'exact_name', 'fuzzy', 'embedding', 'manual')", name=op.f('ck_vendor_product_mappings_match_method')),
        sa.CheckConstraint('match_confidence >= 0 AND match_confidence <= 1', name=op.f('ck_vendor_product_mappings_match_confidence_range')),
        sa.CheckConstraint('vendor_price >= 0', name=op.f('ck_vendor_product_mappings_vendor_price_not_negative')),
        sa.ForeignKeyConstraint(['master_product_id'], ['master_products.id'], name=op.f('fk_vendor_product_mappings_master_product_id_master_products')),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_product_mappings_vendor_id_vendors')),
        sa.ForeignKeyConstraint(['vendor_product_id'], ['products.id'], name=op.f('fk_vendor_product_mappings_vendor_product_id_products')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_product_mappings')),
        sa.UniqueConstraint('vendor_id', 'vendor_product_id', name='unique_vendor_product'),
    )
    op.create_index('idx_vendor_mappings_master', 'vendor_product_mappings', ['master_product_id'])
    op.create_index('idx_vendor_mappings_vendor', 'vendor_product_mappings', ['vendor_id'])

    op.create_table(
        'commission_records',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('order_created_at', sa.DateTime(), nullable=False),
        sa.Column('shop_id', sa.Uuid(), nullable=False),
        sa.Column('commission_rate', sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column('order_amount', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('commission_amount', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('payout_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint('commission_rate >= 0 AND commission_rate <= 1', name=op.f('ck_commission_records_commission_rate_range')),
        sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_commission_records_order_id_orders')),
        sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_commission_records_payout_id_payouts')),
        sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_commission_records_shop_id_vendors')),
        sa.PrimaryKeyConstraint('id', 'created_at', name=op.f('pk_commission_records')),
        postgresql_partition_by='RANGE (created_at)',
    )
    op.create_index('idx_commission_order', 'commission_records', ['order_id'])
    op.create_index('idx_commission_payout', 'commission_records', ['payout_id'], postgresql_where=sa.text('payout_id IS NOT NULL'))
    op.create_index('idx_commission_shop_date', 'commission_records', ['shop_id', sa.literal_column('created_at DESC')])
    op.create_index('idx_commission_status', 'commission_records', ['status'], postgresql_where=sa.text("status = 'pending'"))

    op.create_table(
        'delivery_assignments',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('order_created_at', sa.DateTime(), nullable=False),
        sa.Column('driver_id', sa.Uuid(), nullable=True),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('provider_reference_id', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=20), server_default='created', nullable=False),
        sa.Column('pickup_address', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('dropoff_address', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('pickup_completed_at', sa.DateTime(), nullable=True),
        sa.Column('delivery_completed_at', sa.DateTime(), nullable=True),
        sa.Column('total_distance_miles', sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column('driver_pay', sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column('customer_delivery_fee', sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column('route_polyline', sa.Text(), nullable=True),
        sa.Column('tracking_url', sa.Text(), nullable=True),
        sa.Column('proof_of_delivery', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("status IN ('created', 'confirmed', 'enroute_to_pickup', 'arrived_at_pickup', 'picked_up', 'enroute_to_dropoff', 'arrived_at_dropoff', 'delivered', 'cancelled', 'enroute_to_return', 'returned')", name=op.f('ck_delivery_assignments_status')),
        sa.CheckConstraint('total_distance_miles >= 0 AND driver_pay >= 0 AND customer_delivery_fee >= 0', name=op.f('ck_delivery_assignments_amounts_not_negative')),
        sa.ForeignKeyConstraint(['driver_id'], ['drivers.id'], name=op.f('fk_delivery_assignments_driver_id_drivers')),
        sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_delivery_assignments_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_assignments')),
    )
    op.create_index('idx_delivery_driver', 'delivery_assignments', ['driver_id'])
    op.create_index('idx_delivery_order', 'delivery_assignments', ['order_id'])
    op.create_index('idx_delivery_status', 'delivery_assignments', ['status'])

    op.create_table(
        'order_external_refs',
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('external_id', sa.String(length=255), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('order_created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_order_external_refs_order_id_orders'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('source', 'external_id', name=op.f('pk_order_external_refs')),
    )

    op.create_table(
        'order_items',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('order_created_at', sa.DateTime(), nullable=False),
        sa.Column('product_id', sa.Uuid(), nullable=True),
        sa.Column('sku', sa.String(length=255), nullable=True),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('line_total', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_order_items_quantity_positive')),
        sa.CheckConstraint('unit_price >= 0 AND line_total >= 0', name=op.f('ck_order_items_amounts_not_negative')),
        sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_order_items_order_id_orders'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_order_items_product_id_products')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_items')),
    )
    op.create_index('idx_order_items_order', 'order_items', ['order_id', 'order_created_at'])

    op.create_table(
        'points_transactions',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=255), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=True),
        sa.Column('order_created_at', sa.DateTime(), nullable=True),
        sa.Column('balance_before', sa.Integer(), nullable=False),
        sa.Column('balance_after', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint("type IN ('earned', 'redeemed', 'expired', 'adjusted')", name=op.f('ck_points_transactions_type')),
        sa.CheckConstraint('(order_id IS NULL) = (order_created_at IS NULL)', name=op.f('ck_points_transactions_order_reference_complete')),
        sa.CheckConstraint('balance_after >= 0', name=op.f('ck_points_transactions_balance_not_negative')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_transactions_customer_id_customers')),
        sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_points_transactions_order_id_orders')),
        sa.PrimaryKeyConstraint('id', 'created_at', name=op.f('pk_points_transactions')),
        postgresql_partition_by='RANGE (created_at)',
    )
    op.create_index('idx_points_customer', 'points_transactions', ['customer_id', sa.literal_column('created_at DESC')])
    op.create_index('idx_points_order', 'points_transactions', ['order_id'], postgresql_where=sa.text('order_id IS NOT NULL'))

    op.create_table(
        'vendor_platform_fees',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('vendor_id', sa.Uuid(), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('order_created_at', sa.DateTime(), nullable=False),
        sa.Column('vendor_type', sa.String(length=20), nullable=False),
        sa.Column('fee_percentage', sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column('order_amount', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('fee_amount', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('volume_tier', sa.String(length=20), nullable=True),
        sa.Column('is_promotional_rate', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.CheckConstraint('fee_percentage >= 0 AND fee_percentage <= 1', name=op.f('ck_vendor_platform_fees_fee_percentage_range')),
        sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_vendor_platform_fees_order_id_orders')),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_platform_fees_vendor_id_vendors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_platform_fees')),
    )
    op.create_index('idx_platform_fee_order', 'vendor_platform_fees', ['order_id'])
    op.create_index('idx_platform_fee_vendor_date', 'vendor_platform_fees', ['vendor_id', sa.literal_column('created_at DESC')])

    # A row whose period has no partition yet (too early or too late) lands here instead of
    # being rejected.
    for table in PARTITIONED_TABLES:
        op.execute(f'CREATE TABLE {table}_default PARTITION OF {table} DEFAULT')


def downgrade():
    # Dropping a partitioned table drops all its partitions, the managed periods included.
    # The postgis extension stays: it is database-wide and other schemas may use it.
    op.drop_table('vendor_platform_fees')
    op.drop_table('points_transactions')
    op.drop_table('order_items')
    op.drop_table('order_external_refs')
    op.drop_table('delivery_assignments')
    op.drop_table('commission_records')
    op.drop_table('vendor_product_mappings')
    op.drop_table('shop_referrals')
    op.drop_table('product_obfuscations')
    op.drop_table('points_balances')
    op.drop_table('orders')
    op.drop_table('archived_orders')
    op.drop_table('vendor_monthly_volumes')
    op.drop_table('vendor_members')
    op.drop_table('shop_tiers')
    op.drop_table('products')
    op.drop_table('payouts')
    op.drop_table('master_products')
    op.drop_table('drivers')
    op.drop_table('customers')
    op.drop_table('connected_accounts')
    op.drop_table('commission_summaries')
    op.drop_table('vendors')
    op.drop_table('users')
    op.drop_table('product_categories')
    op.drop_table('brands')
