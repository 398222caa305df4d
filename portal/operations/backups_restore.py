"""Restoring from pgBackRest into a scratch folder: the weekly restore test and recovery to a time.

Nothing here touches the running server: the backup is restored into a new folder under
``BACKUP_SCRATCH_DIR`` and started on ``BACKUP_SCRATCH_PORT`` of 127.0.0.1 with archiving off (so
the copy never writes into the repository) and a trust-only ``pg_hba.conf`` of its own (only this
machine can reach it, and only while the test runs).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import psycopg
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import make_url

from ..clock import as_utc
from ..extensions import db
from .backups import _finish, _if_configured, _start, compare, measure_sql, pgbackrest
from .backups_cluster import CommandFailed, LocalInstance, give_to, wait_until
from .backups_models import BackupRun

log = logging.getLogger(__name__)

# A restored Debian cluster has its configuration in /etc/postgresql, not in the data folder.
_MINIMAL_CONF = "# written by the portal's restore: the source kept its configuration elsewhere\n"
_HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\n"


def scratch_instance(folder: Path, port: int | None = None) -> LocalInstance:
    config = current_app.config
    return LocalInstance(
        data_dir=folder / "data",
        port=port or config["BACKUP_SCRATCH_PORT"],
        run_as=config["BACKUP_RUN_AS"],
        bindir=Path(config["BACKUP_PG_BINDIR"]),
        timeout=config["BACKUP_RESTORE_START_SECONDS"],
    )


def new_scratch_folder() -> Path:
    parent = Path(current_app.config["BACKUP_SCRATCH_DIR"])
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="restore-", dir=parent))
    give_to(folder, current_app.config["BACKUP_RUN_AS"])
    return folder


def restore_and_start(instance: LocalInstance, *target: str) -> None:
    """Restore into ``instance.data_dir`` with the target options given, start it, wait until
    recovery reached its target and the copy was promoted."""
    instance.data_dir.mkdir(mode=0o700)
    give_to(instance.data_dir, instance.run_as)
    pgbackrest(
        "restore",
        f"--pg1-path={instance.data_dir}",
        "--archive-mode=off",
        "--target-action=promote",
        *target,
    )
    conf = instance.data_dir / "postgresql.conf"
    if not conf.exists():
        conf.write_text(_MINIMAL_CONF)
    hba = instance.socket_dir / "restore_hba.conf"
    hba.write_text(_HBA)
    give_to(hba, instance.run_as)
    hba.chmod(0o600)
    instance.start({"hba_file": str(hba), "ident_file": str(hba), "archive_mode": "off"})
    if not wait_until(lambda: _promoted(instance), instance.timeout, interval=0.3):
        raise CommandFailed(["postgres"], None, "recovery did not finish:\n" + instance.log_tail())


def _promoted(instance: LocalInstance) -> bool:
    try:
        with psycopg.connect(instance.url(), connect_timeout=3) as connection:
            return not connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]
    except psycopg.OperationalError:
        return False


def database_name() -> str:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database


def measure(instance: LocalInstance, tables: dict[str, str | None]) -> dict:
    with psycopg.connect(instance.url(database_name())) as connection:
        return connection.execute(measure_sql(tables)).fetchone()[0]


def discard(instance: LocalInstance) -> None:
    """Stop the copy and remove its folder, whatever state it is in."""
    try:
        instance.stop()
    except CommandFailed:
        log.exception("could not stop the restored copy on port %s", instance.port)
    shutil.rmtree(instance.socket_dir, ignore_errors=True)


def run_restore_test() -> BackupRun:
    """Restore the latest checked backup to its restore point, compare, record, clean up."""
    from .backups_alerts import alert_failed_run

    backup = db.session.scalars(
        sa.select(BackupRun)
        .where(
            BackupRun.kind.in_(("full", "incr")),
            BackupRun.outcome == "succeeded",
            BackupRun.restore_point.is_not(None),
        )
        .order_by(BackupRun.started_at.desc(), BackupRun.id.desc())
        .limit(1)
    ).first()
    record = _start("restore_test", backup_run_id=backup.id if backup else None)
    if backup is None:
        _finish(record, "failed", "No checked backup to restore yet.")
        alert_failed_run(record)
        return record
    record.label = backup.label
    record.restore_point = backup.restore_point
    instance = scratch_instance(new_scratch_folder())
    try:
        restore_and_start(
            instance, f"--set={backup.label}", "--type=name", f"--target={backup.restore_point}"
        )
        reference = backup.reference or {}
        found = measure(instance, _tables_of(reference))
        record.reference = found
        problems = compare(reference, found)
    except (CommandFailed, psycopg.Error) as failure:
        problems = None
        _finish(record, "failed", str(failure))
    finally:
        discard(instance)
    if problems is None:
        alert_failed_run(record)
        return record
    if problems:
        _finish(record, "failed", "; ".join(problems))
        alert_failed_run(record)
        return record
    rows = sum(rows for rows, _ in reference.values())
    return _finish(
        record, "succeeded", f"{len(reference)} tables, {rows:,} rows, sums match to the cent."
    )


def _tables_of(reference: dict) -> dict[str, str | None]:
    """The tables a reference measured, with the money column each was summed by."""
    columns = current_app.config["BACKUP_CHECK_TABLES"]
    return {table: columns.get(table) for table in reference}


def recover_to_time(target: datetime, folder: Path, port: int | None = None) -> LocalInstance:
    """Point-in-time recovery into ``folder``: the state committed at ``target`` (UTC), started
    on ``port`` and left running for the operator (``discard`` stops and removes it)."""
    instance = scratch_instance(folder, port)
    moment = as_utc(target).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    restore_and_start(instance, "--type=time", f"--target={moment}")
    return instance


@_if_configured
def restore_test_job() -> int:
    """Weekly: restore the latest backup into a scratch folder and compare it with its source."""
    return run_restore_test().id
