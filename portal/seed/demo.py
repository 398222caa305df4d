"""A believable marketplace around one city, made through the features' own services.

Deterministic (a fixed random seed) and loaded once: a second run finds the demo admin and stops.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from .. import clock
from ..auth import services as accounts
from ..auth import totp
from ..catalog.services import create_product, get_or_create_brand, get_or_create_category
from ..commissions.services import settle_due_commissions
from ..customers.services import customer_for_user
from ..deliveries import services as drivers
from ..extensions import db
from ..operations.partitions import ensure_partitions
from ..orders import completion, handling
from ..orders import services as orders
from ..orders.models import Order
from ..periods import Period
from ..tiers.close import run_month_close
from ..tiers.promotions import grant_promotional_tier
from ..vendors import staff
from ..vendors.profile import ProfileChanges, save_profile
from ..vendors.services import vendor_for_user
from .catalog import seed_catalog
from .dispatch import seed_dispatch
from .driver_pay import seed_settled_deliveries
from .drivers import seed_drivers
from .points import DailyPoints, earliest_day, seed_points_history, seed_points_today
from .referrals import seed_referral_visits
from .tracking import seed_tracking

DEMO_PASSWORD = "portal-demo-2026"
DEMO_DOMAIN = "demo.example.com"
# The demo admin's authenticator key (base32): development only, printed and documented, so the
# demo's money actions can be clicked without a phone (or with one: add this key to any app).
# `flask auth totp-code admin@demo.example.com` prints the current code.
DEMO_ADMIN_TOTP_SECRET = "DEMOADMINTOTPDEVELOPMENTONLY2345"
CITY = {"name": "Portland", "state": "OR", "latitude": 45.5152, "longitude": -122.6784}
MONTHS_OF_ORDERS = 4

# name, vendor type, street, products as (title, brand, category, price)
SHOPS = [
    (
        "Rose City Books",
        "shop",
        "1005 W Burnside St",
        [
            ("The Overstory (paperback)", "Norton", "Books", "18.99"),
            ("Oregon Trail Atlas", "Benchmark Maps", "Books", "24.95"),
            ("Moleskine Classic Notebook", "Moleskine", "Stationery", "21.00"),
            ("Hiking Guide: Columbia Gorge", "Mountaineers Books", "Books", "19.95"),
            ("Fountain Pen Starter Set", "Lamy", "Stationery", "34.50"),
        ],
    ),
    (
        "Hawthorne Hardware",
        "shop",
        "3500 SE Hawthorne Blvd",
        [
            ("Cordless Drill 20V", "DeWalt", "Tools", "129.00"),
            ("Claw Hammer 16 oz", "Estwing", "Tools", "32.99"),
            ("LED Bulb 4-pack", "Philips", "Home", "14.49"),
            ("Garden Hose 50 ft", "Flexzilla", "Garden", "44.95"),
            ("Work Gloves", "Carhartt", "Apparel", "16.99"),
        ],
    ),
    (
        "Alberta Street Gifts",
        "shop",
        "2225 NE Alberta St",
        [
            ("Soy Candle Cedar", "Pacific Candle Co", "Home", "22.00"),
            ("Ceramic Mug Handmade", "Alberta Clay", "Home", "28.00"),
            ("Greeting Card Set", "Portland Paper", "Stationery", "12.50"),
            ("Wool Beanie", "Pendleton", "Apparel", "35.00"),
        ],
    ),
    (
        "Pearl District Electronics",
        "shop",
        "1200 NW Couch St",
        [
            ("Wireless Earbuds", "Sony", "Electronics", "99.99"),
            ("USB-C Charger 65W", "Anker", "Electronics", "45.99"),
            ("Bluetooth Speaker", "JBL", "Electronics", "79.95"),
            ("HDMI Cable 2 m", "Belkin", "Electronics", "15.99"),
            ("E-reader 6 inch", "Kobo", "Electronics", "129.99"),
        ],
    ),
    (
        "Belmont Noodle Bar",
        "restaurant",
        "3400 SE Belmont St",
        [
            ("Tonkotsu Ramen", "Belmont Noodle Bar", "Meals", "16.50"),
            ("Spicy Miso Ramen", "Belmont Noodle Bar", "Meals", "17.00"),
            ("Pork Gyoza (6)", "Belmont Noodle Bar", "Sides", "8.50"),
            ("Matcha Lemonade", "Belmont Noodle Bar", "Drinks", "5.00"),
        ],
    ),
    (
        "Division Street Tacos",
        "restaurant",
        "2600 SE Division St",
        [
            ("Al Pastor Tacos (3)", "Division Street Tacos", "Meals", "12.00"),
            ("Carnitas Burrito", "Division Street Tacos", "Meals", "13.50"),
            ("Chips and Salsa", "Division Street Tacos", "Sides", "5.50"),
            ("Horchata", "Division Street Tacos", "Drinks", "4.00"),
        ],
    ),
    (
        "Mississippi Pizza Co",
        "restaurant",
        "3552 N Mississippi Ave",
        [
            ("Margherita Pizza 14 inch", "Mississippi Pizza Co", "Meals", "19.00"),
            ("Pepperoni Pizza 14 inch", "Mississippi Pizza Co", "Meals", "21.00"),
            ("Caesar Salad", "Mississippi Pizza Co", "Sides", "10.00"),
            ("Garlic Knots", "Mississippi Pizza Co", "Sides", "7.00"),
        ],
    ),
    (
        "Burnside Bakery",
        "restaurant",
        "2300 E Burnside St",
        [
            ("Sourdough Loaf", "Burnside Bakery", "Bakery", "9.00"),
            ("Croissant Box (4)", "Burnside Bakery", "Bakery", "14.00"),
            ("Marionberry Pie", "Burnside Bakery", "Bakery", "28.00"),
            ("Cold Brew Coffee", "Burnside Bakery", "Drinks", "4.75"),
        ],
    ),
    (
        "Sellwood Green Grocer",
        "grocery",
        "1600 SE Bybee Blvd",
        [
            ("Organic Bananas (bunch)", "Sellwood Farms", "Produce", "2.49"),
            ("Honeycrisp Apples 3 lb", "Hood River Orchards", "Produce", "6.99"),
            ("Free-range Eggs (dozen)", "Willamette Valley Eggs", "Dairy", "6.49"),
            ("Whole Milk 1 gal", "Tillamook", "Dairy", "5.29"),
            ("Aged Cheddar 8 oz", "Tillamook", "Dairy", "5.99"),
        ],
    ),
    (
        "Foster Farm Market",
        "grocery",
        "6000 SE Foster Rd",
        [
            ("Russet Potatoes 5 lb", "Foster Farms Co-op", "Produce", "4.99"),
            ("Chicken Breast 2 lb", "Draper Valley", "Meat", "11.98"),
            ("Ground Coffee 12 oz", "Stumptown", "Pantry", "14.99"),
            ("Olive Oil 500 ml", "California Olive Ranch", "Pantry", "10.99"),
        ],
    ),
    (
        "Northwest Spice Pantry",
        "grocery",
        "2100 NW Glisan St",
        [
            ("Smoked Paprika", "Penzeys", "Pantry", "6.95"),
            ("Sea Salt Flakes", "Jacobsen Salt Co", "Pantry", "12.00"),
            ("Basmati Rice 2 lb", "Royal", "Pantry", "5.49"),
            ("Green Tea (20 bags)", "Steven Smith Teamaker", "Drinks", "9.99"),
        ],
    ),
    (
        "St Johns Corner Market",
        "grocery",
        "8600 N Lombard St",
        [
            ("Sparkling Water 12-pack", "LaCroix", "Drinks", "6.49"),
            ("Tortilla Chips", "Juanita's", "Pantry", "3.99"),
            ("Greek Yogurt 32 oz", "Chobani", "Dairy", "6.29"),
            ("Strawberries 1 lb", "Sauvie Island Farms", "Produce", "4.49"),
        ],
    ),
]

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPENING_HOURS = {
    "shop": {day: [["10:00", "19:00"]] for day in EVERY_DAY[:6]},
    "restaurant": {day: [["11:30", "14:30"], ["17:00", "22:00"]] for day in EVERY_DAY[1:]},
    "grocery": {day: [["07:00", "21:00"]] for day in EVERY_DAY},
}

CUSTOMER_NAMES = [
    "Ana Lopez",
    "Ben Carter",
    "Chloe Nguyen",
    "Dev Patel",
    "Emma Schultz",
    "Felix Okafor",
    "Grace Kim",
    "Hugo Martin",
    "Isla Brown",
    "Jonas Weber",
    "Kira Tanaka",
    "Liam O'Neil",
    "Maya Singh",
    "Noah Fischer",
    "Olivia Rossi",
    "Pedro Alves",
    "Quinn Murphy",
    "Rosa Jimenez",
    "Sami Haddad",
    "Tess Walker",
]
# name, vehicle, verified
DRIVERS = [
    ("Dana Rivers", "bicycle", True),
    ("Eli Moreno", "car", True),
    ("Fay Chen", "scooter", True),
    ("Gus Harper", "car", True),
    ("Hana Ito", "motorcycle", True),
    ("Ivan Petrov", "van", True),
    ("Jade Brooks", "bicycle", True),
    ("Kofi Mensah", "car", False),
    ("Lena Novak", "scooter", False),
    ("Marco Bianchi", "bicycle", False),
]


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    note: str


#: The demo's random numbers start here, so every load builds the same marketplace.
DEMO_SEED = 2026


def demo_email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def demo_accounts() -> list[DemoAccount]:
    return [
        DemoAccount(
            "admin",
            demo_email("admin"),
            DEMO_PASSWORD,
            "marketplace operator; second-factor code: "
            f"flask --app portal auth totp-code {demo_email('admin')}"
            f" (or key {DEMO_ADMIN_TOTP_SECRET} in an authenticator app)",
        ),
        DemoAccount(
            "vendor", demo_email("rose-city-books"), DEMO_PASSWORD, "owner of Rose City Books"
        ),
        DemoAccount(
            "vendor", demo_email("belmont-noodle-bar"), DEMO_PASSWORD, "owner of Belmont Noodle Bar"
        ),
        DemoAccount(
            "vendor", demo_email("rose-city-staff"), DEMO_PASSWORD, "staff of Rose City Books"
        ),
        DemoAccount("driver", demo_email("dana-rivers"), DEMO_PASSWORD, "verified driver"),
        DemoAccount(
            "driver", demo_email("kofi-mensah"), DEMO_PASSWORD, "driver awaiting verification"
        ),
        DemoAccount(
            "customer",
            demo_email("ana-lopez"),
            DEMO_PASSWORD,
            "customer with orders and loyalty points",
        ),
    ]


def is_loaded() -> bool:
    return accounts.find_user_by_email(demo_email("admin")) is not None


def _near_city(rng: random.Random, spread: float = 0.06) -> tuple[float, float]:
    return (
        round(CITY["latitude"] + rng.uniform(-spread, spread), 6),
        round(CITY["longitude"] + rng.uniform(-spread, spread), 6),
    )


def _address(street: str, rng: random.Random) -> dict:
    return {
        "line1": street,
        "city": CITY["name"],
        "state": CITY["state"],
        "postal_code": f"972{rng.randint(1, 39):02d}",
        "country": "US",
    }


def _slug_local(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def load_demo(today: date | None = None, seed: int = DEMO_SEED) -> bool:
    """Fill an empty database; returns False (changing nothing) when the demo is loaded already."""
    if is_loaded():
        return False
    rng = random.Random(seed)
    today = today or clock.today()

    this_month = Period.containing(today)
    first_month = this_month.shift(1 - MONTHS_OF_ORDERS)
    admin = accounts.create_admin(demo_email("admin"), DEMO_PASSWORD)
    totp.enroll_with_secret(admin, DEMO_ADMIN_TOTP_SECRET)
    # The shops opened well before their first orders, past any new-vendor promotion.
    shops = _open_shops(rng, opened=first_month.shift(-6).start)
    customers = _register_customers(rng)
    _register_drivers(rng)

    ensure_partitions(today, since=min(first_month.first_day, earliest_day(today)))
    now = datetime.combine(today, time(12), tzinfo=UTC)
    # Referral visits first, so the demo's later orders of those customers are attributed.
    seed_referral_visits(random.Random(seed + 4), shops, customers, now)
    # Loyalty points (portal/seed/points.py) have their own generator: the orders stay as they were.
    points_rng = random.Random(seed + 4)
    seed_points_history(admin, customers, now)
    daily_points = DailyPoints(
        points_rng,
        shops,
        customers,
        now,
        admin=admin,
        register=lambda name: _register_customer(points_rng, name),
    )
    _place_orders(rng, shops, customers, first_month.first_day, today, end_of_day=daily_points)
    seed_points_today(points_rng, shops, customers, now)
    _close_finished_months(first_month, this_month, now)
    settle_due_commissions(now)
    _grant_launch_promotion(admin, shops, today)
    _hold_an_order(admin, now)
    _invite_staff(shops)
    # Dana's earlier deliveries, settled by now (their own generator: the rest is unchanged).
    seed_settled_deliveries(random.Random(seed + 3), domain=DEMO_DOMAIN)
    seed_dispatch(rng, city=(CITY["latitude"], CITY["longitude"]), domain=DEMO_DOMAIN)
    # Their own generators, so adding them left the orders above as they were.
    seed_drivers(random.Random(seed + 1), admin=admin, email_for=demo_email, password=DEMO_PASSWORD)
    seed_tracking(random.Random(seed + 2))
    accounts.mark_emails_verified(f"%@{DEMO_DOMAIN}", now)  # the demo's addresses are its own
    # Last, so every shop's products are matched: the unified catalog (portal/seed/catalog.py).
    seed_catalog(random.Random(seed + 5), shops, admin)
    db.session.flush()
    return True


def _hold_an_order(admin, now: datetime) -> None:
    """One paid order held by the admin, so the list of orders waiting on completion shows one."""
    waiting = db.session.scalars(
        sa.select(Order).where(completion.waiting_on_auto_completion()).order_by(Order.paid_at)
    ).first()
    if waiting is not None:
        completion.hold_order(
            waiting, "The customer says the parcel never arrived", held_by=admin, at=now
        )


def _close_finished_months(first_month: Period, this_month: Period, now: datetime) -> None:
    """Close each past month in turn, as the scheduled job would have: tiers follow the sales."""
    month = first_month
    while month < this_month:
        run_month_close(month.year, month.month, now=now)
        month = month.next()


def _invite_staff(shops) -> None:
    """Rose City Books' owner invited a member of staff, who accepted the link."""
    vendor = next(vendor for vendor, _ in shops if vendor.name == "Rose City Books")
    owner = next(member.user for member in vendor.members if member.role == "owner")
    invitation, _token = staff.invite_staff(vendor, demo_email("rose-city-staff"), invited_by=owner)
    staff.join_with_new_account(invitation, DEMO_PASSWORD)


def _grant_launch_promotion(admin, shops, today: date) -> None:
    """One shop on a promotional tier, so the dashboard and the admin pages show one."""
    vendor, _ = next(
        (vendor, products) for vendor, products in shops if vendor.name == "Belmont Noodle Bar"
    )
    grant_promotional_tier(
        vendor.id,
        tier="gold",
        reason="launch",
        expires_at=today + timedelta(days=45),
        granted_by=admin,
    )


def _open_shops(rng: random.Random, opened: datetime):
    shops = []
    for name, vendor_type, street, products in SHOPS:
        latitude, longitude = _near_city(rng)
        owner = accounts.register_vendor(
            email=demo_email(_slug_local(name)),
            password=DEMO_PASSWORD,
            shop_name=name,
            vendor_type=vendor_type,
            contact_phone=f"+1 503 555 {rng.randint(1000, 9999)}",
        )
        vendor = vendor_for_user(owner)
        profile = ProfileChanges(
            name=name,
            description=f"{name}: a local {vendor_type} in {CITY['name']}.",
            pickup_address=_address(street, rng),
            latitude=latitude,
            longitude=longitude,
            opening_hours=OPENING_HOURS[vendor_type],
            contact_email=owner.email,
            contact_phone=vendor.contact_phone,
        )
        save_profile(vendor, profile)
        vendor.created_at = opened
        listed = []
        for number, (title, brand, category, price) in enumerate(products, start=1):
            listed.append(
                create_product(
                    vendor,
                    title=title,
                    sku=f"{vendor.slug[:12].upper()}-{number:03d}",
                    price=Decimal(price),
                    inventory=rng.randint(5, 120),
                    brand=get_or_create_brand(brand),
                    category=get_or_create_category(category),
                )
            )
        shops.append((vendor, listed))
    return shops


def _register_customers(rng: random.Random):
    return [_register_customer(rng, name) for name in CUSTOMER_NAMES]


def _register_customer(rng: random.Random, name: str):
    user = accounts.register_customer(
        email=demo_email(_slug_local(name)),
        password=DEMO_PASSWORD,
        full_name=name,
        phone=f"+1 503 555 {rng.randint(1000, 9999)}",
    )
    customer = customer_for_user(user)
    customer.default_address = _address(
        f"{rng.randint(100, 9999)} SE {rng.choice(['Ash', 'Oak', 'Pine', 'Stark', 'Clay'])} St",
        rng,
    )
    return customer


def _register_drivers(rng: random.Random) -> None:
    for name, vehicle, verified in DRIVERS:
        user = accounts.register_driver(
            email=demo_email(_slug_local(name)),
            password=DEMO_PASSWORD,
            full_name=name,
            phone=f"+1 503 555 {rng.randint(1000, 9999)}",
            vehicle_type=vehicle,
            license_number=f"OR{rng.randint(1000000, 9999999)}",
        )
        driver = drivers.driver_for_user(user)
        if verified:
            drivers.record_verification(
                driver, insurance_verified=True, background_check_status="clear"
            )
            drivers.update_location(driver, *_near_city(rng))
            drivers.set_availability(driver, rng.choice(["available", "available", "offline"]))


def _place_orders(rng, shops, customers, first_day: date, today: date, end_of_day=None) -> None:
    day = first_day
    now = datetime.combine(today, time(12), tzinfo=UTC)
    while day <= today:
        for vendor, products in shops:
            # In time order, as a shop numbers its orders (#1001, #1002, ...).
            times = sorted(
                datetime.combine(day, time.min, tzinfo=UTC)
                + timedelta(minutes=rng.randint(7 * 60, 21 * 60))
                for _ in range(rng.choice([0, 0, 1, 1, 2]))
            )
            for placed_at in times:
                if placed_at > now:
                    continue
                customer = rng.choice(customers)
                items = [
                    orders.LineItem(
                        product_id=p.id,
                        sku=p.sku,
                        title=p.title,
                        quantity=rng.randint(1, 3),
                        unit_price=p.price,
                    )
                    for p in rng.sample(products, k=rng.randint(1, min(3, len(products))))
                ]
                order = orders.place_order(
                    vendor_id=vendor.id,
                    customer_id=customer.id,
                    items=items,
                    delivery_fee=Decimal(rng.choice(["3.99", "4.99", "5.99"])),
                    dropoff_address=customer.default_address,
                    placed_at=placed_at,
                )
                _advance(rng, order, placed_at, now)
        if end_of_day is not None:
            end_of_day(day)
        day += timedelta(days=1)


def _advance(rng: random.Random, order, placed_at: datetime, now: datetime) -> None:
    """Move an order along as real ones go: most complete, a few are canceled, recent ones open."""
    if rng.random() < 0.04:
        orders.cancel_order(order, placed_at + timedelta(minutes=10))
        return
    paid_at = placed_at + timedelta(minutes=2)
    if paid_at > now:
        return
    orders.mark_paid(order, paid_at)
    completed_at = placed_at + timedelta(days=1)
    if completed_at <= now:
        orders.complete_order(order, completed_at)
    elif rng.random() < 0.5:
        # Today's orders: the shop has accepted some, and has a few of those ready for pickup.
        handling.accept_order(order, paid_at + timedelta(minutes=5))
        if rng.random() < 0.5:
            handling.mark_ready(order, paid_at + timedelta(minutes=25))
