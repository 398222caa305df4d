"""backup_runs: the outcome of every backup, restore test and expire run (pgBackRest).

One row per run, written when it starts (outcome ``running``) and updated when it ends, so a run
killed halfway shows as still running with its start time. A backup row keeps pgBackRest's label,
the restore point created right after it and the row counts and money sums of the main tables at
that restore point (``reference``); the weekly restore test restores to that point and compares.

Revision ID: c4d5e6f70039
Revises: a8b9c0d10043
Create Date: 2026-12-04 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c4d5e6f70039'
down_revision = 'a8b9c0d10043'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'backup_runs',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('outcome', sa.String(length=20), server_default='running', nullable=False),
        sa.Column('started_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('label', sa.String(length=64), nullable=True),
        sa.Column('restore_point', sa.String(length=64), nullable=True),
        sa.Column('reference', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('backup_run_id', sa.BigInteger(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('full', 'incr', 'restore_test', 'expire')", name=op.f('ck_backup_runs_kind')),
        sa.CheckConstraint("outcome IN ('running', 'succeeded', 'failed')", name=op.f('ck_backup_runs_outcome')),
        sa.ForeignKeyConstraint(['backup_run_id'], ['backup_runs.id'], name=op.f('fk_backup_runs_backup_run_id_backup_runs'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_runs')),
    )
    op.create_index('ix_backup_runs_kind_started', 'backup_runs', ['kind', 'started_at'], unique=False)


def downgrade():
    op.drop_index('ix_backup_runs_kind_started', table_name='backup_runs')
    op.drop_table('backup_runs')
