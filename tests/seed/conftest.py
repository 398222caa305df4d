"""The demo seed onboards shops on a local Stripe server (tests/payouts/conftest.py) and books
a delivery on a local DoorDash server (tests/deliveries/doordash.py)."""

from tests.deliveries.doordash import app_doordash, local_doordash  # noqa: F401
from tests.payouts.conftest import app_stripe, local_stripe, local_stripe_factory  # noqa: F401
