"""Drivers' documents, the admin's verification note, and the drivers' position history.

* ``driver_documents``: a driver's uploaded document (``kind`` ``insurance``), one per kind: a
  replacement overwrites the row (the old file is removed). The file lives in the private media
  root (``PRIVATE_MEDIA_ROOT``), served only to the driver and admins.
* ``drivers.verification_note``, ``verified_at``, ``verified_by_id``: the admin's last verdict on
  the driver, with the note the driver reads on their dashboard.
* ``drivers.location_captured_at``: when the phone captured ``current_location``, so a late,
  older ping never replaces a newer position.
* ``driver_positions``: every applied ping (driver, point, captured on the phone, received by the
  endpoint, applied by the worker), unique per driver and capture time so re-applying a batch
  adds nothing; indexed by capture time for the retention delete (``POSITION_HISTORY_DAYS``).

Revision ID: f36b1d0e0026
Revises: f25a0c0d0025
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geography

# revision identifiers, used by Alembic.
revision = 'f36b1d0e0026'
down_revision = 'f25a0c0d0025'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('drivers', sa.Column('verification_note', sa.Text(), nullable=True))
    op.add_column('drivers', sa.Column('verified_at', sa.DateTime(), nullable=True))
    op.add_column('drivers', sa.Column('verified_by_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f('fk_drivers_verified_by_id_users'), 'drivers', 'users', ['verified_by_id'], ['id']
    )
    op.add_column('drivers', sa.Column('location_captured_at', sa.DateTime(), nullable=True))

    op.create_table(
        'driver_documents',
        sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('driver_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=50), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=True),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind = 'insurance'", name=op.f('ck_driver_documents_kind')),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png', 'image/webp')",
            name=op.f('ck_driver_documents_content_type'),
        ),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'], name=op.f('fk_driver_documents_driver_id_drivers'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_driver_documents')),
        sa.UniqueConstraint('driver_id', 'kind', name='unique_driver_document_kind'),
    )

    op.create_table(
        'driver_positions',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('driver_id', sa.Uuid(), nullable=False),
        sa.Column(
            'position',
            Geography(geometry_type='POINT', srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column('captured_at', sa.DateTime(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('applied_at', sa.DateTime(), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'], name=op.f('fk_driver_positions_driver_id_drivers'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_driver_positions')),
        sa.UniqueConstraint('driver_id', 'captured_at', name='unique_driver_position_capture'),
    )
    op.create_index('idx_driver_positions_captured', 'driver_positions', ['captured_at'])


def downgrade():
    op.drop_index('idx_driver_positions_captured', table_name='driver_positions')
    op.drop_table('driver_positions')
    op.drop_table('driver_documents')
    op.drop_column('drivers', 'location_captured_at')
    op.drop_constraint(op.f('fk_drivers_verified_by_id_users'), 'drivers', type_='foreignkey')
    op.drop_column('drivers', 'verified_by_id')
    op.drop_column('drivers', 'verified_at')
    op.drop_column('drivers', 'verification_note')
