import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from . import services, totp

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


auth_cli = AppGroup("auth", help="Admins' second factor.")


def _admin(email: str):
    user = services.find_user_by_email(email)
    if user is None or user.role != "admin":
        raise click.ClickException(f"No admin account has the email {email}.")
    return user


@auth_cli.command("totp-code")
@click.argument("email")
def totp_code_command(email: str) -> None:
    """Print the admin's current TOTP code (development only: the demo without a phone app)."""
    if current_app.config["ENV_NAME"] not in {"development", "test"}:
        raise click.ClickException(
            "totp-code works only with PORTAL_ENV=development: a real admin's code comes from "
            "their own phone."
        )
    try:
        click.echo(totp.current_code(_admin(email)))
    except totp.CodeRefused as refusal:
        raise click.ClickException(str(refusal)) from None


@auth_cli.command("reset-second-factor")
@click.argument("email")
def reset_second_factor_command(email: str) -> None:
    """Remove an admin's authenticator and recovery codes (a lost phone and no codes left);
    they set up a new one before their next money action."""
    user = _admin(email)
    if not totp.reset(user):
        raise click.ClickException(f"{user.email} has no second factor to reset.")
    db.session.commit()
    click.echo(f"Second factor of {user.email} removed; they set it up again at their next action.")
