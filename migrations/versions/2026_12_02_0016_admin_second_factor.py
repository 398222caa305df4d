"""Admins' second factor: TOTP secrets, recovery codes, and the sessions that proved them.

* ``admin_second_factors``: one per admin: the confirmed TOTP secret and a pending one waiting
  for its first code (both sealed with a key derived from SECRET_KEY), when it was confirmed, and the time step of the last accepted code (a code
  is refused once it, or a later one, was used: replays).
* ``admin_recovery_codes``: single-use codes, only their SHA-256, with when each was used.
* ``second_factor_checks``: when a signed-in session last proved the second factor; deleted with
  its ``user_sessions`` row (signing out, a password change).

Revision ID: d03d4e040010
Revises: cf2c3d03000f
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'd03d4e040010'
down_revision = 'cf2c3d03000f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_second_factors',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=True),
    sa.Column('pending_sealed', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_admin_second_factors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_admin_second_factors'))
    )
    op.create_table('admin_recovery_codes',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_admin_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_recovery_codes'))
    )
    with op.batch_alter_table('admin_recovery_codes', schema=None) as batch_op:
        batch_op.create_index('ix_admin_recovery_codes_user_id', ['user_id'], unique=False)

    op.create_table('second_factor_checks',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['user_sessions.id'], name=op.f('fk_second_factor_checks_session_id_user_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_second_factor_checks'))
    )


def downgrade():
    op.drop_table('second_factor_checks')
    with op.batch_alter_table('admin_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_recovery_codes_user_id')

    op.drop_table('admin_recovery_codes')
    op.drop_table('admin_second_factors')
