"""``flask partitions ...``: create and inspect the partitions of the partitioned tables."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .jobs import ensure_partitions_each_committed
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
