"""The demo seed onboards shops on a local Stripe server (tests/payouts/conftest.py)."""

from tests.payouts.conftest import app_stripe, local_stripe, local_stripe_factory  # noqa: F401
