"""The demo's product obfuscation and its DoorDash delivery: a sensitive classification, a shop's
products in it with neutral names (through the obfuscation service), and one order of them
handed to DoorDash and under way on the local DoorDash server (booked by the provider job, moved
on through the server's control API, its status read back: the portal is not serving yet, so the
webhooks are not heard). Run after the marketplace is committed; a second run changes nothing.
Without the local DoorDash server the delivery is left out and the reason returned."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

import requests
import sqlalchemy as sa
from flask import current_app

from ..catalog.models import Product
from ..catalog.services import create_product, get_or_create_brand, get_or_create_category
from ..customers.models import Customer
from ..deliveries.models import DeliveryAssignment
from ..deliveries.providers import ProviderError, provider
from ..deliveries.providers.jobs import send_to_provider
from ..deliveries.providers.services import (
    NotSendable,
    apply_report,
    provider_row,
    record_booking,
)
from ..extensions import db
from ..obfuscation import services as obfuscation
from ..orders import handling
from ..orders import services as orders
from ..vendors.models import Vendor

CLASSIFICATION = "intimate-wellness"
SHOP = "Alberta Street Gifts"
# (title, brand, category, description, price, neutral name, neutral description)
PRODUCTS = (
    (
        "Lumi Couples Massager",
        "Lumi Intimates",
        "Intimate wellness",
        "Rechargeable couples massager, body-safe silicone.",
        "64.00",
        "Personal care device",
        "Rechargeable household item.",
    ),
    (
        "Velvet Touch Lubricant 100 ml",
        "Lumi Intimates",
        "Intimate wellness",
        "Water-based personal lubricant.",
        "14.00",
        "Personal care liquid",
        None,
    ),
)
# Where the demo's DoorDash delivery is left: the Dasher has picked it up.
DEMO_PROGRESS = ("DASHER_CONFIRMED", "DASHER_CONFIRMED_PICKUP_ARRIVAL", "DASHER_PICKED_UP")


@dataclass(frozen=True)
class ProviderSeed:
    obfuscated: list[str]
    delivery_id: str | None
    skipped: str | None = None


def seed_provider(rng: random.Random) -> ProviderSeed:
    vendor = db.session.scalar(sa.select(Vendor).where(Vendor.name == SHOP))
    if vendor is None:
        return ProviderSeed([], None, skipped=f"no shop {SHOP!r} in the demo")
    if obfuscation.classification(CLASSIFICATION) is None:
        obfuscation.create_classification(
            CLASSIFICATION,
            "Intimate and sexual wellness products: neutral names for the payment processor, "
            "couriers and receipts.",
        )
    products = [_obfuscated_product(vendor, *spec) for spec in PRODUCTS]
    db.session.commit()
    names = [product.title for product in products]
    try:
        delivery_id = _doordash_delivery(rng, vendor, products)
    except (ProviderError, NotSendable, requests.RequestException) as error:
        db.session.rollback()
        base = current_app.config["DOORDASH_API_BASE"]
        return ProviderSeed(names, None, skipped=f"the local DoorDash server at {base}: {error}")
    return ProviderSeed(names, delivery_id)


def _obfuscated_product(vendor, title, brand, category, description, price, name, neutral):
    product = db.session.scalar(
        sa.select(Product).where(Product.vendor_id == vendor.id, Product.title == title)
    )
    if product is None:
        product = create_product(
            vendor,
            title=title,
            description=description,
            price=Decimal(price),
            inventory=12,
            brand=get_or_create_brand(brand),
            category=get_or_create_category(category),
        )
    product = obfuscation.product_for_obfuscation(product.id)
    if product.obfuscation is None:
        obfuscation.save_obfuscation(
            product,
            classification_code=CLASSIFICATION,
            name=name,
            description=neutral,
            category="Household",
        )
    return product


def _doordash_delivery(rng: random.Random, vendor, products) -> str | None:
    """One order of the products, ready and handed to DoorDash, picked up by its Dasher."""
    existing = db.session.scalar(
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.vendor_id == vendor.id, DeliveryAssignment.provider == "doordash")
        .order_by(DeliveryAssignment.created_at.desc())
        .limit(1)
    )
    if existing is not None:
        if _known_at_doordash(str(existing.id)):
            return str(existing.id)
        if existing.status == "created":  # an earlier run had no local server: send it now
            send_to_provider(str(existing.id))
            _move_on(str(existing.id))
            return str(existing.id)
    customer = db.session.scalar(
        sa.select(Customer).where(Customer.default_address.is_not(None)).order_by(Customer.id)
    )
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=customer.id if customer else None,
        items=[
            orders.LineItem(
                product_id=p.id, title=p.title, quantity=rng.randint(1, 2), unit_price=p.price
            )
            for p in products
        ],
        delivery_fee=Decimal("4.99"),
        dropoff_address=customer.default_address if customer else None,
    )
    orders.mark_paid(order)
    handling.accept_order(order)
    handling.mark_ready(order, provider="doordash")
    assignment = _assignment_of(order)
    db.session.commit()
    send_to_provider(str(assignment.id))
    _move_on(str(assignment.id))
    return str(assignment.id)


def _known_at_doordash(external_id: str) -> bool:
    try:
        provider("doordash").get(external_id)
    except ProviderError:
        return False
    return True


def _assignment_of(order) -> DeliveryAssignment:
    """The order's delivery, made when the shop marked it ready with DoorDash."""
    return db.session.scalar(
        sa.select(DeliveryAssignment).where(DeliveryAssignment.order_id == order.id)
    )


def _move_on(assignment_id: str) -> None:
    """The Dasher's steps on the local server, then its webhooks' events applied as the portal
    would apply them (the portal is not serving yet)."""
    gateway = provider("doordash")
    base = current_app.config["DOORDASH_API_BASE"].rstrip("/")
    for name in DEMO_PROGRESS:
        response = requests.post(
            f"{base}/_control/deliveries/{assignment_id}/advance",
            json={"event": name, "location": {"lat": 45.5405, "lng": -122.6502}},
            timeout=10,
        )
        if response.status_code == 400:  # a second run: it moved on before
            continue
        response.raise_for_status()
    events = requests.get(f"{base}/_control/events", timeout=10).json()
    for event in events:
        if event["payload"].get("external_delivery_id") == assignment_id:
            apply_report(gateway.report(event["payload"]), "doordash")
    assignment = db.session.get(DeliveryAssignment, uuid.UUID(assignment_id))
    record_booking(
        assignment,
        provider_row(assignment, "doordash"),
        gateway.get(assignment_id),
        booked_by="found",
    )
    db.session.commit()
