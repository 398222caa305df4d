"""``flask ops ...``: the backup jobs by hand, and recovery to a point in time.

flask ops backup --type full      flask ops restore-test      flask ops expire
flask ops check-archiving         flask ops backups
flask ops recover --to "2026-12-04 21:30:00" --into /var/tmp/recovered --port 55440
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from .backups import BackupsNotConfigured, configuration, require_configured, run_backup, run_expire
from .backups_alerts import check_archiving
from .backups_cluster import give_to
from .backups_models import BackupRun
from .backups_restore import recover_to_time, run_restore_test
from .backups_status import backup_overview

ops_cli = AppGroup("ops", help="Operations: backups, restore tests, recovery.")


def _report(record: BackupRun | None) -> None:
    if record is None:
        click.echo("Skipped: another backup is running.")
        return
    click.echo(
        f"{record.kind} #{record.id}: {record.outcome}"
        + (f" ({record.label})" if record.label else "")
    )
    if record.detail:
        click.echo(record.detail)
    if record.outcome == "failed":
        raise SystemExit(1)


def _configured() -> None:
    try:
        require_configured()
    except BackupsNotConfigured as missing:
        raise click.ClickException(f"Backups are not configured: {missing}") from None


@ops_cli.command("backup")
@click.option("--type", "kind", type=click.Choice(["full", "incr"]), default="full")
def backup_command(kind: str) -> None:
    """Take a backup now (and its reference for the restore test)."""
    _configured()
    _report(run_backup(kind))


@ops_cli.command("restore-test")
def restore_test_command() -> None:
    """Restore the latest backup into a scratch copy, compare it with its source, clean up."""
    _configured()
    _report(run_restore_test())


@ops_cli.command("expire")
def expire_command() -> None:
    """Drop backups beyond the retention count (pgBackRest's expire)."""
    _configured()
    _report(run_expire())


@ops_cli.command("check-archiving")
def check_archiving_command() -> None:
    """Check WAL archiving now (mails the admins about a failure or lag, as the job does)."""
    _configured()
    problems = check_archiving()
    click.echo("WAL archiving: " + (", ".join(problems) if problems else "ok"))


@ops_cli.command("backups")
def backups_command() -> None:
    """Whether backups are configured, the latest backup and the last restore test."""
    overview = backup_overview()
    state = configuration()
    click.echo("configured" if state.configured else f"not configured: {state.reason}")
    for name, record in (
        ("backup", overview.latest_backup),
        ("restore test", overview.latest_restore_test),
    ):
        if record is None:
            click.echo(f"latest {name}: none")
        else:
            click.echo(
                f"latest {name}: #{record.id} {record.kind} {record.outcome} "
                f"{record.started_at:%Y-%m-%d %H:%M} UTC {record.label or ''}".rstrip()
            )
    if overview.archive:
        click.echo(
            f"WAL archive lag: {overview.archive.lag_seconds:.0f} s, "
            f"{overview.archive.waiting_segments} segments waiting"
        )


@ops_cli.command("recover")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"]),
    help="The moment to recover to, UTC.",
)
@click.option(
    "--into",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new folder for the recovered copy (it must not exist).",
)
@click.option("--port", type=int, help="The copy's port on 127.0.0.1 (BACKUP_SCRATCH_PORT).")
def recover_command(target, folder: Path, port: int | None) -> None:
    """Recover the database as it was at a moment into a new folder, and start it there.

    The running server is not touched: inspect the copy, take what you need from it, or follow
    docs/operations.md to make it the new primary. Stop it with pg_ctl -D FOLDER/data stop.
    """
    _configured()
    if folder.exists():
        raise click.ClickException(f"{folder} exists: give a new folder")
    from flask import current_app

    folder.mkdir(parents=True)
    give_to(folder, current_app.config["BACKUP_RUN_AS"])
    instance = recover_to_time(target.replace(tzinfo=UTC), folder, port)
    click.echo(f"Recovered to {target} UTC: {instance.url()} (data {instance.data_dir})")


def register(app: Flask) -> None:
    """Add the commands to an ``ops`` group already registered, or register this one."""
    existing = app.cli.commands.get("ops")
    if isinstance(existing, click.Group) and existing is not ops_cli:
        for command in ops_cli.commands.values():
            existing.add_command(command)
    else:
        app.cli.add_command(ops_cli)
