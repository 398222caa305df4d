"""The referrals page's reads: monthly and per-shop-day sums of referral_daily_stats and of the
converted visits' lifetime values, kept by triggers.

* ``referral_monthly_stats`` (shop, month, UTM source, campaign) and ``referral_shop_days``
  (shop, day): ``referral_daily_stats`` summed, so the page's table, totals and weekly chart read
  a shop's months and days instead of its days times every UTM triple; and the visits converted
  in that month or day (``shop_referrals.converted_at``) with their ``lifetime_value`` summed, for
  the page's lifetime value, instead of every converted visit of the period.
* Statement-level triggers with transition tables keep them exact for every writer (as migration
  0005 keeps ``vendor_commission_totals``): on ``referral_daily_stats`` for the counts, on
  ``shop_referrals`` for the converted visits (a visit's lifetime value changes with each of its
  orders and refunds; retention's deletes of unconverted visits change nothing). An
  ``INSERT ... ON CONFLICT DO UPDATE`` fires the insert trigger for the rows it inserted and the
  update trigger for those it updated. Both are filled here from the rows already there.

Revision ID: e5a4b6c80035
Revises: c3e2f4a60033
Create Date: 2026-12-04 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a4b6c80035'
down_revision = 'c3e2f4a60033'
branch_labels = None
depends_on = None

COUNTS = ("visits", "conversions", "orders", "revenue")
LIFETIME = ("converted_visits", "lifetime_value")


def _upsert(table: str, key: tuple[str, ...], columns: tuple[str, ...], select: str) -> str:
    """``INSERT INTO table (key, columns) <select> ON CONFLICT (key)``: add the columns."""
    added = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in columns)
    return (
        f"INSERT INTO {table} AS t ({', '.join(key + columns)}) {select} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {added};"
    )


MONTH_KEY = ("shop_id", "month", "utm_source", "utm_campaign")
DAY_KEY = ("shop_id", "day")


def _add_counts(rows: str, sign: str) -> str:
    sums = ", ".join(f"{sign}sum({c})" for c in COUNTS)
    return _upsert(
        "referral_monthly_stats", MONTH_KEY, COUNTS,
        f"SELECT shop_id, date_trunc('month', day)::date, utm_source, utm_campaign, {sums} "
        f"FROM {rows} GROUP BY 1, 2, 3, 4",
    ) + _upsert(
        "referral_shop_days", DAY_KEY, COUNTS,
        f"SELECT shop_id, day, {sums} FROM {rows} GROUP BY 1, 2",
    )


def _add_lifetime(rows: str, sign: str) -> str:
    sums = f"{sign}count(*), {sign}sum(lifetime_value)"
    converted = "WHERE converted_at IS NOT NULL"
    return _upsert(
        "referral_monthly_stats", MONTH_KEY, LIFETIME,
        f"SELECT shop_id, date_trunc('month', converted_at)::date, coalesce(utm_source, ''), "
        f"coalesce(utm_campaign, ''), {sums} FROM {rows} {converted} GROUP BY 1, 2, 3, 4",
    ) + _upsert(
        "referral_shop_days", DAY_KEY, LIFETIME,
        f"SELECT shop_id, converted_at::date, {sums} FROM {rows} {converted} GROUP BY 1, 2",
    )


def _function(name: str, add) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {add('old_rows', '-')}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {add('new_rows', '')}
    END IF;
    RETURN NULL;
END
$$
"""


FUNCTIONS = {
    "referral_daily_sums_apply": ("referral_daily_stats", _add_counts),
    "referral_lifetime_sums_apply": ("shop_referrals", _add_lifetime),
}


def _triggers(function: str, table: str) -> dict[str, str]:
    return {
        f"{function}_insert": f"AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows",
        f"{function}_update": (
            f"AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        ),
        f"{function}_delete": f"AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows",
    }


def _amounts() -> list[sa.Column]:
    return [
        sa.Column('visits', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('conversions', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('orders', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('revenue', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
        sa.Column('converted_visits', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('lifetime_value', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    ]


def upgrade():
    op.create_table('referral_monthly_stats',
    sa.Column('shop_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('utm_source', sa.String(length=100), server_default='', nullable=False),
    sa.Column('utm_campaign', sa.String(length=100), server_default='', nullable=False),
    *_amounts(),
    sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_referral_monthly_stats_shop_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'month', 'utm_source', 'utm_campaign', name=op.f('pk_referral_monthly_stats'))
    )
    op.create_table('referral_shop_days',
    sa.Column('shop_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    *_amounts(),
    sa.ForeignKeyConstraint(['shop_id'], ['vendors.id'], name=op.f('fk_referral_shop_days_shop_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'day', name=op.f('pk_referral_shop_days'))
    )
    for function, (table, add) in FUNCTIONS.items():
        op.execute(_function(function, add))
        for name, timing in _triggers(function, table).items():
            op.execute(f"CREATE TRIGGER {name} {timing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
        op.execute(add(table, ''))


def downgrade():
    for function, (table, _) in FUNCTIONS.items():
        for name in _triggers(function, table):
            op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_table('referral_shop_days')
    op.drop_table('referral_monthly_stats')
