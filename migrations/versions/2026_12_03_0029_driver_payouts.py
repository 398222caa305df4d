"""Drivers are paid: their Stripe accounts, their earnings, and their payouts.

* ``connected_accounts``, ``stripe_onboarding`` and ``payouts`` belong to a vendor or a driver:
  ``driver_id`` (FK drivers), ``vendor_id`` nullable, a check that exactly one is set, unique per
  driver where unique per vendor. ``stripe_onboarding``'s primary key moves from ``vendor_id`` to
  the creation's ``idempotency_key`` (already unique and not null), as a driver's claim has no
  vendor. ``payouts.vendor_type`` is a vendor's only; a driver's payout lists its earnings in
  ``earning_ids`` (as a vendor's lists its records in ``commission_ids``).
* ``driver_earnings``: one row per delivered delivery of a driver (unique on the delivery), pay
  plus tip, ``pending`` → ``settled`` → ``paid`` with the ``payout_id`` that paid it.
* ``driver_payout_holds`` and ``payout_run_driver_holds``: why a run did not pay a driver (as
  ``payout_holds`` and ``payout_run_holds`` for vendors).
* ``order_driver_tips``: the customer's tip for the driver taken with an order (``driver_tip`` of
  ``order.placed``), outside the order's total; carried onto its delivery.

Revision ID: f69e4a3c0029
Revises: f36b1d0e0026
Create Date: 2026-12-03 20:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'f69e4a3c0029'
down_revision = 'f36b1d0e0026'
branch_labels = None
depends_on = None

ONE_HOLDER = "num_nonnulls(vendor_id, driver_id) = 1"
DRIVER_HOLD_REASONS = (
    "no_account", "payouts_disabled", "transfers_inactive", "below_minimum", "platform_balance"
)


def _driver_column(table: str, ondelete: str | None = None) -> None:
    op.add_column(table, sa.Column('driver_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f(f'fk_{table}_driver_id_drivers'), table, 'drivers', ['driver_id'], ['id'],
        ondelete=ondelete,
    )
    op.alter_column(table, 'vendor_id', existing_type=sa.Uuid(), nullable=True)
    op.create_check_constraint(op.f(f'ck_{table}_one_holder'), table, ONE_HOLDER)


def upgrade():
    _driver_column('connected_accounts')
    op.create_unique_constraint('unique_driver_account', 'connected_accounts', ['driver_id'])

    op.drop_constraint('pk_stripe_onboarding', 'stripe_onboarding', type_='primary')
    op.create_primary_key('pk_stripe_onboarding', 'stripe_onboarding', ['idempotency_key'])
    op.drop_constraint(
        'uq_stripe_onboarding_idempotency_key', 'stripe_onboarding', type_='unique'
    )
    _driver_column('stripe_onboarding', ondelete='CASCADE')
    op.create_unique_constraint(
        op.f('uq_stripe_onboarding_vendor_id'), 'stripe_onboarding', ['vendor_id']
    )
    op.create_unique_constraint(
        op.f('uq_stripe_onboarding_driver_id'), 'stripe_onboarding', ['driver_id']
    )

    _driver_column('payouts')
    op.alter_column('payouts', 'vendor_type', existing_type=sa.String(20), nullable=True)
    op.add_column(
        'payouts', sa.Column('earning_ids', postgresql.ARRAY(sa.Uuid()), nullable=True)
    )
    op.create_index(
        'idx_payouts_driver', 'payouts', ['driver_id'],
        postgresql_where=sa.text('driver_id IS NOT NULL'),
    )

    op.create_table(
        'driver_earnings',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('driver_id', sa.Uuid(), nullable=False),
        sa.Column('delivery_id', sa.Uuid(), nullable=False),
        sa.Column('pay', sa.Numeric(6, 2), nullable=False),
        sa.Column('tip', sa.Numeric(6, 2), nullable=False),
        sa.Column('amount', sa.Numeric(8, 2), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(20), server_default='pending', nullable=False),
        sa.Column('settled_at', sa.DateTime(), nullable=True),
        sa.Column('payout_id', sa.Uuid(), nullable=True),
        sa.Column(
            'created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'settled', 'paid')", name=op.f('ck_driver_earnings_status')
        ),
        sa.CheckConstraint(
            'pay >= 0 AND tip >= 0 AND amount = pay + tip',
            name=op.f('ck_driver_earnings_amount_is_pay_plus_tip'),
        ),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'], name=op.f('fk_driver_earnings_driver_id_drivers')
        ),
        sa.ForeignKeyConstraint(
            ['delivery_id'], ['delivery_assignments.id'],
            name=op.f('fk_driver_earnings_delivery_id_delivery_assignments'),
        ),
        sa.ForeignKeyConstraint(
            ['payout_id'], ['payouts.id'], name=op.f('fk_driver_earnings_payout_id_payouts')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_driver_earnings')),
        sa.UniqueConstraint('delivery_id', name='unique_earning_per_delivery'),
    )
    op.create_index(
        'idx_driver_earnings_driver', 'driver_earnings',
        ['driver_id', sa.text('delivered_at DESC')],
    )
    op.create_index(
        'idx_driver_earnings_unpaid', 'driver_earnings', ['status', 'delivered_at'],
        postgresql_where=sa.text("status IN ('pending', 'settled')"),
    )

    reasons = f"reason IN {DRIVER_HOLD_REASONS!r}"
    op.create_table(
        'driver_payout_holds',
        sa.Column('driver_id', sa.Uuid(), nullable=False),
        sa.Column('reason', sa.String(30), nullable=False),
        sa.Column('held_since', sa.DateTime(), nullable=False),
        sa.Column('reason_since', sa.DateTime(), nullable=False),
        sa.Column('amount_waiting', sa.Numeric(12, 2), nullable=False),
        sa.Column('record_count', sa.Integer(), nullable=False),
        sa.Column('last_run_id', sa.Uuid(), nullable=True),
        sa.Column(
            'updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'),
            nullable=False,
        ),
        sa.CheckConstraint(reasons, name=op.f('ck_driver_payout_holds_reason')),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'], name=op.f('fk_driver_payout_holds_driver_id_drivers'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['last_run_id'], ['payout_runs.id'],
            name=op.f('fk_driver_payout_holds_last_run_id_payout_runs'),
        ),
        sa.PrimaryKeyConstraint('driver_id', name=op.f('pk_driver_payout_holds')),
    )
    op.create_table(
        'payout_run_driver_holds',
        sa.Column('run_id', sa.Uuid(), nullable=False),
        sa.Column('driver_id', sa.Uuid(), nullable=False),
        sa.Column('reason', sa.String(30), nullable=False),
        sa.Column('amount_waiting', sa.Numeric(12, 2), nullable=False),
        sa.Column('record_count', sa.Integer(), nullable=False),
        sa.CheckConstraint(reasons, name=op.f('ck_payout_run_driver_holds_reason')),
        sa.ForeignKeyConstraint(
            ['run_id'], ['payout_runs.id'],
            name=op.f('fk_payout_run_driver_holds_run_id_payout_runs'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'],
            name=op.f('fk_payout_run_driver_holds_driver_id_drivers'),
        ),
        sa.PrimaryKeyConstraint('run_id', 'driver_id', name=op.f('pk_payout_run_driver_holds')),
    )


    op.create_table(
        'order_driver_tips',
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('order_created_at', sa.DateTime(), nullable=False),
        sa.Column('amount', sa.Numeric(6, 2), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_order_driver_tips_amount_positive')),
        sa.ForeignKeyConstraint(
            ['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'],
            name=op.f('fk_order_driver_tips_order_id_orders'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('order_id', name=op.f('pk_order_driver_tips')),
    )


def downgrade():
    op.drop_table('order_driver_tips')
    op.drop_table('payout_run_driver_holds')
    op.drop_table('driver_payout_holds')
    op.drop_index('idx_driver_earnings_unpaid', table_name='driver_earnings')
    op.drop_index('idx_driver_earnings_driver', table_name='driver_earnings')
    op.drop_table('driver_earnings')

    op.execute("DELETE FROM payouts WHERE driver_id IS NOT NULL")
    op.drop_index('idx_payouts_driver', table_name='payouts')
    op.drop_column('payouts', 'earning_ids')
    op.alter_column('payouts', 'vendor_type', existing_type=sa.String(20), nullable=False)
    for table in ('payouts', 'stripe_onboarding', 'connected_accounts'):
        op.execute(f"DELETE FROM {table} WHERE driver_id IS NOT NULL")
        op.drop_constraint(op.f(f'ck_{table}_one_holder'), table, type_='check')
        op.alter_column(table, 'vendor_id', existing_type=sa.Uuid(), nullable=False)
        op.drop_constraint(op.f(f'fk_{table}_driver_id_drivers'), table, type_='foreignkey')
        op.drop_column(table, 'driver_id')
    # Dropping driver_id dropped its unique constraints too.
    op.drop_constraint(op.f('uq_stripe_onboarding_vendor_id'), 'stripe_onboarding', type_='unique')
    op.drop_constraint('pk_stripe_onboarding', 'stripe_onboarding', type_='primary')
    op.create_unique_constraint(
        'uq_stripe_onboarding_idempotency_key', 'stripe_onboarding', ['idempotency_key']
    )
    op.create_primary_key('pk_stripe_onboarding', 'stripe_onboarding', ['vendor_id'])
