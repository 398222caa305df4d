"""``flask positions ...``: the drivers' position history (portal/deliveries/positions.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import positions

positions_cli = AppGroup("positions", help="Drivers' position pings and their history.")


@positions_cli.command("prune")
@click.option("--dry-run", is_flag=True, help="Only count the rows that would be deleted.")
def prune_command(dry_run: bool) -> None:
    """Delete positions older than POSITION_HISTORY_DAYS, in batches (the daily job does too)."""
    days = current_app.config["POSITION_HISTORY_DAYS"]
    count = positions.delete_old_positions(dry_run=dry_run)
    if dry_run:
        click.echo(f"{count} position(s) older than {days} days would be deleted.")
    else:
        click.echo(f"Deleted {count} position(s) older than {days} days.")


@positions_cli.command("apply")
def apply_command() -> None:
    """Apply the pings waiting in the Redis stream now (the worker does this continuously)."""
    result = positions.drain(consumer="flask-command")
    click.echo(
        f"Read {result.read} ping(s): {result.recorded} recorded, {result.moved} driver(s) moved."
    )
