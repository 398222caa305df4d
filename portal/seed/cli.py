import random

import click
from flask.cli import AppGroup

from ..catalog.match_jobs import catalog_counts
from ..extensions import db
from .demo import DEMO_SEED, demo_accounts, load_demo
from .payments import pay_demo_checkout
from .payouts import LocalStripeMissing, onboard_demo_drivers, onboard_demo_shops, pay_demo_run
from .provider import seed_provider

seed_cli = AppGroup("seed", help="Load data sets.")


@seed_cli.command("demo")
def seed_demo_command() -> None:
    """Fill an empty database with a demo marketplace; a second run changes nothing."""
    if load_demo():
        db.session.commit()
        click.echo("Demo marketplace loaded.")
        catalog = catalog_counts()
        click.echo(
            f"Catalog matched: {catalog['exact']} exact, {catalog['auto']} auto-mapped,"
            f" {catalog['waiting']} waiting for review, {catalog['new_masters']} new masters."
        )
    else:
        click.echo("Demo marketplace already loaded; nothing changed.")
    try:
        active = onboard_demo_shops()
        drivers = onboard_demo_drivers()
        run = pay_demo_run()
        card_checkout = pay_demo_checkout()
    except LocalStripeMissing as error:
        raise click.ClickException(f"payouts accounts not set up: {error}") from error
    click.echo(
        f"Payouts active for {len(active)} shops and {len(drivers)} drivers "
        "(the local Stripe server has them)."
    )
    if run is not None:
        shops_paid = sum(1 for p in run.payouts if p.vendor_id is not None)
        click.echo(
            f"A payout run paid {shops_paid} shops and {len(run.payouts) - shops_paid} drivers, "
            f"and held {len(run.holds)} shops."
        )
    if card_checkout is not None:
        click.echo(
            f"A two-shop checkout was paid by card through the local Stripe server "
            f"({card_checkout.payment_intent_id}, {card_checkout.amount})."
        )
    provider = seed_provider(random.Random(DEMO_SEED))
    db.session.commit()
    if provider.skipped:
        click.echo(f"No DoorDash delivery in the demo: {provider.skipped}.")
    else:
        click.echo(f"{len(provider.obfuscated)} products obfuscated; one order is with DoorDash.")
    click.echo("Demo accounts:")
    for account in demo_accounts():
        click.echo(f"  {account.role:<9} {account.email:<45} {account.password}   ({account.note})")
