"""The payouts tests' local Stripe server, gateway and spec check, for the payment layer."""

from tests.payouts.conftest import (  # noqa: F401  (fixtures)
    app_stripe,
    gateway,
    local_stripe,
    local_stripe_factory,
)
