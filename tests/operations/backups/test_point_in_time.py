"""Point-in-time recovery (docs/operations.md, "Recover to a time"): rows written before the
noted time come back, rows written after it do not."""

from __future__ import annotations

import time

import psycopg
import sqlalchemy as sa

from portal.extensions import db
from portal.operations.backups import _archived_past
from portal.operations.backups_cluster import wait_until
from portal.operations.backups_restore import (
    database_name,
    discard,
    new_scratch_folder,
    recover_to_time,
)
from tests.operations.backups.conftest import free_port


def write(note: str, ids: range) -> None:
    db.session.execute(
        sa.text(
            "INSERT INTO pitr_marks (id, note) SELECT g, :note"
            " FROM generate_series(CAST(:a AS int), CAST(:b AS int)) g"
        ),
        {"note": note, "a": ids.start, "b": ids.stop - 1},
    )
    db.session.commit()


def test_recovery_to_a_noted_time_finds_exactly_the_rows_written_before_it(ctx, full_backup):
    db.session.execute(sa.text("CREATE TABLE pitr_marks (id int PRIMARY KEY, note text)"))
    write("before", range(1, 6))
    noted = db.session.scalar(sa.text("SELECT clock_timestamp()"))
    db.session.commit()
    time.sleep(1.1)  # the later rows commit clearly after the noted time
    write("after", range(6, 11))
    segment = db.session.scalar(sa.text("SELECT pg_walfile_name(pg_current_wal_lsn())"))
    db.session.execute(sa.text("SELECT pg_switch_wal()"))
    db.session.commit()
    with db.engine.connect() as connection:
        assert wait_until(lambda: _archived_past(connection, segment), 60, interval=0.3)

    instance = recover_to_time(noted, new_scratch_folder(), port=free_port())
    try:
        with psycopg.connect(instance.url(database_name())) as connection:
            rows = connection.execute("SELECT id, note FROM pitr_marks ORDER BY id").fetchall()
    finally:
        discard(instance)

    assert rows == [(i, "before") for i in range(1, 6)]
