"""The catalog matcher's tables: runs, proposals, review decisions, merge redirects, remap requests.

* ``master_products`` gains what the matcher keeps per master (``model_codes``, ``match_text``)
  and three GIN indexes for blocking: trigrams on ``normalized_name`` (``pg_trgm``), the model
  codes, and a generated ``search_vector`` (``'simple'``: model numbers must not be stemmed).
* ``match_method`` gains ``model_number``, ``model`` and ``new_master`` (docs/catalog-matching.md),
  on mappings and proposals alike.
* One pending proposal and one open remap request per product at most (partial unique indexes).

Revision ID: a7c5e9d10036
Revises: e5a4b6c80035
Create Date: 2026-12-04 21:37:24.628425

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import portal.clock

# revision identifiers, used by Alembic.
revision = 'a7c5e9d10036'
down_revision = 'e5a4b6c80035'
branch_labels = None
depends_on = None


OLD_METHODS = "('gtin', 'sku', 'exact_name', 'fuzzy', 'embedding', 'manual')"
NEW_METHODS = (
    "('gtin', 'sku', 'model_number', 'exact_name', 'fuzzy', 'embedding', 'model', 'manual',"
    " 'new_master')"
)


def _mapping_methods(methods: str) -> None:
    op.drop_constraint(
        op.f('ck_vendor_product_mappings_match_method'), 'vendor_product_mappings', type_='check'
    )
    op.create_check_constraint(
        op.f('ck_vendor_product_mappings_match_method'),
        'vendor_product_mappings',
        f"match_method IN {methods}",
    )


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _mapping_methods(NEW_METHODS)
    op.create_table('catalog_match_runs',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('vendor_id', sa.Uuid(), nullable=True),
    sa.Column('requested_by_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='queued', nullable=False),
    sa.Column('total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('exact_matched', sa.Integer(), server_default='0', nullable=False),
    sa.Column('auto_mapped', sa.Integer(), server_default='0', nullable=False),
    sa.Column('proposed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('new_masters', sa.Integer(), server_default='0', nullable=False),
    sa.Column('notice', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('job_id', sa.String(length=255), nullable=True),
    sa.Column('started_at', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('finished_at', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("scope IN ('products', 'vendor', 'catalog')", name=op.f('ck_catalog_match_runs_scope')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_catalog_match_runs_status')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_catalog_match_runs_requested_by_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_catalog_match_runs_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_match_runs'))
    )
    with op.batch_alter_table('catalog_match_runs', schema=None) as batch_op:
        batch_op.create_index('idx_catalog_match_runs_created', [sa.literal_column('created_at DESC')], unique=False)

    op.create_table('master_product_redirects',
    sa.Column('slug', sa.String(length=255), nullable=False),
    sa.Column('master_product_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.ForeignKeyConstraint(['master_product_id'], ['master_products.id'], name=op.f('fk_master_product_redirects_master_product_id_master_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_master_product_redirects'))
    )
    with op.batch_alter_table('master_product_redirects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_master_product_redirects_master_product_id'), ['master_product_id'], unique=False)

    op.create_table('match_proposals',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('vendor_product_id', sa.Uuid(), nullable=False),
    sa.Column('master_product_id', sa.Uuid(), nullable=False),
    sa.Column('confidence', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('match_method', sa.String(length=20), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("match_method IN ('gtin', 'sku', 'model_number', 'exact_name', 'fuzzy', 'embedding', 'model', 'manual', 'new_master')", name=op.f('ck_match_proposals_match_method')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'superseded')", name=op.f('ck_match_proposals_status')),
    sa.CheckConstraint('confidence >= 0 AND confidence <= 1', name=op.f('ck_match_proposals_confidence_range')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_match_proposals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['master_product_id'], ['master_products.id'], name=op.f('fk_match_proposals_master_product_id_master_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['catalog_match_runs.id'], name=op.f('fk_match_proposals_run_id_catalog_match_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_match_proposals_vendor_id_vendors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_product_id'], ['products.id'], name=op.f('fk_match_proposals_vendor_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_proposals'))
    )
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.create_index('idx_match_proposals_master', ['master_product_id'], unique=False)
        batch_op.create_index('idx_match_proposals_queue', ['status', sa.literal_column('confidence DESC'), 'id'], unique=False)
        batch_op.create_index('idx_match_proposals_vendor', ['vendor_id', 'status'], unique=False)
        batch_op.create_index('unique_pending_proposal_per_product', ['vendor_product_id'], unique=True, postgresql_where=sa.text("status = 'pending'"))

    op.create_table('remap_requests',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='open', nullable=False),
    sa.Column('resolved_by_id', sa.Uuid(), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('resolved_at', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'resolved', 'declined')", name=op.f('ck_remap_requests_status')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_remap_requests_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_remap_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_remap_requests_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_remap_requests_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remap_requests'))
    )
    with op.batch_alter_table('remap_requests', schema=None) as batch_op:
        batch_op.create_index('idx_remap_requests_status', ['status', 'created_at'], unique=False)
        batch_op.create_index('unique_open_remap_request_per_product', ['product_id'], unique=True, postgresql_where=sa.text("status = 'open'"))

    op.create_table('match_decisions',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('admin_id', sa.Uuid(), nullable=True),
    sa.Column('proposal_id', sa.Uuid(), nullable=True),
    sa.Column('vendor_product_id', sa.Uuid(), nullable=True),
    sa.Column('master_product_id', sa.Uuid(), nullable=True),
    sa.Column('label', sa.SmallInteger(), nullable=True),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('undo_of_id', sa.Uuid(), nullable=True),
    sa.Column('undone_at', portal.clock.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.clock.UTCDateTime(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.CheckConstraint("kind IN ('approve', 'reject', 'remap', 'new_master', 'merge', 'bulk_approve', 'undo')", name=op.f('ck_match_decisions_kind')),
    sa.CheckConstraint('label IN (0, 1)', name=op.f('ck_match_decisions_label')),
    sa.ForeignKeyConstraint(['admin_id'], ['users.id'], name=op.f('fk_match_decisions_admin_id_users')),
    sa.ForeignKeyConstraint(['master_product_id'], ['master_products.id'], name=op.f('fk_match_decisions_master_product_id_master_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['match_proposals.id'], name=op.f('fk_match_decisions_proposal_id_match_proposals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['undo_of_id'], ['match_decisions.id'], name=op.f('fk_match_decisions_undo_of_id_match_decisions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_product_id'], ['products.id'], name=op.f('fk_match_decisions_vendor_product_id_products'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_decisions'))
    )
    with op.batch_alter_table('match_decisions', schema=None) as batch_op:
        batch_op.create_index('idx_match_decisions_admin', ['admin_id', sa.literal_column('created_at DESC')], unique=False)
        batch_op.create_index('idx_match_decisions_created', [sa.literal_column('created_at DESC')], unique=False)

    with op.batch_alter_table('master_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_codes', postgresql.ARRAY(sa.String(length=64)), server_default=sa.text("'{}'::varchar[]"), nullable=False))
        batch_op.add_column(sa.Column('match_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple'::regconfig, coalesce(match_text, normalized_name))", persisted=True), nullable=False))
        batch_op.create_index('idx_master_products_model_codes', ['model_codes'], unique=False, postgresql_using='gin')
        batch_op.create_index('idx_master_products_name_trgm', ['normalized_name'], unique=False, postgresql_using='gin', postgresql_ops={'normalized_name': 'gin_trgm_ops'})
        batch_op.create_index('idx_master_products_search', ['search_vector'], unique=False, postgresql_using='gin')



def downgrade():
    with op.batch_alter_table('master_products', schema=None) as batch_op:
        batch_op.drop_index('idx_master_products_search', postgresql_using='gin')
        batch_op.drop_index('idx_master_products_name_trgm', postgresql_using='gin', postgresql_ops={'normalized_name': 'gin_trgm_ops'})
        batch_op.drop_index('idx_master_products_model_codes', postgresql_using='gin')
        batch_op.drop_column('search_vector')
        batch_op.drop_column('match_text')
        batch_op.drop_column('model_codes')

    with op.batch_alter_table('match_decisions', schema=None) as batch_op:
        batch_op.drop_index('idx_match_decisions_created')
        batch_op.drop_index('idx_match_decisions_admin')

    op.drop_table('match_decisions')
    with op.batch_alter_table('remap_requests', schema=None) as batch_op:
        batch_op.drop_index('unique_open_remap_request_per_product', postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index('idx_remap_requests_status')

    op.drop_table('remap_requests')
    with op.batch_alter_table('match_proposals', schema=None) as batch_op:
        batch_op.drop_index('unique_pending_proposal_per_product', postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index('idx_match_proposals_vendor')
        batch_op.drop_index('idx_match_proposals_queue')
        batch_op.drop_index('idx_match_proposals_master')

    op.drop_table('match_proposals')
    with op.batch_alter_table('master_product_redirects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_master_product_redirects_master_product_id'))

    op.drop_table('master_product_redirects')
    with op.batch_alter_table('catalog_match_runs', schema=None) as batch_op:
        batch_op.drop_index('idx_catalog_match_runs_created')

    op.drop_table('catalog_match_runs')
    op.execute(
        "UPDATE vendor_product_mappings SET match_method = 'manual'"
        " WHERE match_method IN ('model_number', 'model', 'new_master')"
    )
    _mapping_methods(OLD_METHODS)
