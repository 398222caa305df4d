"""Refunds that name lines or the delivery fee, the commission's stored basis, order holds.

* ``order_items.refunded_quantity``: how many of a line refunds have named so far. Refunds before
  this migration named nothing; a line of an order refunded in full counts as refunded in full.
* ``order_refunds.delivery_amount`` (the part of the refund that returned the delivery fee) and
  ``order_refunds.items`` (the lines it named). Earlier refunds were spread pro rata over
  merchandise and delivery, so their delivery part is backfilled as
  round(amount x delivery_fee / total).
* ``commission_records.commission_basis`` and ``commission_tier``, backfilled as well as the
  rows allow (they kept only the rate): a referred order at the referral rate is ``referral``;
  else the tier the shop's tier history (``tier_changes``) had at the sale, when its rate is the
  sale's (``promotional_tier`` when that change was a promotion); else the shop's current tier
  when its rate matches; else the configured tier with that rate; else ``tier`` with no tier
  (a rate no rule gives any more). A reversal row copies its sale's.
* ``idx_orders_awaiting_completion``: the few paid orders not completed nor canceled, for the
  admin's list of orders waiting on automatic completion.
* ``order_holds``: an admin keeps a paid order from counting as completed after
  ``ORDER_AUTO_COMPLETE_DAYS``; one row per hold, kept after release (the audit).

Revision ID: c6a10e7d0006
Revises: 5e7b3c2d9a05
Create Date: 2026-12-02 06:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.config import Config

# revision identifiers, used by Alembic.
revision = 'c6a10e7d0006'
down_revision = '5e7b3c2d9a05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_quantity', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            'refunded_quantity_within_quantity', 'refunded_quantity >= 0 AND refunded_quantity <= quantity'
        )
    op.execute(
        """
        UPDATE order_items i SET refunded_quantity = i.quantity
        FROM orders o
        WHERE o.id = i.order_id AND o.created_at = i.order_created_at
          AND o.subtotal > 0 AND o.refunded_subtotal = o.subtotal
        """
    )

    with op.batch_alter_table('order_refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_amount', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
        batch_op.create_check_constraint('delivery_amount_not_negative', 'delivery_amount >= 0')
    op.execute(
        """
        UPDATE order_refunds r
        SET delivery_amount = LEAST(r.amount, ROUND(r.amount * o.delivery_fee / o.total, 2))
        FROM orders o
        WHERE o.id = r.order_id AND o.created_at = r.order_created_at
          AND o.total > 0 AND o.delivery_fee > 0
        """
    )

    with op.batch_alter_table('commission_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commission_basis', sa.String(length=20), server_default='tier', nullable=False))
        batch_op.add_column(sa.Column('commission_tier', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            'commission_basis', "commission_basis IN ('tier', 'promotional_tier', 'referral')"
        )
    _backfill_commission_basis()

    op.create_table('order_holds',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_created_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('held_by_id', sa.Uuid(), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.Column('released_by_id', sa.Uuid(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['held_by_id'], ['users.id'], name=op.f('fk_order_holds_held_by_id_users')),
    sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_order_holds_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_order_holds_released_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_holds'))
    )
    op.create_index(
        'idx_orders_awaiting_completion', 'orders', ['paid_at'], unique=False,
        postgresql_where=sa.text('paid_at IS NOT NULL AND completed_at IS NULL AND canceled_at IS NULL'),
    )
    op.create_index(
        'unique_open_order_hold', 'order_holds', ['order_id'], unique=True,
        postgresql_where=sa.text('released_at IS NULL'),
    )


def _backfill_commission_basis():
    tier_rates = ", ".join(
        f"('{name}', {rate})" for name, rate in Config.TIER_COMMISSION_RATES.items()
    )
    sales = "c.refund_id IS NULL"
    # Referral: the referred order at the referral rate.
    op.execute(
        sa.text(
            f"""
            UPDATE commission_records c SET commission_basis = 'referral', commission_tier = NULL
            FROM orders o
            WHERE {sales} AND o.id = c.order_id AND o.created_at = c.order_created_at
              AND o.referral_session IS NOT NULL AND c.commission_rate = :referral_rate
            """
        ).bindparams(referral_rate=Config.REFERRAL_COMMISSION_RATE)
    )
    # The tier the history had at the sale, when its rate is the sale's.
    op.execute(
        f"""
        UPDATE commission_records c
        SET commission_tier = h.to_tier,
            commission_basis = CASE WHEN h.is_promotional THEN 'promotional_tier' ELSE 'tier' END
        FROM tier_changes h
        WHERE {sales} AND c.commission_basis = 'tier'
          AND h.id = (SELECT t.id FROM tier_changes t
                      WHERE t.vendor_id = c.shop_id AND t.created_at <= c.created_at
                      ORDER BY t.created_at DESC LIMIT 1)
          AND h.commission_rate = c.commission_rate
        """
    )
    # The shop's current tier, when its rate matches.
    op.execute(
        f"""
        UPDATE commission_records c
        SET commission_tier = s.tier,
            commission_basis = CASE WHEN s.is_promotional THEN 'promotional_tier' ELSE 'tier' END
        FROM shop_tiers s
        WHERE {sales} AND c.commission_tier IS NULL AND c.commission_basis = 'tier'
          AND s.shop_id = c.shop_id AND s.commission_rate = c.commission_rate
        """
    )
    # The configured tier with that rate.
    op.execute(
        f"""
        UPDATE commission_records c SET commission_tier = r.name
        FROM (VALUES {tier_rates}) AS r (name, rate)
        WHERE {sales} AND c.commission_tier IS NULL AND c.commission_basis = 'tier'
          AND r.rate = c.commission_rate
        """
    )
    # A reversal carries its sale's basis.
    op.execute(
        """
        UPDATE commission_records c
        SET commission_basis = s.commission_basis, commission_tier = s.commission_tier
        FROM commission_records s
        WHERE c.refund_id IS NOT NULL AND s.refund_id IS NULL
          AND s.order_id = c.order_id AND s.order_created_at = c.order_created_at
        """
    )


def downgrade():
    op.drop_index('idx_orders_awaiting_completion', table_name='orders')
    op.drop_index('unique_open_order_hold', table_name='order_holds', postgresql_where=sa.text('released_at IS NULL'))
    op.drop_table('order_holds')
    with op.batch_alter_table('commission_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_commission_records_commission_basis'), type_='check')
        batch_op.drop_column('commission_tier')
        batch_op.drop_column('commission_basis')
    with op.batch_alter_table('order_refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_refunds_delivery_amount_not_negative'), type_='check')
        batch_op.drop_column('items')
        batch_op.drop_column('delivery_amount')
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_items_refunded_quantity_within_quantity'), type_='check')
        batch_op.drop_column('refunded_quantity')
