"""The external delivery provider and product obfuscation's classifications.

* ``provider_deliveries``: a delivery handed to an external provider (DoorDash Drive): its quote,
  the fee the provider charges (the delivery margin shown to admins is the customer's delivery
  fee less it), the provider's latest driver position and name, a refused cancellation.
* ``provider_events``: each provider status webhook once (a replay changes nothing).
* ``obfuscation_classifications``: sensitive kinds of product and which outside parties see
  their neutral names. ``product_obfuscations.classification_code`` becomes a foreign key to
  it; a code already in use gets a classification that applies everywhere (nothing that was
  hidden becomes visible).

Revision ID: e69dae0a0016
Revises: e8bfc00c0018
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

# revision identifiers, used by Alembic.
revision = 'e69dae0a0016'
down_revision = 'e8bfc00c0018'
branch_labels = None
depends_on = None

OUTCOMES = ("applied", "ignored", "unknown_delivery")


def upgrade():
    op.create_table('provider_deliveries',
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_status', sa.String(length=40), nullable=True),
    sa.Column('quoted_fee', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('quoted_at', sa.DateTime(), nullable=True),
    sa.Column('quote_expires_at', sa.DateTime(), nullable=True),
    sa.Column('fee', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('tip', sa.Numeric(precision=6, scale=2), server_default='0', nullable=False),
    sa.Column('booked_at', sa.DateTime(), nullable=True),
    sa.Column('booked_by', sa.String(length=20), nullable=True),
    sa.Column('support_reference', sa.String(length=100), nullable=True),
    sa.Column('driver_name', sa.String(length=100), nullable=True),
    sa.Column('driver_location', Geography(geometry_type='POINT', srid=4326, spatial_index=False), nullable=True),
    sa.Column('driver_location_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('cancel_requested_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_refusal', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint('quoted_fee >= 0 AND fee >= 0 AND tip >= 0', name=op.f('ck_provider_deliveries_amounts_not_negative')),
    sa.ForeignKeyConstraint(['assignment_id'], ['delivery_assignments.id'], name=op.f('fk_provider_deliveries_assignment_id_delivery_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assignment_id', name=op.f('pk_provider_deliveries'))
    )
    op.create_index('idx_provider_deliveries_booked', 'provider_deliveries', ['booked_at'])

    op.create_table('provider_events',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_key', sa.String(length=64), nullable=False),
    sa.Column('event_name', sa.String(length=64), nullable=False),
    sa.Column('external_delivery_id', sa.String(length=255), nullable=False),
    sa.Column('assignment_id', sa.Uuid(), nullable=True),
    sa.Column('event_created_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.CheckConstraint(f"outcome IN {OUTCOMES!r}", name=op.f('ck_provider_events_outcome')),
    sa.ForeignKeyConstraint(['assignment_id'], ['delivery_assignments.id'], name=op.f('fk_provider_events_assignment_id_delivery_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_events')),
    sa.UniqueConstraint('provider', 'event_key', name='unique_provider_event')
    )
    op.create_index('idx_provider_events_assignment', 'provider_events', ['assignment_id', 'event_created_at'])

    op.create_table('obfuscation_classifications',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('classification_code', sa.String(length=50), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('applies_to_payments', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('applies_to_deliveries', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('applies_to_receipts', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("classification_code ~ '^[a-z0-9][a-z0-9_-]*$'", name=op.f('ck_obfuscation_classifications_classification_code_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obfuscation_classifications')),
    sa.UniqueConstraint('classification_code', name='unique_classification_code')
    )
    # Codes already in use: lower-cased to the code format, applying everywhere.
    op.execute(
        "UPDATE product_obfuscations SET classification_code = "
        "regexp_replace(lower(classification_code), '[^a-z0-9_-]', '-', 'g')"
    )
    op.execute(
        "UPDATE product_obfuscations SET classification_code = 'x' || classification_code "
        "WHERE classification_code !~ '^[a-z0-9]'"
    )
    op.execute(
        "INSERT INTO obfuscation_classifications (classification_code, description) "
        "SELECT DISTINCT classification_code, 'Made by migration 0022 from the obfuscations "
        "that named it; applies everywhere until an admin says otherwise.' "
        "FROM product_obfuscations"
    )
    op.create_foreign_key(
        'fk_product_obfuscations_classification', 'product_obfuscations',
        'obfuscation_classifications', ['classification_code'], ['classification_code'],
        onupdate='CASCADE',
    )


def downgrade():
    op.drop_constraint('fk_product_obfuscations_classification', 'product_obfuscations', type_='foreignkey')
    op.drop_table('obfuscation_classifications')
    op.drop_index('idx_provider_events_assignment', table_name='provider_events')
    op.drop_table('provider_events')
    op.drop_index('idx_provider_deliveries_booked', table_name='provider_deliveries')
    op.drop_table('provider_deliveries')
