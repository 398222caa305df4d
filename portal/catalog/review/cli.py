"""``flask catalog export-decisions <dir>``: the review decisions as a training set."""

from __future__ import annotations

import click

from ..matching.cli import catalog_cli


@catalog_cli.command("export-decisions")
@click.argument("directory", type=click.Path(file_okay=False))
def export_decisions_command(directory: str) -> None:
    """Write DIRECTORY/tableA.csv, tableB.csv, train.csv and valid.csv from review decisions."""
    from .export import export

    counts = export(directory)
    click.echo(
        f"Exported {counts.train + counts.valid} labelled pairs ({counts.matches} matches) of"
        f" {counts.products} products and {counts.masters} masters to {directory}:"
        f" train.csv {counts.train}, valid.csv {counts.valid}."
    )
    if counts.train + counts.valid == 0:
        click.echo("No review decisions yet: the files hold headers only.")
