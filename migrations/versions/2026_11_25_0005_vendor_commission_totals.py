"""A shop's commission totals by status, kept by triggers on commission_records.

The vendor dashboard shows pending, settled and paid commission. Summing every record of a large
shop (tens of thousands) on each page view was the slowest part of the page; these rows are read
instead. Statement-level triggers with transition tables keep them exact for every writer: order
intake, refunds, the set-based settlement, payouts, retention (docs/performance.md).

Revision ID: 5e7b3c2d9a05
Revises: 4d2a9f6c1e04
Create Date: 2026-11-25 18:05:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5e7b3c2d9a05'
down_revision = '4d2a9f6c1e04'
branch_labels = None
depends_on = None

APPLY_FUNCTION = """
CREATE FUNCTION commission_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO vendor_commission_totals AS t (shop_id, status, commission_total, record_count)
        SELECT shop_id, status, -sum(commission_amount), -count(*) FROM old_rows GROUP BY shop_id, status
        ON CONFLICT (shop_id, status) DO UPDATE
        SET commission_total = t.commission_total + EXCLUDED.commission_total,
            record_count = t.record_count + EXCLUDED.record_count;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO vendor_commission_totals AS t (shop_id, status, commission_total, record_count)
        SELECT shop_id, status, sum(commission_amount), count(*) FROM new_rows GROUP BY shop_id, status
        ON CONFLICT (shop_id, status) DO UPDATE
        SET commission_total = t.commission_total + EXCLUDED.commission_total,
            record_count = t.record_count + EXCLUDED.record_count;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = {
    "commission_totals_insert": "AFTER INSERT ON commission_records REFERENCING NEW TABLE AS new_rows",
    "commission_totals_update": (
        "AFTER UPDATE ON commission_records REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "commission_totals_delete": "AFTER DELETE ON commission_records REFERENCING OLD TABLE AS old_rows",
}


def upgrade():
    op.create_table('vendor_commission_totals',
    sa.Column('shop_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('commission_total', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('record_count', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_vendor_commission_totals_shop_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'status', name=op.f('pk_vendor_commission_totals'))
    )
    op.execute(APPLY_FUNCTION)
    for name, timing in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {timing} FOR EACH STATEMENT EXECUTE FUNCTION commission_totals_apply()")
    op.execute(
        "INSERT INTO vendor_commission_totals (shop_id, status, commission_total, record_count) "
        "SELECT shop_id, status, sum(commission_amount), count(*) FROM commission_records GROUP BY shop_id, status"
    )


def downgrade():
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON commission_records")
    op.execute("DROP FUNCTION commission_totals_apply()")
    op.drop_table('vendor_commission_totals')
