"""The referrals page's reads: monthly and per-shop-day sums of referral_daily_stats, kept by
triggers, and a covering index of a shop's converted visits.

* ``referral_monthly_stats`` (shop, month, UTM source, campaign) and ``referral_shop_days``
  (shop, day): ``referral_daily_stats`` summed, so the page's table, totals and weekly chart read
  a shop's months and days instead of its days times every UTM triple. Statement-level triggers
  with transition tables keep them exact for every writer of the daily rows (as migration 0005
  keeps ``vendor_commission_totals``); an ``INSERT ... ON CONFLICT DO UPDATE`` fires the insert
  trigger for the rows it inserted and the update trigger for those it updated. Filled here from
  the daily rows already there.
* ``idx_referrals_shop_converted`` on ``shop_referrals (shop_id, converted_at)``, partial
  (``converted_at IS NOT NULL``) and covering the UTM source and campaign and ``lifetime_value``:
  the page's lifetime value of a period reads only the shop's converted visits, from the index.

Revision ID: e5a4b6c80035
Revises: a1c0e2f40031
Create Date: 2026-12-04 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a4b6c80035'
down_revision = 'a1c0e2f40031'
branch_labels = None
depends_on = None


def _add(rows: str, sign: str) -> str:
    return f"""
        INSERT INTO referral_monthly_stats AS m
            (shop_id, month, utm_source, utm_campaign, visits, conversions, orders, revenue)
        SELECT shop_id, date_trunc('month', day)::date, utm_source, utm_campaign,
               {sign}sum(visits), {sign}sum(conversions), {sign}sum(orders), {sign}sum(revenue)
        FROM {rows} GROUP BY 1, 2, 3, 4
        ON CONFLICT (shop_id, month, utm_source, utm_campaign) DO UPDATE
        SET visits = m.visits + EXCLUDED.visits, conversions = m.conversions + EXCLUDED.conversions,
            orders = m.orders + EXCLUDED.orders, revenue = m.revenue + EXCLUDED.revenue;
        INSERT INTO referral_shop_days AS d (shop_id, day, visits, conversions, orders, revenue)
        SELECT shop_id, day, {sign}sum(visits), {sign}sum(conversions), {sign}sum(orders),
               {sign}sum(revenue)
        FROM {rows} GROUP BY 1, 2
        ON CONFLICT (shop_id, day) DO UPDATE
        SET visits = d.visits + EXCLUDED.visits, conversions = d.conversions + EXCLUDED.conversions,
            orders = d.orders + EXCLUDED.orders, revenue = d.revenue + EXCLUDED.revenue;"""


APPLY_FUNCTION = f"""
CREATE FUNCTION referral_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN{_add('old_rows', '-')}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN{_add('new_rows', '')}
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = {
    "referral_rollups_insert": "AFTER INSERT ON referral_daily_stats REFERENCING NEW TABLE AS new_rows",
    "referral_rollups_update": (
        "AFTER UPDATE ON referral_daily_stats REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "referral_rollups_delete": "AFTER DELETE ON referral_daily_stats REFERENCING OLD TABLE AS old_rows",
}


def upgrade():
    op.create_table('referral_monthly_stats',
    sa.Column('shop_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('utm_source', sa.String(length=100), server_default='', nullable=False),
    sa.Column('utm_campaign', sa.String(length=100), server_default='', nullable=False),
    sa.Column('visits', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('conversions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('orders', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('revenue', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_referral_monthly_stats_shop_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'month', 'utm_source', 'utm_campaign', name=op.f('pk_referral_monthly_stats'))
    )
    op.create_table('referral_shop_days',
    sa.Column('shop_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visits', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('conversions', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('orders', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('revenue', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_referral_shop_days_shop_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'day', name=op.f('pk_referral_shop_days'))
    )
    with op.batch_alter_table('shop_referrals', schema=None) as batch_op:
        batch_op.create_index(
            'idx_referrals_shop_converted',
            ['shop_id', 'converted_at'],
            unique=False,
            postgresql_include=['utm_source', 'utm_campaign', 'lifetime_value'],
            postgresql_where=sa.text('converted_at IS NOT NULL'),
        )
    op.execute(APPLY_FUNCTION)
    for name, timing in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {timing} FOR EACH STATEMENT EXECUTE FUNCTION referral_rollups_apply()")
    op.execute(_add('referral_daily_stats', ''))


def downgrade():
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON referral_daily_stats")
    op.execute("DROP FUNCTION referral_rollups_apply()")
    with op.batch_alter_table('shop_referrals', schema=None) as batch_op:
        batch_op.drop_index(
            'idx_referrals_shop_converted', postgresql_where=sa.text('converted_at IS NOT NULL')
        )
    op.drop_table('referral_shop_days')
    op.drop_table('referral_monthly_stats')
