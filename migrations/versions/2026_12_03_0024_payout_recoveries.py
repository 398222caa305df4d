"""Recovery payouts (a negative net taken back by reversing an earlier transfer); admin holds.

With ``PAYOUT_NEGATIVE_NET = "reverse"`` a run pays a vendor whose settled records net below zero
(a refund after an earlier payout) with a ``recovery`` payout: a negative amount, sent as a
reversal of one earlier transfer that still has that much left (docs/payouts.md).

* ``payouts.kind``: ``transfer`` (amount >= 0) or ``recovery`` (amount < 0).
* ``payouts.recovered_from_id``: the paid payout whose transfer the recovery reverses.
* ``payouts.stripe_reversal_id``: Stripe's ``trr_`` id, once made.
* ``admin_payout_holds``: an admin's pause of a shop's payouts, with the note saying why, until an
  admin lifts it; runs hold the shop with the reason ``admin_hold``.

Revision ID: e8bfc00c0018
Revises: d36a7b070013
Create Date: 2026-12-03 08:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e8bfc00c0018'
down_revision = 'd36a7b070013'
branch_labels = None
depends_on = None


HOLD_REASONS = (
    "no_account", "payouts_disabled", "transfers_inactive", "below_minimum", "negative_net",
    "platform_balance",
)
WITH_ADMIN_HOLD = HOLD_REASONS + ("admin_hold",)


def _hold_reasons(reasons):
    for table in ('payout_holds', 'payout_run_holds'):
        op.drop_constraint(op.f(f'ck_{table}_reason'), table, type_='check')
        op.create_check_constraint('reason', table, f"reason IN {reasons!r}")


def upgrade():
    op.create_table('admin_payout_holds',
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('placed_by_id', sa.Uuid(), nullable=True),
    sa.Column('placed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_admin_payout_holds_vendor_id_vendors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['placed_by_id'], ['users.id'], name=op.f('fk_admin_payout_holds_placed_by_id_users')),
    sa.PrimaryKeyConstraint('vendor_id', name=op.f('pk_admin_payout_holds'))
    )
    _hold_reasons(WITH_ADMIN_HOLD)
    with op.batch_alter_table('payouts') as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='transfer', nullable=False))
        batch_op.add_column(sa.Column('recovered_from_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('stripe_reversal_id', sa.String(length=255), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_payouts_recovered_from_id_payouts'), 'payouts', ['recovered_from_id'], ['id']
        )
        batch_op.drop_constraint(batch_op.f('ck_payouts_amount_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_payouts_amount_reversed_range'), type_='check')
        batch_op.create_check_constraint('kind', "kind IN ('transfer', 'recovery')")
        batch_op.create_check_constraint(
            'amount_by_kind', "(kind = 'transfer' AND amount >= 0) OR (kind = 'recovery' AND amount < 0)"
        )
        batch_op.create_check_constraint(
            'amount_reversed_range', 'amount_reversed >= 0 AND amount_reversed <= greatest(amount, 0)'
        )
    # Deleting a payout checks the recoveries that name it: without this, one scan of payouts each.
    op.create_index(
        'idx_payouts_recovered_from', 'payouts', ['recovered_from_id'],
        postgresql_where=sa.text('recovered_from_id IS NOT NULL'),
    )


def downgrade():
    op.execute("DELETE FROM payout_holds WHERE reason = 'admin_hold'")
    op.execute("DELETE FROM payout_run_holds WHERE reason = 'admin_hold'")
    _hold_reasons(HOLD_REASONS)
    op.drop_table('admin_payout_holds')
    op.execute("UPDATE commission_records SET payout_id = NULL WHERE payout_id IN (SELECT id FROM payouts WHERE kind = 'recovery')")
    op.execute("DELETE FROM payouts WHERE kind = 'recovery'")
    op.drop_index('idx_payouts_recovered_from', table_name='payouts')
    with op.batch_alter_table('payouts') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payouts_amount_reversed_range'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_payouts_amount_by_kind'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_payouts_kind'), type_='check')
        batch_op.create_check_constraint('amount_not_negative', 'amount >= 0')
        batch_op.create_check_constraint('amount_reversed_range', 'amount_reversed >= 0 AND amount_reversed <= amount')
        batch_op.drop_constraint(batch_op.f('fk_payouts_recovered_from_id_payouts'), type_='foreignkey')
        batch_op.drop_column('stripe_reversal_id')
        batch_op.drop_column('recovered_from_id')
        batch_op.drop_column('kind')
