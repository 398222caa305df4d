import click
from flask.cli import AppGroup

from ..extensions import db
from . import services

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted when not given.",
)
def create_admin_command(email: str, password: str) -> None:
    """Create an admin account (the first admin is made this way)."""
    try:
        services.create_admin(email, password)
    except services.PasswordRefused as refusal:
        raise click.ClickException(f"That password is refused: {refusal}") from None
    except services.EmailTaken:
        raise click.ClickException(f"An account with the email {email} exists already.") from None
    db.session.commit()
    click.echo(f"Admin {services.normalize_email(email)} created.")
