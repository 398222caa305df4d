"""A local HTTP server that speaks Nominatim's /search API for the demo city's addresses
(docs/deliveries.md, "Geocoding").

Tests and the demo run it instead of Nominatim: ``python -m portal.deliveries.geocoder_local``,
or ``Running()`` in a thread. It knows the streets the demo's shops and customers live on, places
a house number along its street by Portland's address grid, answers ``[]`` for any other address,
and keeps every request it received (``/_control/requests``).
"""

from .server import DEFAULT_PORT, LocalGeocoder, Running

__all__ = ["DEFAULT_PORT", "LocalGeocoder", "Running"]
