"""Payout records marked in the background: ``payouts.records_marked``, ``records_marked_at``.

A run no longer writes the commission records it pays: a paid payout's records read as paid
through its ``commission_ids`` until the marking job (portal/payouts/marking.py) has written
them, in small batches; ``records_marked`` is how far it got, ``records_marked_at`` when it was
done (the payout stops claiming its records then). Payouts whose records the old code already
marked (paid, of a finished run) are marked done here.

Revision ID: d4f3a5b70034
Revises: a1c0e2f40031
Create Date: 2026-12-04 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f3a5b70034'
down_revision = 'a1c0e2f40031'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('payouts', sa.Column('records_marked', sa.Integer(), server_default='0', nullable=False))
    op.add_column('payouts', sa.Column('records_marked_at', sa.DateTime(), nullable=True))
    op.execute(
        """
        UPDATE payouts SET records_marked_at = coalesce(processed_at, updated_at),
               records_marked = coalesce(cardinality(coalesce(commission_ids, earning_ids)), 0)
        WHERE status = 'paid'
          AND (batch_id IS NULL
               OR batch_id NOT IN (SELECT id FROM payout_runs WHERE status = 'running'))
        """
    )
    op.create_index('idx_payouts_unmarked', 'payouts', ['vendor_id'], unique=False, postgresql_where=sa.text('records_marked_at IS NULL'))


def downgrade():
    op.drop_index('idx_payouts_unmarked', table_name='payouts', postgresql_where=sa.text('records_marked_at IS NULL'))
    op.drop_column('payouts', 'records_marked_at')
    op.drop_column('payouts', 'records_marked')
