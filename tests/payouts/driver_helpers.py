"""Drivers with settled earnings, ready for a payout run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.clock import utcnow
from portal.extensions import db
from portal.payouts import onboarding
from portal.payouts.driver_earnings import record_earning, settle_due_driver_earnings
from portal.payouts.driver_models import DriverEarning
from portal.payouts.models import ConnectedAccount, Payout
from tests.deliveries.helpers import delivery_row, verified_driver


def delivered_for(driver, pay: str = "8.00", tip: str = "2.00", *, days_ago: int = 30):
    """A delivery of ``driver`` delivered ``days_ago``, with its earning written as the
    delivered effect writes it."""
    at = utcnow() - timedelta(days=days_ago)
    delivery = delivery_row(driver_id=driver.id, driver_pay=Decimal(pay), driver_tip=Decimal(tip))
    delivery.delivery_completed_at = at
    record_earning(delivery, at)
    db.session.flush()
    return delivery


def earning_driver(server=None, *, onboard: bool | None = True, earnings=(("8.00", "2.00"),)):
    """A driver with settled earnings; onboarded on ``server`` (``onboard=False``: set up but
    not enabled; ``None``: no account)."""
    driver = verified_driver()
    for pay, tip in earnings:
        delivered_for(driver, pay, tip)
    settle_due_driver_earnings(utcnow())
    if onboard is not None:
        connect_driver(driver, server, onboard=onboard)
    return driver


def connect_driver(driver, server, *, onboard: bool = True) -> ConnectedAccount:
    """The driver's account, made through the onboarding service as the driver's page makes it."""
    account_id = onboarding.ensure_account(driver)
    if onboard:
        server.onboard(account_id)
        onboarding.refresh_account(driver)
    return db.session.scalar(
        sa.select(ConnectedAccount).where(ConnectedAccount.driver_id == driver.id)
    )


def earnings_of(driver) -> list[DriverEarning]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(DriverEarning).where(DriverEarning.driver_id == driver.id)
    ).all()


def driver_payouts(driver) -> list[Payout]:
    return db.session.scalars(sa.select(Payout).where(Payout.driver_id == driver.id)).all()
