"""The storefront's catalog search: a weighted search vector and the offered masters' indexes.

* ``master_products.storefront_vector``: generated, ``'simple'`` like the matcher's
  ``search_vector`` (model numbers must not be stemmed), weighted: the normalised name A, the model
  codes B, the match text (brand, model attributes, description) C, so a match in the name ranks
  above one in the description. The brand's name is in the match text already
  (``catalog.mapping.refresh_match_fields``); a generated column cannot read ``brands``.
* Partial indexes over the masters some shop offers (``vendor_count > 0``, the only ones the
  storefront lists): GIN on the vector, and ``(lowest_price, id)``, ``(vendor_count, id)``,
  ``(created_at, id)`` for the sorts, read forwards or backwards a page at a time.

Revision ID: b9c0d1e20044
Revises: f7a8b9c00042
Create Date: 2026-12-04 22:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b9c0d1e20044'
down_revision = 'f7a8b9c00042'
branch_labels = None
depends_on = None

VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, normalized_name), 'A')"
    " || array_to_tsvector(model_codes::text[])"
    " || setweight(to_tsvector('simple'::regconfig, coalesce(match_text, '')), 'C')"
)
OFFERED = sa.text("vendor_count > 0")
SORT_INDEXES = (
    ("idx_master_products_offered_price", "lowest_price"),
    ("idx_master_products_offered_shops", "vendor_count"),
    ("idx_master_products_offered_newest", "created_at"),
)


def upgrade():
    with op.batch_alter_table('master_products', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'storefront_vector',
                postgresql.TSVECTOR(),
                sa.Computed(VECTOR, persisted=True),
                nullable=False,
            )
        )
        batch_op.create_index(
            'idx_master_products_storefront_search',
            ['storefront_vector'],
            unique=False,
            postgresql_using='gin',
            postgresql_where=OFFERED,
        )
        for name, column in SORT_INDEXES:
            batch_op.create_index(name, [column, 'id'], unique=False, postgresql_where=OFFERED)


def downgrade():
    with op.batch_alter_table('master_products', schema=None) as batch_op:
        for name, _ in reversed(SORT_INDEXES):
            batch_op.drop_index(name, postgresql_where=OFFERED)
        batch_op.drop_index(
            'idx_master_products_storefront_search', postgresql_using='gin', postgresql_where=OFFERED
        )
        batch_op.drop_column('storefront_vector')
