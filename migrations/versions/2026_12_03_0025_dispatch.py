"""Dispatch and the driver's deliveries: the delivery PIN, tips, drivers' earnings, delivered orders.

* ``delivery_assignments.delivery_pin``: the PIN the customer gives the driver as proof of
  delivery (set when the delivery is created, shown on the tracking page).
* ``delivery_assignments.driver_tip``: the customer's tip for the driver (0 unless one is sent);
  a driver's earnings are pay plus tips.
* ``drivers.total_earnings``: pay plus tips of the driver's delivered deliveries, kept beside
  ``total_deliveries`` by the delivered effect.
* ``orders.delivered_at`` (and ``archived_orders``): when the order was handed over; the return
  window starts there (portal/orders/completion.py).

Revision ID: f25a0c0d0025
Revises: e7aebf0b0017
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'f25a0c0d0025'
down_revision = 'e7aebf0b0017'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('delivery_assignments', sa.Column('delivery_pin', sa.String(length=8), nullable=True))
    op.add_column('delivery_assignments', sa.Column('driver_tip', sa.Numeric(precision=6, scale=2), server_default='0', nullable=False))
    op.create_check_constraint('driver_tip_not_negative', 'delivery_assignments', 'driver_tip >= 0')
    op.add_column('drivers', sa.Column('total_earnings', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False))
    op.create_check_constraint('total_earnings_not_negative', 'drivers', 'total_earnings >= 0')
    # A partitioned table's new column reaches every partition.
    op.add_column('orders', sa.Column('delivered_at', sa.DateTime(), nullable=True))
    op.add_column('archived_orders', sa.Column('delivered_at', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('archived_orders', 'delivered_at')
    op.drop_column('orders', 'delivered_at')
    op.drop_constraint(op.f('ck_drivers_total_earnings_not_negative'), 'drivers', type_='check')
    op.drop_column('drivers', 'total_earnings')
    op.drop_constraint(op.f('ck_delivery_assignments_driver_tip_not_negative'), 'delivery_assignments', type_='check')
    op.drop_column('delivery_assignments', 'driver_tip')
    op.drop_column('delivery_assignments', 'delivery_pin')
