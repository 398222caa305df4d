"""Maintenance jobs choose their tables from PostgreSQL's statistics and change them.

These run for real outside any test transaction (VACUUM and REINDEX CONCURRENTLY refuse one) on
a probe table made here and dropped after; the thresholds are set so the probe qualifies and the
suite's own small tables do not.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.operations import maintenance
from portal.operations.jobs import run_operations_job
from portal.operations.models import JobRun
from portal.operations.runs import OPERATIONS_LOCK, autocommit_connection, recorded_run

PROBE = "maintenance_probe"


def stats(connection, column: str):
    connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return connection.scalar(
        sa.text(f"SELECT {column} FROM pg_stat_user_tables WHERE relname = :t"), {"t": PROBE}
    )


def flushed_stats(connection, column: str, wanted) -> object:
    """Statistics reach the views a moment after the writes: wait (a little) until they do."""
    for _ in range(50):
        value = stats(connection, column)
        if wanted(value):
            return value
        time.sleep(0.1)
    return stats(connection, column)


@pytest.fixture
def probe(app, monkeypatch):
    for key, value in {
        "ANALYZE_MIN_MODIFIED_ROWS": 5000,
        "ANALYZE_MODIFIED_SHARE": 0.5,
        "VACUUM_MIN_DEAD_ROWS": 5000,
        "VACUUM_DEAD_SHARE": 0.3,
        "REINDEX_MIN_BYTES": 200 * 1024,
        "REINDEX_MIN_LEAF_DENSITY": 60.0,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    with app.app_context():
        with autocommit_connection() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {PROBE}"))
            connection.execute(sa.text(f"CREATE TABLE {PROBE} (id int PRIMARY KEY, note text)"))
            connection.execute(
                sa.text(f"INSERT INTO {PROBE} SELECT g, 'x' FROM generate_series(1, 20000) g")
            )
            connection.execute(sa.text(f"ANALYZE {PROBE}"))
            connection.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        yield
        db.session.rollback()
        with autocommit_connection() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {PROBE}"))
            connection.execute(sa.delete(JobRun))


def write(statement: str) -> None:
    with autocommit_connection() as connection:
        connection.execute(sa.text(statement))
        connection.execute(sa.text("SELECT pg_stat_force_next_flush()"))


def chosen_names(chosen) -> set[str]:
    return {item.name for item in chosen}


def latest_run(name: str) -> JobRun:
    db.session.rollback()
    return db.session.scalars(
        sa.select(JobRun).where(JobRun.job_name == name).order_by(JobRun.id.desc())
    ).first()


def test_analyze_takes_the_tables_changed_past_the_threshold(probe):
    write(f"UPDATE {PROBE} SET note = 'y' WHERE id <= 15000")
    with autocommit_connection() as connection:
        flushed_stats(connection, "n_mod_since_analyze", lambda n: n and n >= 15000)
    assert f'"{PROBE}"' in chosen_names(maintenance.tables_to_analyze())

    run = run_operations_job("analyze")

    assert f'"{PROBE}"' in run.summary
    with autocommit_connection() as connection:
        assert flushed_stats(connection, "n_mod_since_analyze", lambda n: n == 0) == 0
        assert stats(connection, "last_analyze") is not None
    assert f'"{PROBE}"' not in chosen_names(maintenance.tables_to_analyze())
    recorded = latest_run("analyze")
    assert recorded.outcome == "succeeded" and recorded.duration is not None
    (why,) = [item["why"] for item in recorded.detail["chosen"] if item["name"] == f'"{PROBE}"']
    assert int(why.split(" rows changed")[0]) >= 15000  # the page says why it was chosen


def test_vacuum_takes_the_tables_with_many_dead_rows_and_clears_them(probe):
    write(f"DELETE FROM {PROBE} WHERE id <= 12000")
    with autocommit_connection() as connection:
        flushed_stats(connection, "n_dead_tup", lambda n: n and n >= 12000)
    assert f'"{PROBE}"' in chosen_names(maintenance.tables_to_vacuum())

    dry = run_operations_job("vacuum", dry_run=True)
    assert dry.summary.startswith("Would run VACUUM (ANALYZE) on")
    with autocommit_connection() as connection:
        assert stats(connection, "last_vacuum") is None

    run_operations_job("vacuum")

    with autocommit_connection() as connection:
        assert flushed_stats(connection, "n_dead_tup", lambda n: n == 0) == 0
        assert stats(connection, "last_vacuum") is not None
    assert f'"{PROBE}"' not in chosen_names(maintenance.tables_to_vacuum())


def leaf_density() -> float:
    with autocommit_connection() as connection:
        return connection.scalar(
            sa.text(f"SELECT avg_leaf_density FROM pgstatindex('{PROBE}_pkey')")
        )


def test_reindex_rebuilds_a_sparse_index_concurrently(probe):
    assert maintenance.has_pgstattuple()  # the migration installs it where the server offers it
    write(f"DELETE FROM {PROBE} WHERE id % 10 <> 0")
    write(f"VACUUM {PROBE}")  # the deleted entries leave the index's pages mostly empty
    sparse = leaf_density()
    assert sparse < 60
    chosen, sizes = maintenance.indexes_to_reindex()
    assert chosen_names(chosen) == {f'"{PROBE}_pkey"'}

    run_operations_job("reindex")

    assert leaf_density() > sparse + 20
    assert maintenance.indexes_to_reindex()[0] == []
    recorded = latest_run("reindex")
    assert recorded.outcome == "succeeded"
    assert recorded.detail["index_sizes"][f"{PROBE}_pkey"] < sizes[f"{PROBE}_pkey"]


def test_a_job_that_finds_another_running_is_skipped_and_says_so(probe):
    with autocommit_connection() as holder:
        assert holder.scalar(sa.select(sa.func.pg_try_advisory_lock(OPERATIONS_LOCK)))
        try:
            assert run_operations_job("analyze") is None
        finally:
            holder.scalar(sa.select(sa.func.pg_advisory_unlock(OPERATIONS_LOCK)))
    recorded = latest_run("analyze")
    assert recorded.outcome == "skipped"
    assert run_operations_job("analyze") is not None  # the lock is free again


def test_a_failing_job_records_its_failure_and_raises(probe):
    with pytest.raises(RuntimeError), recorded_run("analyze"):
        raise RuntimeError("the disk is full")
    recorded = latest_run("analyze")
    assert recorded.outcome == "failed" and "the disk is full" in recorded.summary
    assert recorded.ended_at is not None
