"""Sums of a payout's records still to be marked: ``payouts.unmarked_count``, ``unmarked_amount``,
``unmarked_commission``, ``unmarked_fee``.

Until the marking job (portal/payouts/marking.py) has written a paid payout's records, the pages
read them as paid, and the kept per-status totals count them as settled. The totals of those
records (count, Σ order_amount, Σ commission_amount, Σ paired fee) are kept on the payout: written
by grouping with the payout, lowered by each marking batch in the commit that writes its records,
so a page corrects the kept totals from a few payout rows instead of hashing the vendor's listed
ids against its records (docs/performance.md, "Payout run"). Payouts still claiming their records
are filled here from the records they list that are still settled.

Revision ID: f1a2b3c40037
Revises: c0d1e2f30045
Create Date: 2026-12-04 21:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c40037'
down_revision = 'c0d1e2f30045'
branch_labels = None
depends_on = None

COLUMNS = ('unmarked_count', 'unmarked_amount', 'unmarked_commission', 'unmarked_fee')


def upgrade():
    op.add_column('payouts', sa.Column('unmarked_count', sa.Integer(), server_default='0', nullable=False))
    for name in COLUMNS[1:]:
        op.add_column('payouts', sa.Column(name, sa.Numeric(14, 2), server_default='0', nullable=False))
    op.execute(
        """
        UPDATE payouts p SET unmarked_count = s.records, unmarked_amount = s.amount,
               unmarked_commission = s.commission, unmarked_fee = s.fee
        FROM (SELECT p.id, count(*) AS records, sum(c.order_amount) AS amount,
                     sum(c.commission_amount) AS commission, coalesce(sum(f.fee), 0) AS fee
              FROM payouts p
              CROSS JOIN LATERAL unnest(p.commission_ids) AS listed(id)
              JOIN commission_records c ON c.id = listed.id AND c.status = 'settled'
              LEFT JOIN LATERAL (
                  SELECT sum(v.fee_amount) AS fee FROM vendor_platform_fees v
                  WHERE v.order_id = c.order_id AND v.vendor_id = c.shop_id
                    AND v.refund_id IS NOT DISTINCT FROM c.refund_id) f ON true
              WHERE p.records_marked_at IS NULL
              GROUP BY p.id) s
        WHERE p.id = s.id
        """
    )
    op.create_check_constraint('unmarked_count_not_negative', 'payouts', 'unmarked_count >= 0')


def downgrade():
    op.drop_constraint('unmarked_count_not_negative', 'payouts', type_='check')
    for name in reversed(COLUMNS):
        op.drop_column('payouts', name)
