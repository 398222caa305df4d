"""Backups with pgBackRest: daily full and hourly incremental backups, monthly ``expire``.

Each run is a :class:`BackupRun` row, committed when it starts and again when it ends, and a
failure mails the admins (``backups_alerts``). Right after a backup succeeds the job takes the
backup's *reference*: under a SHARE lock on the main tables (``BACKUP_CHECK_TABLES``: writers
wait, readers don't) it counts their rows and sums their money, then creates a named restore
point and releases the locks, so the counts are exactly what a recovery to that restore point
must find. The weekly restore test (``backups_restore``) restores there and compares.

Backups are *configured* only when pgBackRest, its configuration file and a server that archives
WAL through it are all there; the jobs do nothing otherwise and the operations page says why.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..extensions import db
from .backups_cluster import CommandFailed, run, wait_until
from .backups_models import BackupRun

log = logging.getLogger(__name__)

#: pgBackRest's exit code when another backup holds the stanza's lock.
LOCK_HELD = 50


class BackupsNotConfigured(RuntimeError):
    """pgBackRest or WAL archiving is not set up here; the message says what is missing."""


@dataclass(frozen=True)
class Configuration:
    configured: bool
    reason: str = ""


def configuration() -> Configuration:
    """Are backups set up on this machine and server? If not, what is missing, in words."""
    config = current_app.config
    if shutil.which(config["BACKUP_PGBACKREST"]) is None:
        return Configuration(False, "pgBackRest is not installed (Debian package pgbackrest).")
    if not Path(config["BACKUP_PGBACKREST_CONFIG"]).is_file():
        return Configuration(
            False, f"pgBackRest has no configuration at {config['BACKUP_PGBACKREST_CONFIG']}."
        )
    try:
        mode, command = db.session.execute(
            sa.text("SELECT current_setting('archive_mode'), current_setting('archive_command')")
        ).one()
    except sa.exc.DBAPIError:
        db.session.rollback()
        return Configuration(False, "The database does not show its archiving settings.")
    if mode not in ("on", "always"):
        return Configuration(
            False, "The database server does not archive WAL (archive_mode is off)."
        )
    if "pgbackrest" not in command:
        return Configuration(False, "The server's archive_command does not call pgBackRest.")
    return Configuration(True)


def require_configured() -> None:
    state = configuration()
    if not state.configured:
        raise BackupsNotConfigured(state.reason)


def pgbackrest(command: str, *options: str) -> str:
    """Run one pgBackRest command for the portal's stanza as the cluster's owner."""
    config = current_app.config
    return run(
        [
            config["BACKUP_PGBACKREST"],
            f"--config={config['BACKUP_PGBACKREST_CONFIG']}",
            f"--stanza={config['BACKUP_STANZA']}",
            *options,
            command,
        ],
        config["BACKUP_RUN_AS"],
        config["BACKUP_COMMAND_TIMEOUT_SECONDS"],
    )


def repository_info() -> dict:
    """pgBackRest's ``info`` for the stanza (backups, WAL range, status)."""
    stanzas = json.loads(pgbackrest("info", "--output=json"))
    return stanzas[0] if stanzas else {}


def _start(kind: str, **values) -> BackupRun:
    record = BackupRun(kind=kind, started_at=utcnow(), **values)
    db.session.add(record)
    db.session.commit()  # visible as running while pgBackRest works
    return record


def _finish(record: BackupRun, outcome: str, detail: str | None = None) -> BackupRun:
    record.outcome = outcome
    record.detail = detail
    record.finished_at = utcnow()
    db.session.commit()
    return record


# --- the reference: counts and sums at a restore point --------------------------------------


def check_tables() -> dict[str, str | None]:
    """The configured tables that exist in this database, with their money column or None."""
    tables = current_app.config["BACKUP_CHECK_TABLES"]
    existing = set(
        db.session.scalars(
            sa.text(
                "SELECT c.relname FROM pg_class c WHERE c.relname = ANY(:names)"
                " AND c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)"
            ),
            {"names": list(tables)},
        )
    )
    return {table: column for table, column in tables.items() if table in existing}


def measure_sql(tables: dict[str, str | None]) -> str:
    """One query giving ``{table: [rows, sum]}`` as JSON (sums as text, to keep every cent)."""
    if not tables:
        return "SELECT '{}'::jsonb"
    parts = [
        f"(SELECT jsonb_build_object('{table}', jsonb_build_array(count(*), "
        + (f"coalesce(sum({column}), 0)::text" if column else "null")
        + f")) FROM {table})"
        for table, column in tables.items()
    ]
    return "SELECT " + " || ".join(parts)


def take_reference(name: str) -> tuple[dict, str]:
    """Counts and sums of the main tables, and a restore point ``name`` at exactly that state.

    Returns the reference and the WAL segment holding the restore point, which is switched out
    and waited for until archived (a restore to the point needs it in the repository).
    """
    tables = check_tables()
    with db.engine.connect() as connection:
        with connection.begin():
            connection.execute(sa.text("SET LOCAL lock_timeout = '30s'"))
            if tables:
                connection.execute(sa.text(f"LOCK TABLE {', '.join(tables)} IN SHARE MODE"))
            reference = connection.execute(sa.text(measure_sql(tables))).scalar_one()
            segment = connection.execute(
                sa.text("SELECT pg_walfile_name(pg_create_restore_point(:name))"), {"name": name}
            ).scalar_one()
        connection.execute(sa.text("SELECT pg_switch_wal()"))
        connection.commit()
        archived = wait_until(
            lambda: _archived_past(connection, segment),
            current_app.config["BACKUP_RESTORE_START_SECONDS"],
            interval=0.5,
        )
    if not archived:
        raise CommandFailed(["archive"], None, f"WAL segment {segment} was not archived in time")
    return reference, segment


def _archived_past(connection, segment: str) -> bool:
    last = connection.execute(sa.text("SELECT last_archived_wal FROM pg_stat_archiver")).scalar()
    connection.commit()
    return last is not None and last[:24] >= segment


def compare(reference: dict, found: dict) -> list[str]:
    """What differs between two measurements, in words (empty: they match)."""
    problems = []
    for table, (rows, total) in sorted(reference.items()):
        if table not in found:
            problems.append(f"{table}: missing from the restored database")
            continue
        found_rows, found_total = found[table]
        if found_rows != rows:
            problems.append(f"{table}: {found_rows} rows restored, {rows} at the backup")
        if total is not None and Decimal(found_total) != Decimal(total):
            problems.append(f"{table}: sum {found_total} restored, {total} at the backup")
    return problems


# --- the jobs -------------------------------------------------------------------------------


def run_backup(kind: str) -> BackupRun | None:
    """One backup (``full`` or ``incr``) and its reference; None when another backup runs."""
    if kind not in ("full", "incr"):
        raise ValueError(f"kind must be full or incr, not {kind!r}")
    require_configured()
    from .backups_alerts import alert_failed_run

    record = _start(kind)
    try:
        pgbackrest("backup", f"--type={kind}")
    except CommandFailed as failure:
        if failure.returncode == LOCK_HELD:
            # The other backup covers this slot; an incremental overlapping the full is expected.
            db.session.delete(record)
            db.session.commit()
            log.info("backup %s skipped: another backup holds the lock", kind)
            return None
        _finish(record, "failed", str(failure))
        alert_failed_run(record)
        return record
    try:
        backups = repository_info().get("backup", [])
        record.label = backups[-1]["label"] if backups else None
        record.restore_point = f"portal-backup-{record.id}"
        record.reference, _ = take_reference(record.restore_point)
    except (CommandFailed, sa.exc.DBAPIError, KeyError, ValueError) as failure:
        db.session.rollback()
        _finish(
            record, "failed", f"the backup {record.label} was taken, its check was not: {failure}"
        )
        alert_failed_run(record)
        return record
    return _finish(record, "succeeded")


def run_expire() -> BackupRun:
    """pgBackRest's own retention: drop backups (and WAL) beyond the configured count."""
    require_configured()
    from .backups_alerts import alert_failed_run

    record = _start("expire")
    try:
        pgbackrest("expire")
    except CommandFailed as failure:
        _finish(record, "failed", str(failure))
        alert_failed_run(record)
        return record
    return _finish(record, "succeeded")


def _if_configured(job):
    def wrapper(*args, **kwargs):
        state = configuration()
        if not state.configured:
            log.info("%s: backups are not configured: %s", job.__name__, state.reason)
            return None
        return job(*args, **kwargs)

    wrapper.__name__ = job.__name__
    wrapper.__doc__ = job.__doc__
    return wrapper


@_if_configured
def full_backup_job() -> int | None:
    """Daily: a full backup."""
    record = run_backup("full")
    return record.id if record else None


@_if_configured
def incremental_backup_job() -> int | None:
    """Hourly: an incremental backup on top of the latest one."""
    record = run_backup("incr")
    return record.id if record else None


@_if_configured
def expire_job() -> int:
    """Monthly: pgBackRest's expire."""
    return run_expire().id
