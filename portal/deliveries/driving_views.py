"""The driver's deliveries: the current offer, the active delivery and its proof, earnings."""

from .views import bp  # noqa: F401
