"""A local HTTP server that speaks Stripe's wire format for what the portal uses (docs/payouts.md).

Tests and the demo run it instead of Stripe: ``python -m portal.payouts.stripe_local``, or
``Running()`` in a thread. It answers as Stripe's API version 2024-04-10 does, in test mode, and
its tests check that against Stripe's published OpenAPI spec.
"""

from .server import DEFAULT_PORT, Exchange, LocalStripe, Running
from .webhooks import Endpoint, signature_header

__all__ = ["DEFAULT_PORT", "Endpoint", "Exchange", "LocalStripe", "Running", "signature_header"]
