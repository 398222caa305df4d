"""Shop order numbers (#1042), the storefront's own number, a name search, statement totals.

* ``orders.number`` (and ``archived_orders.number``): each shop's own order number, allocated at
  placement from ``vendor_order_counters`` and kept unique per shop in ``vendor_order_numbers``
  (``orders`` is partitioned, so it cannot hold that unique key). Existing orders are numbered
  per shop by ``created_at``, then ``id``, from 1001 (``FIRST_ORDER_NUMBER``'s default).
* ``orders.external_number``: the external storefront's own order number, when it sends one.
* ``idx_customers_name_trgm``: a trigram index (pg_trgm) for the orders list's search by a part
  of the customer's name.
* ``vendor_commission_totals.amount_total`` and ``fee_total``: the statement's totals row. The
  commission trigger of 0005 now also sums ``order_amount`` and the records' platform fees; a new
  trigger on ``vendor_platform_fees`` adds a fee written after its commission record. Whichever of
  the pair is written second finds the other, so each fee counts once, under its record's status.

Revision ID: cc0754c3000c
Revises: cbf643b2000b
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'cc0754c3000c'
down_revision = 'cbf643b2000b'
branch_labels = None
depends_on = None

#: FIRST_ORDER_NUMBER's default when this migration was written (portal/config.py).
FIRST_NUMBER = 1001

NUMBER_EXISTING_ORDERS = """
CREATE TEMPORARY TABLE order_numbering ON COMMIT DROP AS
SELECT id, created_at, vendor_id, in_archive,
       :first - 1 + row_number() OVER (PARTITION BY vendor_id ORDER BY created_at, id) AS number
FROM (
    SELECT id, created_at, vendor_id, false AS in_archive FROM orders
    UNION ALL
    SELECT id, created_at, vendor_id, true FROM archived_orders
) every_order
"""

# The pair a statement row shows: a commission record and the platform-fee row of the same sale
# or refund (portal/commissions/statements.py joins them the same way).
PAIRED = (
    "f.order_id = c.order_id AND f.vendor_id = c.shop_id "
    "AND f.refund_id IS NOT DISTINCT FROM c.refund_id"
)


def _add_rows(rows: str, sign: str) -> str:
    return f"""
        INSERT INTO vendor_commission_totals AS t
            (shop_id, status, commission_total, record_count, amount_total, fee_total)
        SELECT c.shop_id, c.status, {sign}sum(c.commission_amount), {sign}count(*),
               {sign}sum(c.order_amount), {sign}coalesce(sum(paired.fee), 0)
        FROM {rows} c
        LEFT JOIN LATERAL (
            SELECT sum(f.fee_amount) AS fee FROM vendor_platform_fees f WHERE {PAIRED}
        ) paired ON true
        GROUP BY c.shop_id, c.status
        ON CONFLICT (shop_id, status) DO UPDATE
        SET commission_total = t.commission_total + EXCLUDED.commission_total,
            record_count = t.record_count + EXCLUDED.record_count,
            amount_total = t.amount_total + EXCLUDED.amount_total,
            fee_total = t.fee_total + EXCLUDED.fee_total;"""


def _add_fees(rows: str, sign: str) -> str:
    return f"""
        INSERT INTO vendor_commission_totals AS t (shop_id, status, fee_total)
        SELECT c.shop_id, c.status, {sign}sum(f.fee_amount)
        FROM {rows} f JOIN commission_records c ON {PAIRED}
        GROUP BY c.shop_id, c.status
        ON CONFLICT (shop_id, status) DO UPDATE
        SET fee_total = t.fee_total + EXCLUDED.fee_total;"""


COMMISSION_FUNCTION = f"""
CREATE OR REPLACE FUNCTION commission_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN{_add_rows('old_rows', '-')}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN{_add_rows('new_rows', '')}
    END IF;
    RETURN NULL;
END
$$
"""

FEE_FUNCTION = f"""
CREATE FUNCTION commission_fee_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN{_add_fees('old_rows', '-')}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN{_add_fees('new_rows', '')}
    END IF;
    RETURN NULL;
END
$$
"""

FEE_TRIGGERS = {
    "commission_fee_totals_insert": "AFTER INSERT ON vendor_platform_fees REFERENCING NEW TABLE AS new_rows",
    "commission_fee_totals_update": (
        "AFTER UPDATE ON vendor_platform_fees REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "commission_fee_totals_delete": "AFTER DELETE ON vendor_platform_fees REFERENCING OLD TABLE AS old_rows",
}

REBUILD_TOTALS = f"""
INSERT INTO vendor_commission_totals
    (shop_id, status, commission_total, record_count, amount_total, fee_total)
SELECT c.shop_id, c.status, sum(c.commission_amount), count(*), sum(c.order_amount),
       coalesce(sum(paired.fee), 0)
FROM commission_records c
LEFT JOIN LATERAL (
    SELECT sum(f.fee_amount) AS fee FROM vendor_platform_fees f WHERE {PAIRED}
) paired ON true
GROUP BY c.shop_id, c.status
"""

# Migration 0005's function, for the downgrade.
COMMISSION_FUNCTION_0005 = """
CREATE OR REPLACE FUNCTION commission_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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


def upgrade():
    # --- order numbers -------------------------------------------------------------------------
    op.create_table('vendor_order_counters',
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_order_counters_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('vendor_id', name=op.f('pk_vendor_order_counters'))
    )
    op.create_table('vendor_order_numbers',
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('order_created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id', 'order_created_at'], ['orders.id', 'orders.created_at'], name=op.f('fk_vendor_order_numbers_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_order_numbers_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('vendor_id', 'number', name=op.f('pk_vendor_order_numbers')),
    sa.UniqueConstraint('order_id', name='unique_numbered_order')
    )
    for table in ('orders', 'archived_orders'):
        op.add_column(table, sa.Column('number', sa.Integer(), nullable=True))
        op.add_column(table, sa.Column('external_number', sa.String(length=64), nullable=True))

    op.execute(sa.text(NUMBER_EXISTING_ORDERS).bindparams(first=FIRST_NUMBER))
    for table, archived in (('orders', 'false'), ('archived_orders', 'true')):
        op.execute(
            f"UPDATE {table} o SET number = n.number FROM order_numbering n "
            f"WHERE n.in_archive = {archived} AND o.id = n.id AND o.created_at = n.created_at"
        )
        op.alter_column(table, 'number', nullable=False)
    op.execute(
        "INSERT INTO vendor_order_numbers (vendor_id, number, order_id, order_created_at) "
        "SELECT vendor_id, number, id, created_at FROM order_numbering WHERE NOT in_archive"
    )
    op.execute(
        "INSERT INTO vendor_order_counters (vendor_id, last_number) "
        "SELECT vendor_id, max(number) FROM order_numbering GROUP BY vendor_id"
    )
    op.execute("DROP TABLE order_numbering")

    # --- the customer's name, searched by a part of it ---------------------------------------
    # Left in place by the downgrade, like PostGIS: an extension is database-wide.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        'idx_customers_name_trgm', 'customers', ['full_name'],
        postgresql_using='gin', postgresql_ops={'full_name': 'gin_trgm_ops'},
    )

    # --- the statement's totals ----------------------------------------------------------------
    op.add_column('vendor_commission_totals', sa.Column('amount_total', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False))
    op.add_column('vendor_commission_totals', sa.Column('fee_total', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False))
    op.execute(COMMISSION_FUNCTION)
    op.execute(FEE_FUNCTION)
    for name, timing in FEE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {timing} FOR EACH STATEMENT EXECUTE FUNCTION commission_fee_totals_apply()")
    op.execute("DELETE FROM vendor_commission_totals")
    op.execute(REBUILD_TOTALS)


def downgrade():
    for name in FEE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON vendor_platform_fees")
    op.execute("DROP FUNCTION commission_fee_totals_apply()")
    op.execute(COMMISSION_FUNCTION_0005)
    op.drop_column('vendor_commission_totals', 'fee_total')
    op.drop_column('vendor_commission_totals', 'amount_total')

    op.drop_index('idx_customers_name_trgm', table_name='customers', postgresql_using='gin')

    for table in ('archived_orders', 'orders'):
        op.drop_column(table, 'external_number')
        op.drop_column(table, 'number')
    op.drop_table('vendor_order_numbers')
    op.drop_table('vendor_order_counters')
