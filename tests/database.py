"""Database helpers shared by tests that commit for real."""

import sqlalchemy as sa

from portal.extensions import db


def empty_all_tables() -> None:
    tables = db.session.scalars(
        sa.text(
            "SELECT quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "AND c.relname NOT IN ('alembic_version', 'spatial_ref_sys')"
        )
    ).all()
    db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    db.session.commit()
