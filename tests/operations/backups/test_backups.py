"""Backups, the restore test and expire, against a real pgBackRest and the local S3 server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.operations import backups
from portal.operations.backups_alerts import check_archiving
from portal.operations.backups_cluster import wait_until
from portal.operations.backups_models import BackupRun
from portal.operations.backups_restore import run_restore_test
from tests.mailbox import body
from tests.operations.backups.conftest import add_orders

ADMIN = "backups-admin@example.com"


def test_the_scratch_cluster_counts_as_configured(ctx):
    assert backups.configuration().configured is True


def test_a_full_backup_is_recorded_with_its_label_and_reference(ctx, full_backup):
    record = db.session.get(BackupRun, full_backup)
    labels = [b["label"] for b in backups.repository_info()["backup"]]

    assert record.kind == "full"
    assert record.outcome == "succeeded"
    assert record.label in labels
    assert record.label.endswith("F")
    assert record.restore_point == f"portal-backup-{record.id}"
    assert record.reference["orders"] == [3, "30.55"]
    assert record.reference["vendors"][0] == 1
    assert record.finished_at >= record.started_at


def test_the_restore_test_restores_the_backup_as_it_was_and_cleans_up(ctx, full_backup, app):
    add_orders([Decimal("99.99")], shop="After The Backup")  # not in the backup's restore point

    record = run_restore_test()

    assert record.outcome == "succeeded", record.detail
    assert record.backup_run_id == full_backup
    assert record.reference["orders"] == [3, "30.55"]  # what the restored copy held
    assert "sums match" in record.detail
    assert list(Path(app.config["BACKUP_SCRATCH_DIR"]).iterdir()) == []
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{app.config['BACKUP_SCRATCH_PORT']}/x")


def test_a_restore_test_that_fails_is_recorded_and_mailed(ctx, full_backup, mailbox):
    broken = BackupRun(
        kind="full",
        outcome="succeeded",
        label="20000101-000000F",
        restore_point="portal-backup-0",
        reference={},
    )
    db.session.add(broken)
    db.session.commit()
    try:
        record = run_restore_test()
    finally:
        db.session.delete(broken)
        db.session.commit()

    assert record.outcome == "failed"
    assert "20000101-000000F" in record.detail
    message = mailbox.last_to(ADMIN)
    assert message["Subject"] == "Backups: The restore test failed"
    assert "20000101-000000F" in body(message)


def test_an_incremental_backup_and_expire(ctx, full_backup):
    record = backups.run_backup("incr")
    expired = backups.run_expire()

    assert record.outcome == "succeeded", record.detail
    assert record.label.endswith("I")
    assert record.reference["orders"][0] >= 3
    info = backups.repository_info()
    assert {b["type"] for b in info["backup"]} >= {"full", "incr"}
    assert expired.outcome == "succeeded", expired.detail


def test_a_failed_backup_is_recorded_and_mails_the_admins(
    ctx, full_backup, mailbox, app, monkeypatch
):
    monkeypatch.setitem(app.config, "BACKUP_STANZA", "no-such-stanza")

    record = backups.run_backup("full")

    assert record.outcome == "failed"
    assert "no-such-stanza" in record.detail
    message = mailbox.last_to(ADMIN)
    assert message["Subject"] == "Backups: The full backup failed"
    assert "/admin/operations" in body(message)


def test_archive_lag_past_the_threshold_mails_once_a_while(
    ctx, full_backup, mailbox, app, monkeypatch
):
    ctx.execute(sa.text("SELECT 1"))
    monkeypatch.setitem(app.config, "BACKUP_ARCHIVE_LAG_ALERT_SECONDS", -1)  # any wait is late

    first = check_archiving()
    second = check_archiving()

    assert first == second == ["archive-lag"]
    lagging = [m for m in mailbox.to(ADMIN) if "falling behind" in m["Subject"]]
    assert len(lagging) == 1  # the second check found the same problem and did not mail again


def test_wal_archiving_that_fails_mails_the_admins(ctx, full_backup, mailbox, primary):
    def on_primary(*statements):
        with psycopg.connect(primary.url(), autocommit=True) as connection:
            results = [connection.execute(sql) for sql in statements]
            return [result.fetchone() if result.description else None for result in results]

    on_primary("ALTER SYSTEM SET archive_command = 'false'", "SELECT pg_reload_conf()")
    try:
        segment = on_primary(
            "SELECT pg_walfile_name(pg_current_wal_lsn())", "SELECT pg_switch_wal()"
        )
        assert wait_until(
            lambda: (
                on_primary("SELECT last_failed_wal FROM pg_stat_archiver")[0][0] == segment[0][0]
            ),
            30,
        )
        problems = check_archiving()
    finally:
        on_primary("ALTER SYSTEM RESET archive_command", "SELECT pg_reload_conf()")

    assert "archive-failing" in problems
    message = [m for m in mailbox.to(ADMIN) if "failing" in m["Subject"]][-1]
    assert message["Subject"] == "Backups: WAL archiving is failing"
    assert segment[0][0] in body(message)
    with db.engine.connect() as connection:  # archiving catches up once it works again
        on_primary("SELECT pg_switch_wal()")
        assert wait_until(lambda: backups._archived_past(connection, segment[0][0]), 60)
