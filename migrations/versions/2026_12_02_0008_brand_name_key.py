"""Brands get a normalised name key: "MOLESKINE" and "Moleskine" are one brand.

Existing brands whose names normalise alike are merged into the oldest-named one (products and
master products point at it), as the application would have reused it. The key is computed here
with the rule as it stands today (portal/catalog/services.py: brand_key), frozen in this file.

Revision ID: c8c3108f0008
Revises: c7b20f8e0007
Create Date: 2026-12-02 06:00:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c8c3108f0008'
down_revision = 'c7b20f8e0007'
branch_labels = None
depends_on = None


def _brand_key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    key = "".join(ch for ch in folded if ch.isalnum()) or "".join(folded.split())
    return key[:255]


def upgrade():
    op.add_column('brands', sa.Column('name_key', sa.String(length=255), nullable=True))
    connection = op.get_bind()
    keepers: dict[str, object] = {}
    for brand_id, name in connection.execute(sa.text("SELECT id, name FROM brands ORDER BY name, id")):
        key = _brand_key(name)
        keeper = keepers.setdefault(key, brand_id)
        if keeper == brand_id:
            connection.execute(
                sa.text("UPDATE brands SET name_key = :key WHERE id = :id"), {"key": key, "id": brand_id}
            )
            continue
        for table in ('products', 'master_products'):
            connection.execute(
                sa.text(f"UPDATE {table} SET brand_id = :keeper WHERE brand_id = :id"),
                {"keeper": keeper, "id": brand_id},
            )
        connection.execute(sa.text("DELETE FROM brands WHERE id = :id"), {"id": brand_id})
    op.alter_column('brands', 'name_key', nullable=False)
    op.create_unique_constraint(op.f('uq_brands_name_key'), 'brands', ['name_key'])


def downgrade():
    op.drop_constraint(op.f('uq_brands_name_key'), 'brands', type_='unique')
    op.drop_column('brands', 'name_key')
