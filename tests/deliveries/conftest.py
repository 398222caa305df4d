"""The local DoorDash server's fixtures (tests/deliveries/doordash.py)."""

from tests.deliveries.doordash import app_doordash, local_doordash  # noqa: F401  (fixtures)
