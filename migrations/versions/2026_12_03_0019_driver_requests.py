"""Driver requests sent with an Idempotency-Key, and the response each got, so a phone's retry
replays the first response instead of acting twice (portal/deliveries/idempotency.py).

Revision ID: d36a7b070013
Revises: d25f6a060012
Create Date: 2026-12-03 08:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'd36a7b070013'
down_revision = 'd25f6a060012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('driver_requests',
    sa.Column('driver_id', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['driver_id'], ['drivers.id'], name=op.f('fk_driver_requests_driver_id_drivers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('driver_id', 'idempotency_key', name=op.f('pk_driver_requests'))
    )
    op.create_index('idx_driver_requests_created', 'driver_requests', ['created_at'])


def downgrade():
    op.drop_table('driver_requests')
