"""The demo's own drivers at work: more verified drivers online around the city, and deliveries
of ready orders in several states, each moved by the services a shop, the dispatch and a driver's
phone use: one offered to the demo driver Dana Rivers (it runs out after a minute once the worker
runs, and goes on to the next driver), one on its way to the door, one just picked up, and a few
delivered today and earlier this week with the customer's PIN as proof, tipped and rated; one the
shop canceled after pickup (returning to the shop), and two dropoffs without a point, one of them
an address the geocoder does not know.

Called by the demo loader (``load_demo``), after the marketplace's shops, customers and drivers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ..auth import services as accounts
from ..clock import utcnow
from ..customers.models import Customer
from ..deliveries import dispatch, driving, tracking
from ..deliveries import services as drivers
from ..deliveries.assignments import order_assignment
from ..deliveries.models import Driver
from ..extensions import db
from ..orders import handling
from ..orders import services as orders
from ..vendors.models import Vendor

#: More drivers online around the city: (name, vehicle).
ONLINE_DRIVERS = (
    ("Nia Okafor", "bicycle"),
    ("Omar Haddad", "car"),
    ("Pia Lindqvist", "scooter"),
    ("Quinn Walsh", "car"),
    ("Rosa Delgado", "bicycle"),
    ("Sven Aalto", "motorcycle"),
    ("Tara Singh", "car"),
    ("Uma Patel", "scooter"),
)
OFFER_DRIVER = "dana-rivers"
# How each seeded delivery is left: its last step, and how long ago it was ready.
DELIVERIES = (
    ("offered", timedelta(minutes=1)),
    ("enroute_to_dropoff", timedelta(minutes=20)),
    ("picked_up", timedelta(minutes=12)),
    ("delivered", timedelta(hours=3)),
    ("delivered", timedelta(hours=26)),
    ("delivered", timedelta(days=2, hours=5)),
)
TO_THE_DOOR = (
    "enroute_to_pickup",
    "arrived_at_pickup",
    "picked_up",
    "enroute_to_dropoff",
    "arrived_at_dropoff",
)


@dataclass
class DispatchSeed:
    drivers_online: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)


def _near(rng: random.Random, latitude: float, longitude: float, spread: float = 0.02):
    return (
        round(latitude + rng.uniform(-spread, spread), 6),
        round(longitude + rng.uniform(-spread, spread), 6),
    )


def _point_of(vendor_id) -> tuple[float, float] | None:
    from ..deliveries.assignments import vendor_point

    return vendor_point(vendor_id)


def _online_drivers(rng: random.Random, city: tuple[float, float], domain: str) -> list[Driver]:
    online = []
    for name, vehicle in ONLINE_DRIVERS:
        email = f"{name.lower().replace(' ', '-')}@{domain}"
        user = accounts.find_user_by_email(email) or accounts.register_driver(
            email=email,
            password=_password(),
            full_name=name,
            phone=f"+1 503 555 {rng.randint(1000, 9999)}",
            vehicle_type=vehicle,
            license_number=f"OR{rng.randint(1000000, 9999999)}",
        )
        driver = drivers.driver_for_user(user)
        drivers.record_verification(
            driver, insurance_verified=True, background_check_status="clear"
        )
        drivers.update_location(driver, *_near(rng, *city, spread=0.05))
        if driver.status == "offline":
            drivers.set_availability(driver, "available")
        online.append(driver)
    return online


def _password() -> str:
    from .demo import DEMO_PASSWORD

    return DEMO_PASSWORD


def _ready_order(rng, vendor, customer, ready_at: datetime, dropoff: dict | None = None):
    """An order of the shop, paid, accepted and marked ready (its delivery row and dispatch come
    from ``mark_ready``), dropping off near the shop (or at ``dropoff``, an address without a
    point: the geocoder looks it up)."""
    from ..catalog.models import Product

    product = rng.choice(
        db.session.scalars(
            sa.select(Product).where(Product.vendor_id == vendor.id).order_by(Product.sku).limit(3)
        ).all()
    )
    shop = _point_of(vendor.id)
    latitude, longitude = _near(rng, *shop, spread=0.025)
    dropoff = dropoff or dict(customer.default_address or {}) | {
        "latitude": latitude,
        "longitude": longitude,
        "phone": customer.phone,
    }
    placed_at = ready_at - timedelta(minutes=25)
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=customer.id,
        items=[
            orders.LineItem(
                product_id=product.id,
                sku=product.sku,
                title=product.title,
                quantity=rng.randint(1, 2),
                unit_price=product.price,
            )
        ],
        delivery_fee=Decimal(rng.choice(["3.99", "4.99"])),
        dropoff_address=dropoff,
        placed_at=placed_at,
    )
    orders.mark_paid(order, placed_at + timedelta(minutes=1))
    handling.accept_order(order, placed_at + timedelta(minutes=3))
    handling.mark_ready(order, ready_at)
    return order


def _carry(rng, assignment, target: str, ready_at: datetime) -> None:
    """Offer it (the dispatch's nearest driver), and unless ``target`` is "offered" accept and
    step it on to ``target`` as the driver's phone would, a few minutes a step."""
    offer = dispatch.dispatch(assignment.id, now=ready_at).offer
    if offer is None or target == "offered":
        if offer is not None:  # the offer is fresh, whatever time the delivery was made
            now = utcnow()
            offer.offered_at, offer.expires_at = now, now + (offer.expires_at - offer.offered_at)
        return
    driver = db.session.get(Driver, offer.driver_id)
    at = ready_at + timedelta(seconds=30)  # within the offer's time
    driving.accept_offer(driver, offer.id, now=at)
    for step in TO_THE_DOOR:
        at += timedelta(minutes=rng.randint(2, 6))
        driving.advance_delivery(driver, assignment.id, step, at=at)
        if step == target:
            return
    if target == "delivered":
        assignment.driver_tip = Decimal(rng.choice(["0.00", "2.00", "3.50"]))
        driving.prove_delivery(
            driver, assignment.id, "pin", pin=assignment.delivery_pin, at=at + timedelta(minutes=1)
        )
        tracking.rate_delivery(
            assignment, stars=rng.choice((5, 5, 4)), comment=rng.choice((None, "Quick, thanks!"))
        )


def shops_and_customers() -> tuple[list[Vendor], list[Customer]]:
    """The shops deliveries leave from, and the customers with an address to deliver to."""
    shops = db.session.scalars(
        sa.select(Vendor).where(Vendor.location.is_not(None)).order_by(Vendor.name)
    ).all()
    customers = db.session.scalars(
        sa.select(Customer).where(Customer.default_address.is_not(None)).order_by(Customer.id)
    ).all()
    return list(shops), list(customers)


def seed_dispatch(rng: random.Random, *, city: tuple[float, float], domain: str) -> DispatchSeed:
    """Drivers online around ``city`` and deliveries in several states (see above)."""
    seed = DispatchSeed()
    seed.drivers_online = len(_online_drivers(rng, city, domain))
    shops, customers = shops_and_customers()
    if not shops or not customers:
        return seed
    dana = drivers.driver_for_user(accounts.find_user_by_email(f"{OFFER_DRIVER}@{domain}"))
    now = utcnow()
    for n, (target, ago) in enumerate(DELIVERIES):
        vendor = shops[n % len(shops)]
        if target == "offered" and dana is not None:
            # Dana waits at the shop's door: she is the nearest, and is offered this one.
            drivers.update_location(dana, *_near(rng, *_point_of(vendor.id), spread=0.0005))
            if dana.status == "offline":
                drivers.set_availability(dana, "available")
        order = _ready_order(rng, vendor, customers[n % len(customers)], now - ago)
        _carry(rng, order_assignment(order), target, now - ago)
        seed.deliveries[target] = seed.deliveries.get(target, 0) + 1
    _canceled_and_unmapped(rng, shops, customers, now)
    db.session.flush()
    return seed


#: A dropoff the demo city's geocoder does not know: its delivery is flagged for shop and admin.
UNKNOWN_DROPOFF = {"line1": "77 Nowhere Alley", "city": "Portland", "state": "OR", "country": "US"}


def _canceled_and_unmapped(rng, shops, customers, now: datetime) -> None:
    """An order the shop canceled after the driver picked it up (on its way back, with the
    reason), and two dropoffs without a point: one the geocoder finds (the customer's address),
    one it does not know. Left ``created``, they are dispatched once the worker runs."""
    vendor, customer = shops[-1], customers[-1]
    order = _ready_order(rng, vendor, customer, now - timedelta(minutes=15))
    _carry(rng, order_assignment(order), "picked_up", now - timedelta(minutes=15))
    handling.cancel_by_shop(order, "customer_request", "The customer moved out this morning")
    for dropoff in (dict(customer.default_address or {}), UNKNOWN_DROPOFF):
        _ready_order(rng, vendor, customer, now - timedelta(minutes=2), dropoff=dropoff)
