"""Referral visits: one row per (visitor cookie, shop), and retention's index.

* ``unique_referral_session_shop (session_id, shop_id)``: a visitor's first touch of a shop is
  recorded once, however many tabs race (``INSERT … ON CONFLICT DO NOTHING``).
* ``idx_referrals_unconverted_first_visit``: the nightly retention job finds unconverted rows past
  ``REFERRAL_RETENTION_DAYS`` a batch at a time, oldest first, without reading the converted ones.

Revision ID: c3e2f4a60033
Revises: d4f3a5b70034
Create Date: 2026-12-04 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e2f4a60033'
down_revision = 'd4f3a5b70034'
branch_labels = None
depends_on = None


def upgrade():
    op.create_unique_constraint(
        op.f('unique_referral_session_shop'), 'shop_referrals', ['session_id', 'shop_id']
    )
    op.create_index(
        'idx_referrals_unconverted_first_visit',
        'shop_referrals',
        ['first_visit_at'],
        unique=False,
        postgresql_where=sa.text('converted_at IS NULL'),
    )


def downgrade():
    op.drop_index(
        'idx_referrals_unconverted_first_visit',
        table_name='shop_referrals',
        postgresql_where=sa.text('converted_at IS NULL'),
    )
    op.drop_constraint(op.f('unique_referral_session_shop'), 'shop_referrals', type_='unique')
