"""The geocoder: a dropoff address without a point becomes one, through Nominatim's /search API.

The only module that calls the geocoder (``GEOCODER_URL``; the local stand-in,
``portal.deliveries.geocoder_local``, in development; empty: no geocoding). It speaks Nominatim's
published API: ``GET /search?q=<one-line address>&format=jsonv2&limit=1``, answered by a JSON list
of places whose ``lat`` and ``lon`` are strings. Nominatim's usage policy asks for a User-Agent
that names the application (``GEOCODER_USER_AGENT``), at most one request a second and no bulk
geocoding: the portal asks once per delivery whose order came without a point.

The outcome is never an exception: ``found`` with the point, ``not_found`` (the geocoder answered
with no place, or there is no address), ``failed`` (not configured, no answer in
``GEOCODER_TIMEOUT_SECONDS``, an error status or a body that is not Nominatim's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from flask import current_app

from .providers.services import one_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Geocoded:
    outcome: str  # one of models.GEOCODE_OUTCOMES
    point: tuple[float, float] | None = None  # (latitude, longitude) when found


def _place_point(places) -> tuple[float, float] | None:
    if not isinstance(places, list):
        raise ValueError("not a list of places")
    if not places:
        return None
    first = places[0]
    latitude, longitude = float(first["lat"]), float(first["lon"])
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError("not a point on Earth")
    return latitude, longitude


def geocode(address: dict | None) -> Geocoded:
    """Where ``address`` is, as the geocoder says."""
    config = current_app.config
    query = one_line(address)
    if not query:
        return Geocoded("not_found")
    base = (config.get("GEOCODER_URL") or "").rstrip("/")
    if not base:
        return Geocoded("failed")
    try:
        response = requests.get(
            f"{base}/search",
            params={"q": query, "format": "jsonv2", "limit": 1},
            headers={"User-Agent": config["GEOCODER_USER_AGENT"], "Accept": "application/json"},
            timeout=config["GEOCODER_TIMEOUT_SECONDS"],
        )
        response.raise_for_status()
        found = _place_point(response.json())
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        log.warning("geocoding %r failed: %s", query, error)
        return Geocoded("failed")
    return Geocoded("found", found) if found else Geocoded("not_found")
