"""Stripe Connect onboarding claims, handled webhook events, vendors' own bank payouts.

* ``stripe_onboarding``: one row per vendor, claimed (with the account creation's idempotency
  key) before the connected account is created, so a double click or a second tab never makes a
  second account; keeps ``details_submitted`` and ``disconnected_at`` (deauthorized) too.
* ``stripe_events``: the id of each webhook event handled (a replay changes nothing), with its
  endpoint (``platform``, ``connect``), type, account and Stripe's ``created``.
* ``vendor_bank_payouts``: Stripe's payouts from a vendor's connected account to its bank
  (``payout.*`` on the Connect endpoint), for the vendor's payouts page.

Revision ID: ce1b2c02000e
Revises: cd5a7e01000d
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'ce1b2c02000e'
down_revision = 'cd5a7e01000d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stripe_onboarding',
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('stripe_account_id', sa.String(length=255), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('claimed_by_id', sa.Uuid(), nullable=True),
    sa.Column('details_submitted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('disconnected_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'], name=op.f('fk_stripe_onboarding_claimed_by_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_stripe_onboarding_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('vendor_id', name=op.f('pk_stripe_onboarding')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_stripe_onboarding_idempotency_key')),
    sa.UniqueConstraint('stripe_account_id', name=op.f('uq_stripe_onboarding_stripe_account_id'))
    )
    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('endpoint', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('account', sa.String(length=255), nullable=True),
    sa.Column('stripe_created', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('handled', sa.Boolean(), nullable=False),
    sa.CheckConstraint("endpoint IN ('platform', 'connect')", name=op.f('ck_stripe_events_endpoint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    op.create_table('vendor_bank_payouts',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('stripe_account_id', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('arrival_date', sa.DateTime(), nullable=True),
    sa.Column('failure_code', sa.String(length=100), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_bank_payouts_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_bank_payouts'))
    )
    with op.batch_alter_table('vendor_bank_payouts', schema=None) as batch_op:
        batch_op.create_index('idx_vendor_bank_payouts_vendor', ['vendor_id', sa.literal_column('created DESC')], unique=False)


def downgrade():
    with op.batch_alter_table('vendor_bank_payouts', schema=None) as batch_op:
        batch_op.drop_index('idx_vendor_bank_payouts_vendor')
    op.drop_table('vendor_bank_payouts')
    op.drop_table('stripe_events')
    op.drop_table('stripe_onboarding')
