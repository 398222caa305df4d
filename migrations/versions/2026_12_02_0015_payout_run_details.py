"""Payout run details: what Stripe reversed of a payout's transfer.

* ``payouts.amount_reversed`` (default 0) and ``payouts.reversed_at``: kept from the
  ``transfer.reversed`` / ``transfer.updated`` webhooks and from the portal's own recovery of a
  negative net; a check keeps the reversed amount within the payout's.

Revision ID: cf2c3d03000f
Revises: ce1b2c02000e
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'cf2c3d03000f'
down_revision = 'ce1b2c02000e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount_reversed', sa.Numeric(precision=10, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reversed_at', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint('amount_reversed_range', 'amount_reversed >= 0 AND amount_reversed <= amount')


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_constraint('amount_reversed_range', type_='check')
        batch_op.drop_column('reversed_at')
        batch_op.drop_column('amount_reversed')
