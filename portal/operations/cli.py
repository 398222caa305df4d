"""``flask partitions ...``: create and inspect the partitions of the partitioned tables;
``flask ops ...``: run a retention or maintenance job now (``--dry-run``: say what it would do)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .jobs import OPERATIONS_JOBS, ensure_partitions_each_committed, run_operations_job
from .partitions import list_partitions

partitions_cli = AppGroup("partitions", help="Create and inspect table partitions.")


@partitions_cli.command("ensure")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m"]),
    help="Also create every period from this month (YYYY-MM) on, before back-filling history.",
)
def ensure_command(since) -> None:
    """Create the partitions for the current period and the periods ahead (moving default rows)."""
    created = ensure_partitions_each_committed(since=since.date() if since else None)
    for name in created:
        click.echo(f"created {name}")
    if not created:
        click.echo("Every partition already exists.")


@partitions_cli.command("list")
def list_command() -> None:
    """Show each partition with its bounds and row count (~ marks an estimate)."""
    for partition in list_partitions():
        rows = f"{partition.rows}" if partition.rows_exact else f"~{partition.rows}"
        click.echo(f"{partition.name:<34} {rows:>10}  {partition.bounds}")


ops_cli = AppGroup("ops", help="Retention, maintenance and backup jobs (docs/operations.md).")


def _add_ops_command(name: str, title: str) -> None:
    @ops_cli.command(name, help=f"{title}. With --dry-run, print what it would do.")
    @click.option("--dry-run", is_flag=True, help="Change nothing; print what would be done.")
    def command(dry_run: bool) -> None:
        run = run_operations_job(name, dry_run=dry_run)
        if run is None:
            raise click.ClickException("Another operations job is running; try again later.")
        click.echo(run.summary)
        for line in run.detail.get("months", []):
            click.echo(f"  {line}")
        for item in run.detail.get("chosen", []):
            click.echo(f"  {item['name']}: {item['why']}")


for _job in OPERATIONS_JOBS.values():
    _add_ops_command(_job.name, _job.title)
