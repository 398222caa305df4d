"""``flask money ...``: the month-end close and promotions from the shell."""

from __future__ import annotations

import re

import click
from flask.cli import AppGroup

from ..extensions import db
from .close import CommittedProgress, MonthCloseError
from .jobs import close_month_and_commit
from .promotions import expire_promotions

money_cli = AppGroup("money", help="Month-end close and promotional tiers.")

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise click.BadParameter(f"{text!r} is not a month; use YYYY-MM, e.g. 2026-10.")
    return int(match.group(1)), int(match.group(2))


@money_cli.command("close-month")
@click.argument("month", metavar="YYYY-MM")
def close_month_command(month: str) -> None:
    """Close a finished month now (synchronously) and print what it changed."""
    year, month_number = parse_month(month)
    record_progress = CommittedProgress(year, month_number)

    def progress(percent: int, step: str) -> None:
        record_progress(percent, step)
        click.echo(f"{percent:>3}%  {step}", err=True)

    try:
        close = close_month_and_commit(year, month_number, progress=progress)
    except MonthCloseError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Closed {year:04d}-{month_number:02d} (run {close.runs}).")
    for key, value in close.summary.items():
        click.echo(f"  {key.replace('_', ' ')}: {value}")


@money_cli.command("expire-promotions")
def expire_promotions_command() -> None:
    """End every promotion whose end date has come."""
    ended = expire_promotions()
    db.session.commit()
    click.echo(f"{ended} promotion(s) ended.")
