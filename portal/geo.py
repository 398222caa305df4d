"""Points on the map, as PostGIS stores them (WGS 84 longitude/latitude)."""

from geoalchemy2 import WKTElement


def point(latitude: float, longitude: float) -> WKTElement:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError("Latitude must be within ±90 and longitude within ±180.")
    return WKTElement(f"POINT({longitude} {latitude})", srid=4326)
