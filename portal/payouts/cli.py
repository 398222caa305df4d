"""``flask payouts run``: a payout run from the shell, synchronously."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .marking import mark_paid_records
from .runs import RunLocked, run_payouts
from .summary import run_summary

payouts_cli = AppGroup("payouts", help="Payout runs.")


@payouts_cli.command("run")
def run_command() -> None:
    """Finish any unfinished run, then run one now, and print what it did."""
    try:
        run = run_payouts(trigger="schedule")
    except RunLocked as error:
        raise click.ClickException(str(error)) from error
    summary = run_summary(run)
    click.echo(f"Run {run.id}: {run.status}.")
    for status, (count, amount) in summary.by_status.items():
        click.echo(f"  {status}: {count} payouts, {amount}")
    for reason, (count, amount) in summary.by_reason.items():
        click.echo(f"  held ({reason}): {count} vendors, {amount}")
    # Synchronous here too (the queued job then finds nothing left): the records are written.
    marked = mark_paid_records()
    click.echo(f"  {marked.records} records marked paid in {marked.batches} batches.")
