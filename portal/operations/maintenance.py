"""Maintenance: ANALYZE, VACUUM (ANALYZE) and REINDEX ... CONCURRENTLY of the tables that need it.

The tables are chosen from PostgreSQL's own statistics, with thresholds in configuration:

* ANALYZE (daily): ``n_mod_since_analyze`` of ``pg_stat_user_tables`` at least
  ``ANALYZE_MIN_MODIFIED_ROWS`` and ``ANALYZE_MODIFIED_SHARE`` of the live rows. Autovacuum never
  analyses a partitioned parent, so a parent is analysed whenever one of its partitions is.
* VACUUM (ANALYZE) (weekly): dead tuples at least ``VACUUM_MIN_DEAD_ROWS`` and
  ``VACUUM_DEAD_SHARE`` of live + dead.
* REINDEX INDEX CONCURRENTLY (monthly): B-tree indexes of at least ``REINDEX_MIN_BYTES`` whose
  average leaf density (``pgstatindex`` of ``pgstattuple``) is below ``REINDEX_MIN_LEAF_DENSITY``;
  without the extension, those that grew ``REINDEX_GROWTH_FACTOR`` times since the sizes the last
  run recorded (the first run records them).

VACUUM and ``REINDEX CONCURRENTLY`` refuse to run inside a transaction block, so each statement
runs on a connection of its own in autocommit; one statement per table or index, so a failure
names it and the earlier ones stay done.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from .runs import Run, autocommit_connection, last_detail

REINDEX_JOB = "reindex"


@dataclass(frozen=True)
class Chosen:
    name: str  # schema-qualified, quoted: ready for a statement
    why: str


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables_to_analyze() -> list[Chosen]:
    config = current_app.config
    rows = db.session.execute(
        sa.text(
            """
            SELECT s.relname, s.n_mod_since_analyze, s.n_live_tup, parent.relname AS parent
            FROM pg_stat_user_tables s
            LEFT JOIN pg_inherits i ON i.inhrelid = s.relid
            LEFT JOIN pg_class parent ON parent.oid = i.inhparent
            WHERE s.schemaname = current_schema()
              AND s.n_mod_since_analyze >= :min_rows
              AND s.n_mod_since_analyze >= :share * greatest(s.n_live_tup, 1)
            ORDER BY s.n_mod_since_analyze DESC, s.relname
            """
        ),
        {
            "min_rows": config["ANALYZE_MIN_MODIFIED_ROWS"],
            "share": config["ANALYZE_MODIFIED_SHARE"],
        },
    ).all()
    chosen = [
        Chosen(_quoted(r.relname), f"{r.n_mod_since_analyze} rows changed of {r.n_live_tup}")
        for r in rows
    ]
    parents = sorted({r.parent for r in rows if r.parent})
    chosen += [Chosen(_quoted(p), "a partition of it was analysed") for p in parents]
    return chosen


def tables_to_vacuum() -> list[Chosen]:
    config = current_app.config
    rows = db.session.execute(
        sa.text(
            """
            SELECT relname, n_dead_tup, n_live_tup FROM pg_stat_user_tables
            WHERE schemaname = current_schema() AND n_dead_tup >= :min_dead
              AND n_dead_tup >= :share * greatest(n_live_tup + n_dead_tup, 1)
            ORDER BY n_dead_tup DESC, relname
            """
        ),
        {"min_dead": config["VACUUM_MIN_DEAD_ROWS"], "share": config["VACUUM_DEAD_SHARE"]},
    ).all()
    return [
        Chosen(_quoted(r.relname), f"{r.n_dead_tup} dead of {r.n_live_tup + r.n_dead_tup}")
        for r in rows
    ]


def has_pgstattuple() -> bool:
    return bool(
        db.session.scalar(
            sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'pgstattuple'")
        )
    )


def _btree_indexes() -> list[tuple[str, int]]:
    """(name, bytes) of every B-tree index on a plain table or partition, largest first."""
    return [
        (row[0], row[1])
        for row in db.session.execute(
            sa.text(
                """
                SELECT c.relname, pg_relation_size(c.oid) FROM pg_stat_user_indexes s
                JOIN pg_class c ON c.oid = s.indexrelid
                JOIN pg_am am ON am.oid = c.relam
                WHERE s.schemaname = current_schema() AND am.amname = 'btree'
                  AND c.relkind = 'i'
                ORDER BY 2 DESC, 1
                """
            )
        )
    ]


def indexes_to_reindex() -> tuple[list[Chosen], dict[str, int]]:
    """The indexes to rebuild, and every B-tree index's size now (recorded for the next run)."""
    config = current_app.config
    sizes = dict(_btree_indexes())
    big = [name for name, size in sizes.items() if size >= config["REINDEX_MIN_BYTES"]]
    chosen = []
    if has_pgstattuple():
        for name in big:
            density = db.session.scalar(
                sa.text("SELECT avg_leaf_density FROM pgstatindex(CAST(:i AS regclass))"),
                {"i": _quoted(name)},
            )
            if density is not None and density < config["REINDEX_MIN_LEAF_DENSITY"]:
                chosen.append(Chosen(_quoted(name), f"leaf density {density:.0f}%"))
        return chosen, sizes
    before = last_detail(REINDEX_JOB).get("index_sizes", {})
    for name in big:
        was = before.get(name)
        if was and sizes[name] >= was * config["REINDEX_GROWTH_FACTOR"]:
            chosen.append(Chosen(_quoted(name), f"grew from {was} to {sizes[name]} bytes"))
    return chosen, sizes


def _run_each(run: Run, statement: str, chosen: list[Chosen]) -> None:
    run.detail["chosen"] = [{"name": c.name, "why": c.why} for c in chosen]
    if run.dry_run:
        run.summary = f"Would run {statement} on {len(chosen)}: " + ", ".join(
            c.name for c in chosen
        )
        return
    db.session.commit()  # the statements below wait for no snapshot of ours
    with autocommit_connection() as connection:
        for number, item in enumerate(chosen, 1):
            run.progress(f"{statement} {item.name} ({number} of {len(chosen)})")
            connection.execute(sa.text(f"{statement} {item.name}"))
    run.summary = f"{statement} on {len(chosen)}: " + ", ".join(c.name for c in chosen)


def analyze_tables(run: Run) -> None:
    _run_each(run, "ANALYZE", tables_to_analyze())


def vacuum_tables(run: Run) -> None:
    _run_each(run, "VACUUM (ANALYZE)", tables_to_vacuum())


def reindex_indexes(run: Run) -> None:
    chosen, sizes = indexes_to_reindex()
    _run_each(run, "REINDEX INDEX CONCURRENTLY", chosen)
    if not run.dry_run:
        sizes.update(dict(_btree_indexes()))  # the rebuilt ones' new sizes
    run.detail["index_sizes"] = sizes
