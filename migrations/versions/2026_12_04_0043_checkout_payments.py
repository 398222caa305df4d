"""Checkout payments: one PaymentIntent per checkout, which Stripe refund became which order's
refund, and a Stripe dispute split over a checkout's orders (docs/payments.md).

* ``checkout_payments``: one row per checkout (unique ``checkout_id`` and PaymentIntent id), its
  amount, status, ``transfer_group``, charge, and the Stripe ``created`` of the last event applied.
* ``checkout_payment_refunds``: a Stripe refund's share on each order it refunded.
* ``order_disputes``: ``stripe_dispute_id`` is unique per order, no longer alone: one dispute of
  a checkout's charge holds each of its vendors' orders.

Revision ID: a8b9c0d10043
Revises: f1a2b3c40037
Create Date: 2026-12-04 22:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.clock

# revision identifiers, used by Alembic.
revision = 'a8b9c0d10043'
down_revision = 'f1a2b3c40037'
branch_labels = None
depends_on = None

STATUSES = (
    "('requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', "
    "'requires_capture', 'failed', 'succeeded', 'canceled')"
)


def upgrade():
    op.create_table('checkout_payments',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('checkout_id', sa.Uuid(), nullable=False),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.CHAR(length=3), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('transfer_group', sa.String(length=255), nullable=False),
    sa.Column('latest_charge_id', sa.String(length=255), nullable=True),
    sa.Column('amount_received', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('amount_refunded', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('failure_code', sa.String(length=100), nullable=True),
    sa.Column('failure_message', sa.String(length=500), nullable=True),
    sa.Column('last_event_created', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('paid_at', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('canceled_at', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint(f"status IN {STATUSES}", name=op.f('ck_checkout_payments_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_checkout_payments_amount_positive')),
    sa.CheckConstraint('amount_refunded >= 0 AND amount_refunded <= amount', name=op.f('ck_checkout_payments_refunded_within_amount')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkout_payments')),
    sa.UniqueConstraint('checkout_id', name=op.f('uq_checkout_payments_checkout_id')),
    sa.UniqueConstraint('payment_intent_id', name=op.f('uq_checkout_payments_payment_intent_id'))
    )
    with op.batch_alter_table('checkout_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkout_payments_latest_charge_id'), ['latest_charge_id'], unique=False)

    op.create_table('checkout_payment_refunds',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('checkout_payment_id', sa.Uuid(), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=255), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_created_at', portal.clock.UTCDateTime(), nullable=False),
    sa.Column('order_refund_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_checkout_payment_refunds_amount_not_negative')),
    sa.ForeignKeyConstraint(['checkout_payment_id'], ['checkout_payments.id'], name=op.f('fk_checkout_payment_refunds_checkout_payment_id_checkout_payments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_checkout_payment_refunds_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_refund_id'], ['order_refunds.id'], name=op.f('fk_checkout_payment_refunds_order_refund_id_order_refunds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkout_payment_refunds')),
    sa.UniqueConstraint('order_refund_id', name=op.f('uq_checkout_payment_refunds_order_refund_id')),
    sa.UniqueConstraint('stripe_refund_id', 'order_id', name='unique_refund_share')
    )
    with op.batch_alter_table('checkout_payment_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkout_payment_refunds_checkout_payment_id'), ['checkout_payment_id'], unique=False)

    with op.batch_alter_table('order_disputes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_order_disputes_stripe_dispute_id'), type_='unique')
        batch_op.create_unique_constraint('unique_dispute_share', ['stripe_dispute_id', 'order_id'])


def downgrade():
    with op.batch_alter_table('order_disputes', schema=None) as batch_op:
        batch_op.drop_constraint('unique_dispute_share', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_order_disputes_stripe_dispute_id'), ['stripe_dispute_id'])

    with op.batch_alter_table('checkout_payment_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkout_payment_refunds_checkout_payment_id'))
    op.drop_table('checkout_payment_refunds')
    with op.batch_alter_table('checkout_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkout_payments_latest_charge_id'))
    op.drop_table('checkout_payments')
