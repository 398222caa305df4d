"""Delivery ratings: a customer rates a delivered delivery once, from the tracking page; the
driver's rating is the average of theirs (portal/deliveries/tracking.py).

Revision ID: e7aebf0b0017
Revises: e69dae0a0016
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e7aebf0b0017'
down_revision = 'e69dae0a0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_ratings',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('driver_id', sa.Uuid(), nullable=True),
    sa.Column('stars', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_delivery_ratings_stars_range')),
    sa.ForeignKeyConstraint(['assignment_id'], ['delivery_assignments.id'], name=op.f('fk_delivery_ratings_assignment_id_delivery_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['driver_id'], ['drivers.id'], name=op.f('fk_delivery_ratings_driver_id_drivers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_ratings')),
    sa.UniqueConstraint('assignment_id', name='unique_delivery_rating')
    )
    op.create_index('idx_delivery_ratings_driver', 'delivery_ratings', ['driver_id'])


def downgrade():
    op.drop_table('delivery_ratings')
