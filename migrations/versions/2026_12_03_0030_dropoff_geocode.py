"""How a delivery's dropoff point was found.

* ``delivery_assignments.dropoff_geocode``: NULL when the order carried its dropoff point;
  ``found`` when the geocoder found the address (``portal/deliveries/geocoding.py``);
  ``not_found`` when it does not know the address, ``failed`` when it could not be asked. The
  last two have no distance: the shop's and the admin's delivery views flag them.

Revision ID: f7af5b4d0030
Revises: f36b1d0e0026
Create Date: 2026-12-03 20:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'f7af5b4d0030'
down_revision = 'f69e4a3c0029'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('delivery_assignments', sa.Column('dropoff_geocode', sa.String(length=20), nullable=True))
    op.create_check_constraint(
        'dropoff_geocode', 'delivery_assignments', "dropoff_geocode IN ('found', 'not_found', 'failed')"
    )


def downgrade():
    op.drop_constraint(op.f('ck_delivery_assignments_dropoff_geocode'), 'delivery_assignments', type_='check')
    op.drop_column('delivery_assignments', 'dropoff_geocode')
