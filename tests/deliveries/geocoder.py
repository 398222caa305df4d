"""The local geocoder on loopback (portal/deliveries/geocoder_local), and the app pointed at it.

Import the fixture into a test module: ``from tests.deliveries.geocoder import app_geocoder``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from portal.deliveries.geocoder_local import Running


class LocalGeocoderServer:
    def __init__(self) -> None:
        self.running = Running()
        self.url = self.running.url

    def received(self) -> list[dict[str, Any]]:
        """Every /search request: q, format, limit, user_agent."""
        response = requests.get(self.url + "/_control/requests", timeout=10)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture
def app_geocoder(app, monkeypatch):
    server = LocalGeocoderServer()
    monkeypatch.setitem(app.config, "GEOCODER_URL", server.url)
    yield server
    server.stop()
