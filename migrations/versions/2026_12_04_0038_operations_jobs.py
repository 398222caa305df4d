"""Operations jobs: a table of job runs, the archive of rows that referenced archived orders, the
payouts' view of aggregated commission records, and driver earnings that outlive their delivery.

* ``job_runs``: one row per run of a retention or maintenance job (start, end, outcome, duration,
  progress, what it did), read by the operations page.
* ``archived_order_rows``: the rows that referenced a month's orders (line items, events, refunds,
  deliveries, ...) when the month moves to ``archived_orders``: the whole row as JSONB under its
  source table and primary key, so a later column never shifts an archived value into another.
* ``aggregated_commission_payouts``: per payout, shop and month, how many of its commission
  records were aggregated into ``commission_summaries`` and their sum, so a payout still accounts
  for every record it paid after their partition is dropped.
* ``archived_orders`` gets an index on (customer_id, created_at): the customer's page lists them.
* ``commission_records`` and ``vendor_platform_fees`` get a partial index on ``refund_id``: each
  archived refund's delete checks the reversals that name it (73 s for 3,553 refunds without it,
  docs/operations.md).
* ``driver_earnings.delivery_id`` becomes nullable: an earning keeps its amounts when the delivery
  of an archived order goes, as points rows keep theirs and lose only the order reference.
* ``pgstattuple`` is installed when the server offers it (the REINDEX job's bloat estimate); a
  server that does not falls back to index size growth.

Revision ID: b2c3d4e50038
Revises: c4d5e6f70039
Create Date: 2026-12-04 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'b2c3d4e50038'
down_revision = 'c4d5e6f70039'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_runs',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('job_name', sa.String(length=60), nullable=False),
        sa.Column('rq_job_id', sa.String(length=120), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.String(length=20), server_default='running', nullable=False),
        sa.Column('dry_run', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('progress', sa.String(length=255), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("outcome IN ('running', 'succeeded', 'failed', 'skipped')", name=op.f('ck_job_runs_outcome')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    )
    op.create_index('idx_job_runs_job_started', 'job_runs', ['job_name', sa.text('started_at DESC')], unique=False)
    op.create_table(
        'archived_order_rows',
        sa.Column('source_table', sa.String(length=63), nullable=False),
        sa.Column('row_key', sa.String(length=255), nullable=False),
        sa.Column('order_id', sa.Uuid(), nullable=False),
        sa.Column('order_created_at', sa.DateTime(), nullable=False),
        sa.Column('row_data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('archived_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.PrimaryKeyConstraint('source_table', 'row_key', name=op.f('pk_archived_order_rows')),
    )
    op.create_index('idx_archived_order_rows_order', 'archived_order_rows', ['order_id'], unique=False)
    op.create_table(
        'aggregated_commission_payouts',
        sa.Column('payout_id', sa.Uuid(), nullable=False),
        sa.Column('shop_id', sa.Uuid(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('record_count', sa.Integer(), nullable=False),
        sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_aggregated_commission_payouts_payout_id_payouts')),
        sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_aggregated_commission_payouts_shop_id_vendors')),
        sa.PrimaryKeyConstraint('payout_id', 'shop_id', 'year', 'month', name=op.f('pk_aggregated_commission_payouts')),
    )
    op.alter_column('driver_earnings', 'delivery_id', existing_type=sa.Uuid(), nullable=True)
    op.create_index('idx_archived_orders_customer_date', 'archived_orders', ['customer_id', 'created_at'], unique=False)
    op.create_index('idx_commission_refund', 'commission_records', ['refund_id'], unique=False, postgresql_where=sa.text('refund_id IS NOT NULL'))
    op.create_index('idx_platform_fee_refund', 'vendor_platform_fees', ['refund_id'], unique=False, postgresql_where=sa.text('refund_id IS NOT NULL'))
    op.execute(
        """
        DO $$ BEGIN
            CREATE EXTENSION IF NOT EXISTS pgstattuple;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pgstattuple not installed (%): REINDEX falls back to size growth', SQLERRM;
        END $$;
        """
    )


def downgrade():
    op.execute("DELETE FROM driver_earnings WHERE delivery_id IS NULL")
    op.alter_column('driver_earnings', 'delivery_id', existing_type=sa.Uuid(), nullable=False)
    op.drop_index('idx_platform_fee_refund', table_name='vendor_platform_fees')
    op.drop_index('idx_commission_refund', table_name='commission_records')
    op.drop_index('idx_archived_orders_customer_date', table_name='archived_orders')
    op.drop_table('aggregated_commission_payouts')
    op.drop_index('idx_archived_order_rows_order', table_name='archived_order_rows')
    op.drop_table('archived_order_rows')
    op.drop_index('idx_job_runs_job_started', table_name='job_runs')
    op.drop_table('job_runs')
