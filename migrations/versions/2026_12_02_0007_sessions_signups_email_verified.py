"""Server-side sign-in sessions, sign-ups waiting for their mailed link, verified emails.

Signing out deletes the browser's ``user_sessions`` row, so a copied session cookie signs nobody
in; a sign-up is a ``signup_requests`` row until its address's owner opens the mailed link.

Revision ID: c7b20f8e0007
Revises: c6a10e7d0006
Create Date: 2026-12-02 05:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'c7b20f8e0007'
down_revision = 'c6a10e7d0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(), nullable=True))
    op.create_table('user_sessions',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    op.create_index('ix_user_sessions_user_id', 'user_sessions', ['user_id'], unique=False)
    op.create_table('signup_requests',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("role IN ('customer', 'vendor', 'driver')", name=op.f('ck_signup_requests_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signup_requests')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_signup_requests_token_hash'))
    )
    op.create_index('ix_signup_requests_email', 'signup_requests', ['email'], unique=False)


def downgrade():
    op.drop_index('ix_signup_requests_email', table_name='signup_requests')
    op.drop_table('signup_requests')
    op.drop_index('ix_user_sessions_user_id', table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_column('users', 'email_verified_at')
