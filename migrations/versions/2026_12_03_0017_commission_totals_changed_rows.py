"""The commission totals trigger looks only at the rows an update changed, and finds each fee once.

Migration 0012's trigger took every updated row out of the totals and put it back, looking up
its platform fee twice (old and new row). A payout run's ``UPDATE … SET payout_id`` over a million
records changes no total, yet cost two million fee lookups; marking them ``paid`` cost as many.
On ``UPDATE`` the trigger now joins ``old_rows`` to ``new_rows`` by id, keeps the rows whose
totals' inputs changed (shop, status, amounts, or the keys that pair a record with its fee), and
looks the fee up once when the pair's keys did not change (docs/performance.md, "Payout run").
``INSERT`` and ``DELETE`` are as before.

Revision ID: d14e5f050011
Revises: d03d4e040010
Create Date: 2026-12-03 08:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd14e5f050011'
down_revision = 'd03d4e040010'
branch_labels = None
depends_on = None


def _pair(record: str) -> str:
    """A record's platform-fee row: the same sale or refund (as in migration 0012)."""
    return (
        f"f.order_id = {record}.order_id AND f.vendor_id = {record}.shop_id "
        f"AND f.refund_id IS NOT DISTINCT FROM {record}.refund_id"
    )


def _add_rows(rows: str, sign: str) -> str:
    """Migration 0012's insert and delete: every row, with its fee."""
    return f"""
        INSERT INTO vendor_commission_totals AS t
            (shop_id, status, commission_total, record_count, amount_total, fee_total)
        SELECT c.shop_id, c.status, {sign}sum(c.commission_amount), {sign}count(*),
               {sign}sum(c.order_amount), {sign}coalesce(sum(paired.fee), 0)
        FROM {rows} c
        LEFT JOIN LATERAL (
            SELECT sum(f.fee_amount) AS fee FROM vendor_platform_fees f WHERE {_pair('c')}
        ) paired ON true
        GROUP BY c.shop_id, c.status
        ON CONFLICT (shop_id, status) DO UPDATE
        SET commission_total = t.commission_total + EXCLUDED.commission_total,
            record_count = t.record_count + EXCLUDED.record_count,
            amount_total = t.amount_total + EXCLUDED.amount_total,
            fee_total = t.fee_total + EXCLUDED.fee_total;"""


PAIR_KEYS = "{r}.order_id, {r}.shop_id, {r}.refund_id"
TOTAL_INPUTS = "{r}.shop_id, {r}.status, {r}.commission_amount, {r}.order_amount, {r}.order_id, {r}.refund_id"


def _inputs(template: str, record: str) -> str:
    return "(" + template.format(r=record) + ")"


MOVE_CHANGED_ROWS = f"""
        INSERT INTO vendor_commission_totals AS t
            (shop_id, status, commission_total, record_count, amount_total, fee_total)
        SELECT side.shop_id, side.status, sum(side.commission), sum(side.records),
               sum(side.amount), coalesce(sum(side.fee), 0)
        FROM old_rows o
        JOIN new_rows n ON n.id = o.id
        LEFT JOIN LATERAL (
            SELECT sum(f.fee_amount) AS fee FROM vendor_platform_fees f WHERE {_pair('n')}
        ) new_fee ON true
        -- Looked up only when the update moved the record to another sale or refund.
        LEFT JOIN LATERAL (
            SELECT sum(f.fee_amount) AS fee FROM vendor_platform_fees f
            WHERE {_inputs(PAIR_KEYS, 'o')} IS DISTINCT FROM {_inputs(PAIR_KEYS, 'n')}
              AND {_pair('o')}
        ) moved_fee ON true
        CROSS JOIN LATERAL (VALUES
            (o.shop_id, o.status, -o.commission_amount, -1, -o.order_amount,
             -CASE WHEN {_inputs(PAIR_KEYS, 'o')} IS DISTINCT FROM {_inputs(PAIR_KEYS, 'n')}
                   THEN moved_fee.fee ELSE new_fee.fee END),
            (n.shop_id, n.status, n.commission_amount, 1, n.order_amount, new_fee.fee)
        ) AS side (shop_id, status, commission, records, amount, fee)
        WHERE {_inputs(TOTAL_INPUTS, 'o')} IS DISTINCT FROM {_inputs(TOTAL_INPUTS, 'n')}
        GROUP BY side.shop_id, side.status
        ON CONFLICT (shop_id, status) DO UPDATE
        SET commission_total = t.commission_total + EXCLUDED.commission_total,
            record_count = t.record_count + EXCLUDED.record_count,
            amount_total = t.amount_total + EXCLUDED.amount_total,
            fee_total = t.fee_total + EXCLUDED.fee_total;"""


def _function(update: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION commission_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN{update}
    ELSIF TG_OP = 'DELETE' THEN{_add_rows('old_rows', '-')}
    ELSE{_add_rows('new_rows', '')}
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    op.execute(_function(MOVE_CHANGED_ROWS))


def downgrade():
    # Migration 0012's update: every row out, every row back in.
    op.execute(_function(_add_rows('old_rows', '-') + _add_rows('new_rows', '')))
