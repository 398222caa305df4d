"""Refund checks that fit refunds of orders with a points discount.

A refund's merchandise share is proportional (subtotal / total of the customer's money), so when
the marketplace-funded points discount is larger than the delivery fee the share is larger than
the money refunded: ``subtotal_amount <= amount`` would refuse every refund of such an order.
And an order the customer paid nothing for (points covered the subtotal, no delivery fee) that
is canceled after payment still has its commission and fee to reverse: its refund row carries
amount 0.

Revision ID: 3e8c5a1d0f27
Revises: 7b41d2c9e802
Create Date: 2026-11-25 17:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '3e8c5a1d0f27'
down_revision = '7b41d2c9e802'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint(op.f('ck_order_refunds_subtotal_within_amount'), 'order_refunds', type_='check')
    op.drop_constraint(op.f('ck_order_refunds_amount_positive'), 'order_refunds', type_='check')
    op.create_check_constraint('amount_not_negative', 'order_refunds', 'amount >= 0')
    op.create_check_constraint('subtotal_amount_not_negative', 'order_refunds', 'subtotal_amount >= 0')


def downgrade():
    op.drop_constraint(op.f('ck_order_refunds_subtotal_amount_not_negative'), 'order_refunds', type_='check')
    op.drop_constraint(op.f('ck_order_refunds_amount_not_negative'), 'order_refunds', type_='check')
    op.create_check_constraint('amount_positive', 'order_refunds', 'amount > 0')
    op.create_check_constraint(
        'subtotal_within_amount', 'order_refunds', 'subtotal_amount >= 0 AND subtotal_amount <= amount'
    )
