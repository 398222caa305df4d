from tests.payouts.conftest import app_stripe, local_stripe, local_stripe_factory  # noqa: F401  (fixtures)
