"""A local HTTP server that speaks DoorDash Drive's API v2 for what the portal uses
(docs/deliveries.md, "The local DoorDash server").

Tests and the demo run it instead of DoorDash:
``python -m portal.deliveries.providers.doordash_local``, or ``Running()`` in a thread. It checks
each request's JWT as DoorDash does, validates the bodies, keeps its own record of the deliveries
and of every request it received (the obfuscation test reads it), moves a delivery on when told
to through its control API (``/_control/...``) and sends the status webhooks to the portal with
the configured ``Authorization`` header.
"""

from .server import DEFAULT_PORT, LocalDoorDash, Running

__all__ = ["DEFAULT_PORT", "LocalDoorDash", "Running"]
