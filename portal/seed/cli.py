import click
from flask.cli import AppGroup

from ..extensions import db
from .demo import demo_accounts, load_demo

seed_cli = AppGroup("seed", help="Load data sets.")


@seed_cli.command("demo")
def seed_demo_command() -> None:
    """Fill an empty database with a demo marketplace; a second run changes nothing."""
    if load_demo():
        db.session.commit()
        click.echo("Demo marketplace loaded.")
    else:
        click.echo("Demo marketplace already loaded; nothing changed.")
    click.echo("Demo accounts:")
    for account in demo_accounts():
        click.echo(f"  {account.role:<9} {account.email:<45} {account.password}   ({account.note})")
