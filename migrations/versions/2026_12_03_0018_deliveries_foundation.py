"""Deliveries: offers, a status history, the return path's arrival, the dispatch index.

* ``drivers.background_check_status``: ``pending``, ``clear``, ``consider``, ``suspended``,
  ``failed`` (checked; the earlier ``approved`` becomes ``clear``, ``rejected`` ``failed``).
  ``drivers.status``: ``offline``, ``available``, ``on_delivery`` (checked).
* ``idx_driver_available_location``: a partial GIST index on the available drivers' positions
  for the dispatch KNN scan; the design's partial index on ``status`` is a btree and cannot order
  by distance (a documented adaptation, docs/deliveries.md).
* ``delivery_assignments.status`` admits ``arrived_at_return`` (missing from PRODUCT.md's list);
  the assignment gains the shop, both points, an ETA, a tracking token and a status reason.
* ``delivery_status_history``: every transition, when and by whom.
* ``delivery_offers``: offers to drivers, tracked apart from the status; one pending offer per
  driver and per delivery.

Revision ID: d25f6a060012
Revises: d14e5f050011
Create Date: 2026-12-03 08:10:00

"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

# revision identifiers, used by Alembic.
revision = 'd25f6a060012'
down_revision = 'd14e5f050011'
branch_labels = None
depends_on = None

STATUSES = (
    "created", "confirmed", "enroute_to_pickup", "arrived_at_pickup", "picked_up",
    "enroute_to_dropoff", "arrived_at_dropoff", "delivered", "cancelled", "enroute_to_return",
    "arrived_at_return", "returned",
)
STATUSES_BEFORE = tuple(s for s in STATUSES if s != "arrived_at_return")
CHECKS = ("pending", "clear", "consider", "suspended", "failed")
DRIVER_STATUSES = ("offline", "available", "on_delivery")


def upgrade():
    op.execute("UPDATE drivers SET background_check_status = 'clear' WHERE background_check_status = 'approved'")
    op.execute("UPDATE drivers SET background_check_status = 'failed' WHERE background_check_status = 'rejected'")
    op.execute(f"UPDATE drivers SET status = 'offline' WHERE status NOT IN {DRIVER_STATUSES!r}")
    op.create_check_constraint('background_check', 'drivers', f"background_check_status IN {CHECKS!r}")
    op.create_check_constraint('status', 'drivers', f"status IN {DRIVER_STATUSES!r}")
    op.create_index(
        'idx_driver_available_location', 'drivers', ['current_location'],
        postgresql_using='gist', postgresql_where=sa.text("status = 'available'"),
    )

    op.drop_constraint(op.f('ck_delivery_assignments_status'), 'delivery_assignments', type_='check')
    op.create_check_constraint('status', 'delivery_assignments', f"status IN {STATUSES!r}")
    op.add_column('delivery_assignments', sa.Column('vendor_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f('fk_delivery_assignments_vendor_id_vendors'), 'delivery_assignments', 'vendors',
        ['vendor_id'], ['id'],
    )
    for column in ('pickup_location', 'dropoff_location'):
        op.add_column('delivery_assignments', sa.Column(
            column, Geography(geometry_type='POINT', srid=4326, spatial_index=False), nullable=True
        ))
    op.add_column('delivery_assignments', sa.Column('eta_minutes', sa.Integer(), nullable=True))
    op.add_column('delivery_assignments', sa.Column('tracking_token', sa.String(length=64), nullable=True))
    op.add_column('delivery_assignments', sa.Column('status_reason', sa.Text(), nullable=True))
    op.create_unique_constraint('unique_delivery_tracking_token', 'delivery_assignments', ['tracking_token'])
    op.create_index(
        'idx_delivery_vendor', 'delivery_assignments', ['vendor_id', sa.text('created_at DESC')]
    )

    op.create_table('delivery_status_history',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("source IN ('driver', 'vendor', 'admin', 'provider', 'system')", name=op.f('ck_delivery_status_history_source')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_delivery_status_history_actor_id_users')),
    sa.ForeignKeyConstraint(['assignment_id'], ['delivery_assignments.id'], name=op.f('fk_delivery_status_history_assignment_id_delivery_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_status_history'))
    )
    op.create_index('idx_delivery_status_history', 'delivery_status_history', ['assignment_id', 'at'])

    op.create_table('delivery_offers',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('driver_id', sa.Uuid(), nullable=False),
    sa.Column('offered_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('pickup_distance_miles', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.CheckConstraint("outcome IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')", name=op.f('ck_delivery_offers_outcome')),
    sa.ForeignKeyConstraint(['assignment_id'], ['delivery_assignments.id'], name=op.f('fk_delivery_offers_assignment_id_delivery_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['driver_id'], ['drivers.id'], name=op.f('fk_delivery_offers_driver_id_drivers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_offers'))
    )
    op.create_index('unique_pending_offer_per_driver', 'delivery_offers', ['driver_id'], unique=True, postgresql_where=sa.text("outcome = 'pending'"))
    op.create_index('unique_pending_offer_per_assignment', 'delivery_offers', ['assignment_id'], unique=True, postgresql_where=sa.text("outcome = 'pending'"))
    op.create_index('idx_delivery_offers_assignment', 'delivery_offers', ['assignment_id', 'driver_id'])
    op.create_index('idx_delivery_offers_expiry', 'delivery_offers', ['expires_at'], postgresql_where=sa.text("outcome = 'pending'"))


def downgrade():
    op.drop_table('delivery_offers')
    op.drop_table('delivery_status_history')
    op.drop_index('idx_delivery_vendor', table_name='delivery_assignments')
    op.drop_constraint('unique_delivery_tracking_token', 'delivery_assignments', type_='unique')
    for column in ('status_reason', 'tracking_token', 'eta_minutes', 'dropoff_location', 'pickup_location'):
        op.drop_column('delivery_assignments', column)
    op.drop_constraint(op.f('fk_delivery_assignments_vendor_id_vendors'), 'delivery_assignments', type_='foreignkey')
    op.drop_column('delivery_assignments', 'vendor_id')
    op.execute("UPDATE delivery_assignments SET status = 'enroute_to_return' WHERE status = 'arrived_at_return'")
    op.drop_constraint(op.f('ck_delivery_assignments_status'), 'delivery_assignments', type_='check')
    op.create_check_constraint('status', 'delivery_assignments', f"status IN {STATUSES_BEFORE!r}")
    op.drop_index('idx_driver_available_location', table_name='drivers')
    op.drop_constraint(op.f('ck_drivers_status'), 'drivers', type_='check')
    op.drop_constraint(op.f('ck_drivers_background_check'), 'drivers', type_='check')
    op.execute("UPDATE drivers SET background_check_status = 'approved' WHERE background_check_status = 'clear'")
    op.execute("UPDATE drivers SET background_check_status = 'rejected' WHERE background_check_status <> 'pending'")
