"""The local geocoder: Nominatim's ``GET /search`` (free-form ``q``, ``format`` ``json`` or
``jsonv2``, ``limit``) over a small gazetteer of the demo city, Portland, Oregon.

Portland's grid: Burnside Street divides north from south, the Willamette river east from west,
and a mile holds twenty blocks of a hundred numbers. So "3500 SE Hawthorne Blvd" lies 1.75 miles
east of the river on Hawthorne's latitude. Like Nominatim it refuses a request without a
User-Agent (403) and a format it does not serve (400), and answers ``[]`` for what it does not
know. The control API (``/_control/...``, not Nominatim's) lists and forgets the requests.
"""

from __future__ import annotations

import re
import threading
import zlib
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from ...loopback import ServerThread

DEFAULT_PORT = 12113
CITY = "portland"
LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
NUMBERS_PER_MILE = 2000
MILES_PER_DEGREE_LATITUDE = 69.0
MILES_PER_DEGREE_LONGITUDE = 48.46  # at 45.5° north
BURNSIDE_LATITUDE = 45.5231
RIVER_EAST_LONGITUDE = -122.6665  # where east-side numbers start
RIVER_WEST_LONGITUDE = -122.6715  # where west-side numbers start

# A street: how its numbers run ("east"/"west" of the river along a latitude, "north"/"south" of
# Burnside along a longitude), and that latitude or longitude.
STREETS: dict[str, tuple[str, float]] = {
    "w burnside st": ("west", 45.5231),
    "e burnside st": ("east", 45.5231),
    "nw couch st": ("west", 45.5239),
    "nw glisan st": ("west", 45.5265),
    "se ash st": ("east", 45.5217),
    "se pine st": ("east", 45.5209),
    "se oak st": ("east", 45.5203),
    "se stark st": ("east", 45.5193),
    "se belmont st": ("east", 45.5163),
    "se hawthorne blvd": ("east", 45.5121),
    "se clay st": ("east", 45.5110),
    "se division st": ("east", 45.5047),
    "se foster rd": ("east", 45.4950),
    "se bybee blvd": ("east", 45.4747),
    "ne alberta st": ("east", 45.5590),
    "n lombard st": ("west", 45.5896),
    "n mississippi ave": ("north", -122.6755),
}
WORDS = {
    "street": "st",
    "avenue": "ave",
    "boulevard": "blvd",
    "road": "rd",
    "southeast": "se",
    "northeast": "ne",
    "northwest": "nw",
    "southwest": "sw",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}
NUMBERED = re.compile(r"^\s*(\d{1,5})\s+(.+?)\s*$")
FORMATS = {"json", "jsonv2"}
MAX_LIMIT = 40


def normalized(street: str) -> str:
    words = re.sub(r"[.]", "", street.lower()).split()
    return " ".join(WORDS.get(word, word) for word in words)


def locate(query: str) -> tuple[int, str, float, float] | None:
    """(house number, street key, latitude, longitude) of a Portland address, or None."""
    parts = [part.strip() for part in query.split(",")]
    if len(parts) < 2 or CITY not in (part.lower() for part in parts[1:]):
        return None
    numbered = NUMBERED.match(parts[0])
    if numbered is None:
        return None
    number, street = int(numbered.group(1)), normalized(numbered.group(2))
    if street not in STREETS:
        return None
    runs, fixed = STREETS[street]
    miles = number / NUMBERS_PER_MILE
    if runs == "east":
        latitude, longitude = fixed, RIVER_EAST_LONGITUDE + miles / MILES_PER_DEGREE_LONGITUDE
    elif runs == "west":
        latitude, longitude = fixed, RIVER_WEST_LONGITUDE - miles / MILES_PER_DEGREE_LONGITUDE
    elif runs == "north":
        latitude, longitude = BURNSIDE_LATITUDE + miles / MILES_PER_DEGREE_LATITUDE, fixed
    else:
        latitude, longitude = BURNSIDE_LATITUDE - miles / MILES_PER_DEGREE_LATITUDE, fixed
    return number, street, round(latitude, 7), round(longitude, 7)


def _place(number: int, street: str, latitude: float, longitude: float, v2: bool) -> dict:
    """A place as Nominatim's jsonv2 (or json) answers it: coordinates are strings."""
    lat, lon = f"{latitude:.7f}", f"{longitude:.7f}"
    place: dict[str, Any] = {
        "place_id": zlib.crc32(f"{number} {street}".encode()),
        "licence": LICENCE,
        "osm_type": "node",
        "osm_id": zlib.crc32(f"{street} {number}".encode()) * 10,
        "lat": lat,
        "lon": lon,
        "place_rank": 30,
        "importance": 0.00001,
        "addresstype": "place",
        "name": "",
        "display_name": f"{number}, {street.title()}, Portland, Multnomah County, Oregon, "
        "United States",
        "boundingbox": [lat, lat, lon, lon],
    }
    place["category" if v2 else "class"] = "place"
    place["type"] = "house"
    return place


class LocalGeocoder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.app = Flask(__name__)
        self.app.extensions["geocoder_local"] = self
        self.app.add_url_rule("/search", view_func=self.search)
        self.app.register_blueprint(control)

    @staticmethod
    def _error(status: int, message: str):
        return jsonify({"error": {"code": status, "message": message}}), status

    def search(self):
        args = request.args
        with self.lock:
            self.requests.append(
                {
                    "q": args.get("q"),
                    "format": args.get("format"),
                    "limit": args.get("limit"),
                    "user_agent": request.headers.get("User-Agent"),
                }
            )
        if not request.headers.get("User-Agent"):
            return self._error(403, "Access blocked: give a User-Agent naming the application.")
        form = args.get("format", "")
        if form not in FORMATS:  # Nominatim has more formats; this stand-in serves these two
            return self._error(400, "Parameter 'format' must be one of: json, jsonv2.")
        query = args.get("q", "").strip()
        if not query:
            return self._error(400, "Nominatim needs a query: give the parameter 'q'.")
        try:
            limit = max(1, min(int(args.get("limit", 10)), MAX_LIMIT))
        except ValueError:
            return self._error(400, "Parameter 'limit' must be a number.")
        found = locate(query)
        places = [_place(*found, v2=form == "jsonv2")] if found else []
        return jsonify(places[:limit])


control = Blueprint("geocoder_control", __name__, url_prefix="/_control")


def _local() -> LocalGeocoder:
    return current_app.extensions["geocoder_local"]


@control.get("/requests")
def requests_received():
    local = _local()
    with local.lock:
        return jsonify(list(local.requests))


@control.post("/reset")
def reset():
    local = _local()
    with local.lock:
        local.requests.clear()
    return jsonify({"ok": True})


class Running:
    """A server on loopback in a thread (tests): ``.url``, ``.geocoder``, ``.stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._thread = ServerThread(host, port)
        self.url = self._thread.url
        self.geocoder = LocalGeocoder()
        self._thread.start(self.geocoder.app)

    def stop(self) -> None:
        self._thread.stop()
