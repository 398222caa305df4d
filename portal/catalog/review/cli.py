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


@catalog_cli.command("review-fixture")
def review_fixture_command() -> None:
    """Development only: add a few proposals between the first two shops, to review."""
    from flask import current_app

    from ...extensions import db
    from . import fixture

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("The review fixture is for development databases only.")
    shops = fixture.two_shops()
    if shops is None:
        raise click.ClickException("The fixture needs two shops: run `flask seed demo` first.")
    added = fixture.load(*shops)
    db.session.commit()
    click.echo(
        f"Added {added} proposals for {shops[1].name} against masters of {shops[0].name}:"
        " open /admin/catalog/review."
    )
