"""The local DoorDash server's and the local geocoder's fixtures (tests/deliveries/doordash.py,
geocoder.py)."""

from tests.deliveries.doordash import app_doordash, local_doordash  # noqa: F401  (fixtures)
from tests.deliveries.geocoder import app_geocoder  # noqa: F401  (fixture)
