"""``flask money ...``: the month-end close and promotions from the shell."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from ..periods import Period, PeriodError
from .close import CommittedProgress, MonthCloseError
from .jobs import close_month_and_commit
from .promotions import expire_promotions

money_cli = AppGroup("money", help="Month-end close and promotional tiers.")


def parse_month(text: str) -> Period:
    try:
        return Period.parse(text)
    except PeriodError as error:
        raise click.BadParameter(str(error)) from None


@money_cli.command("close-month")
@click.argument("month", metavar="YYYY-MM")
def close_month_command(month: str) -> None:
    """Close a finished month now (synchronously) and print what it changed."""
    period = parse_month(month)
    record_progress = CommittedProgress(period.year, period.month)

    def progress(percent: int, step: str) -> None:
        record_progress(percent, step)
        click.echo(f"{percent:>3}%  {step}", err=True)

    try:
        close = close_month_and_commit(period.year, period.month, progress=progress)
    except MonthCloseError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Closed {period} (run {close.runs}).")
    for key, value in close.summary.items():
        click.echo(f"  {key.replace('_', ' ')}: {value}")


@money_cli.command("expire-promotions")
def expire_promotions_command() -> None:
    """End every promotion whose end date has come."""
    ended = expire_promotions()
    db.session.commit()
    click.echo(f"{ended} promotion(s) ended.")
