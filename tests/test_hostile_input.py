"""Every form and JSON endpoint of the URL map, fed hostile values, answers below 500.

The walker iterates ``app.url_map``, so an endpoint added later is walked without anyone editing
this file: signed in as the role its URL prefix belongs to (anonymous for the public ones), with
seeded ids for the URL arguments it needs. It sends every value of ``tests/hostile_corpus.py``
in the query string, in every form field at once, in each field of the page's own form one at a
time (the others keeping their valid values, so the service behind the form is reached), and as
uploads; the webhook gets signed hostile JSON. An endpoint it does not know how to reach (a new
role prefix, a URL argument without a seeded value, a raw-body endpoint without a sender) fails
the walk until it is taught or listed in ``SKIPPED`` with a reason.
"""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask_wtf import FlaskForm
from PIL import Image
from wtforms import FormField

from portal import create_app
from portal.catalog import products as product_service
from portal.catalog import remaps
from portal.catalog.imports import create_import
from portal.clock import utcnow
from portal.config import TestConfig
from portal.customers.services import customer_for_user
from portal.deliveries import documents
from portal.deliveries.models import DeliveryOffer
from portal.deliveries.services import driver_for_user
from portal.extensions import db, limiter
from portal.loyalty import points
from portal.obfuscation import services as obfuscation
from portal.orders.webhooks import signature_header
from portal.payouts.models import ConnectedAccount
from portal.payouts.stripe_local import signature_header as stripe_signature
from portal.tiers.close import request_month_close
from portal.vendors import staff
from tests import hostile_corpus as corpus
from tests import second_factor
from tests.auth.test_access import PUBLIC_ENDPOINTS
from tests.catalog.helpers import product, shop
from tests.catalog.review.helpers import master_with, propose
from tests.deliveries.driver_files import pdf_bytes
from tests.deliveries.helpers import delivery_row
from tests.deliveries.tracking_helpers import tracked
from tests.factories import PASSWORD, make_admin, make_customer, make_driver
from tests.orders.helpers import paid_order
from tests.payouts.helpers import payout_run_with_a_failure_and_a_hold

ROLE_PREFIXES = {
    "/files": "vendor",  # a shop's private files: its members (and admins)
    "/security": "customer",  # any signed-in account's own security page
    "/admin": "admin",
    "/vendor": "vendor",
    "/driver": "driver",
    "/driver-documents": "driver",  # a driver's own document (and admins')
    "/account": "customer",
}
SKIPPED = {
    "static": "serves files from static/; no input reaches a form, a query or the database",
}
# The URL arguments the world fixture seeds a value for.
SEEDED_ARGS = (
    "product_id",
    "image_id",
    "import_id",
    "invitation_id",
    "member_id",
    "vendor_id",
    "close_id",
    "order_id",
    "token",
    "field",
    "role",
    "path",
    "message_id",
    "name",
    "run_id",
    "payout_id",
    "code",
    "delivery_id",
    "driver_id",
    "document_id",
    "offer_id",
    "slug",
    "customer_id",
    "proposal_id",
    "request_id",
    "queue",
    "job_id",
)
# Query-string names the pages read (a page reading a new one is walked with it too, as every
# value is also sent under each name at once).
QUERY_NAMES = (
    "q",
    "page",
    "month",
    "status",
    "date_from",
    "date_to",
    "sort",
    "category",
    "brand",
    "mapping",
    "in_stock",
    "archived",
    "edit",
    "next",
    "product",
    "field",
    "before",
)
# Form names read with request.form.get() rather than through a WTForms form.
EXTRA_FORM_NAMES = ("value", "gtin", "sku")
# Valid values for fields a page shows empty (a new product's price), so that the field-by-field
# pass gets past validation to the service.
VALID_VALUES = {
    "title": "Walked title",
    "price": "2.50",
    "inventory": "3",
    "name": "Walked Shop",
    "email": "walker@example.com",
    "password": "a long walker password",
    "confirm": "a long walker password",
    "full_name": "Walker",
    "month": "2020-02",
    "note": "walked",
}
FILE_FIELDS = {
    "image": ("bomb.png", "large.png", "garbage.png"),
    "logo": ("bomb.png", "large.png", "garbage.png"),
    "file": ("empty.csv", "nul.csv", "numbers.csv", "formula.csv", "latin1.csv"),
}


def _url_map_rules():
    app = create_app(TestConfig)
    return sorted(
        (rule for rule in app.url_map.iter_rules()),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


RULES = _url_map_rules()


def role_for(rule) -> str | None:
    """The role a rule belongs to (``"anonymous"`` for public ones), None when unknown."""
    if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "auth.logout":
        return "anonymous"
    for prefix, role in ROLE_PREFIXES.items():
        if rule.rule == prefix or rule.rule.startswith(prefix + "/"):
            return role
    if rule.endpoint.startswith(
        ("webhooks.", "stripe_webhooks.", "provider_webhooks.", "points_api.")
    ):
        return "anonymous"  # signed, not signed in
    if rule.endpoint == "positions.ping":
        return "anonymous"  # a driver's signed token, no sign-in
    return None


def all_form_field_names() -> set[str]:
    """Every field name of every WTForms form in the app (FormField sub-fields prefixed)."""
    names: set[str] = set()
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        for name in dir(form):
            unbound = getattr(form, name)
            if getattr(unbound, "field_class", None) is None:
                continue
            if unbound.field_class is FormField:
                inner = unbound.args[0] if unbound.args else unbound.kwargs["form_class"]
                names.update(
                    f"{name}-{sub}"
                    for sub in dir(inner)
                    if getattr(getattr(inner, sub), "field_class", None) is not None
                )
            else:
                names.add(name)
    names.discard("csrf_token")
    return names | set(EXTRA_FORM_NAMES)


class FormScraper(HTMLParser):
    """The fields (and their current values) of the POST forms on a page."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.files: set[str] = set()
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and name != "csrf_token":
            kind = attrs.get("type", "text")
            if kind == "file":
                self.files.add(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "y")
            elif kind not in ("submit", "button", "image", "reset"):
                self.values.setdefault(name, attrs.get("value", ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in attrs or self._select not in self.values:
                self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


# --- the seeded world ---------------------------------------------------------------------------


@pytest.fixture
def world(app, db_session):
    """One of everything a URL can name: a shop with a product, photo, import, order and staff."""
    admin = make_admin()
    admin_key = second_factor.enroll(admin)  # the walk reaches what the money actions do
    customer = make_customer()
    driver = make_driver()
    driver_profile = driver_for_user(driver)
    owner, vendor = shop(shop_name="Walker Shop")
    item = product(vendor, title="Walked product", sku="WALK-1")
    image = product_service.add_image(item, _small_png(), app.config["PRODUCT_IMAGE_MAX_PIXELS"])
    product_import = create_import(
        vendor,
        f"{corpus.CSV_HEADER}\nA,T,,,,,1,1,active,\n".encode(),
        filename="walk.csv",
        rows=1,
        requested_by=owner,
    )
    invitation, _ = staff.invite_staff(vendor, "staff-walk@example.com", invited_by=owner)
    member_user = staff.join_with_new_account(invitation, PASSWORD)
    member = staff.membership_of(member_user)
    _, pending_token = staff.invite_staff(vendor, "pending-walk@example.com", invited_by=owner)
    pending = staff.pending_invitations(vendor)[0]
    order = paid_order(vendor, items=[("5.00", 1)])
    close = request_month_close(2020, 1, admin)
    run = payout_run_with_a_failure_and_a_hold(db.session, vendor, shop(shop_name="Held Shop")[1])
    delivery = tracked("enroute_to_pickup", order=order)  # reassign and cancel are reached
    delivered = tracked("delivered")  # its tracking page has the rating form
    offer = DeliveryOffer(  # the walking driver's offer: accept and decline are reached
        assignment_id=tracked("created").id,
        driver_id=driver_profile.id,
        offered_at=utcnow(),
        expires_at=utcnow() + timedelta(minutes=5),
    )
    db.session.add(offer)
    db.session.flush()
    points.adjust(customer_for_user(customer).id, 40, "Walked points", actor=admin)
    users = {"admin": admin, "customer": customer, "driver": driver, "vendor": owner}
    args = {
        "product_id": item.id,
        "image_id": image.id,
        "import_id": product_import.id,
        "invitation_id": pending.id,
        "member_id": member.id,
        "vendor_id": vendor.id,
        "close_id": close.id,
        "order_id": str(order.id),
        "token": pending_token,
        "field": "price",
        "role": "customer",
        "path": image.path,
        # A stored mail's id (the shape portal.mail gives it); none exists, so its page is a 404,
        # and the hostile values still go through the argument.
        "message_id": "20260101000000-000000000000",
        "name": "orders-waiting",  # an admin sidebar count
        "run_id": run.id,
        "payout_id": run.payouts[0].id,  # failed: its retry is a POST the walker sends
        "code": obfuscation.create_classification("walk-code", "Walked").classification_code,
        "delivery_id": delivery.id,
        "driver_id": driver_profile.id,
        "document_id": documents.store_document(
            driver_profile, io.BytesIO(pdf_bytes()), filename="walk.pdf"
        ).id,
        "offer_id": offer.id,
        "slug": vendor.slug,  # its public page
        "customer_id": customer_for_user(customer).id,
        # A match waiting for review: approve, reject, remap and merge are reached.
        "proposal_id": propose(vendor, master_with(vendor, "Walked master")).id,
        # A failed job's retry and delete: no such job, so a 404, and the values still go through.
        "queue": "default",
        "job_id": "walked-job",
        "request_id": remaps.request_remap(  # an open remap request: resolve and decline
            vendor, item, "Walked: a remap request's note.", requested_by=owner
        ).id,
    }
    assert set(args) == set(SEEDED_ARGS)
    # Arguments whose seeded value depends on the endpoint.
    endpoint_args = {
        "private_files.file": {"path": product_import.file_path.partition("/")[2]},
        **{
            f"tracking.{name}": {"token": delivered.tracking_token}
            for name in ("page", "status", "rate")
        },
    }
    return {
        "users": users,
        "args": args,
        "endpoint_args": endpoint_args,
        "vendor": vendor,
        "admin_key": admin_key,
        "driver_profile": driver_profile,
    }


def _small_png():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def sign_in(client, role: str, users: dict, admin_key: str | None = None) -> None:
    limiter.reset()  # the hostile sign-in attempts must not lock the walker itself out
    client.post("/logout")
    if role != "anonymous":
        response = client.post("/login", data={"email": users[role].email, "password": PASSWORD})
        assert response.status_code == 302, f"could not sign in as {role}"
    if role == "admin":
        second_factor.prove(client, admin_key)


def build_path(rule, args: dict, hostile: str | None = None) -> str:
    """The rule's URL with seeded ids; ``hostile`` replaces every free-text argument."""
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        if hostile is not None and converter in ("UnicodeConverter", "PathConverter"):
            values[name] = hostile
        else:
            values[name] = args[name]
    return rule.build(values, append_unknown=False)[1]


class Walk:
    """Sends requests and keeps every 5xx (or exception) with what caused it."""

    def __init__(self, client):
        self.client = client
        self.failures: list[str] = []

    def send(self, what: str, method: str, path: str, **kwargs) -> None:
        try:
            response = self.client.open(path, method=method, **kwargs)
            response.get_data()  # a streamed body runs to its end
            response.close()
            status = response.status_code
        except Exception as error:  # testing mode propagates what would be a 500
            db.session.rollback()
            self.failures.append(
                f"{method} {path:.120} {what}: {type(error).__name__}: {error!s:.200}"
            )
            return
        if status >= 500:
            self.failures.append(f"{method} {path:.120} {what}: {status}")


def walk_get(walk: Walk, rule, args: dict) -> None:
    for value in corpus.VALUES:
        query = dict.fromkeys(QUERY_NAMES, value)
        walk.send(f"query={value!r:.40}", "GET", build_path(rule, args), query_string=query)
        if any(
            type(c).__name__ in ("UnicodeConverter", "PathConverter")
            for c in rule._converters.values()
        ):
            walk.send(f"path={value!r:.40}", "GET", build_path(rule, args, value))


def walk_form(walk: Walk, rule, args: dict, names: set[str]) -> None:
    path = build_path(rule, args)
    page = walk.client.get(path) if _has_get(rule) else None
    scraper = FormScraper()
    if page is not None and page.status_code == 200 and page.mimetype == "text/html":
        scraper.feed(page.get_data(as_text=True))
    base = {name: value or VALID_VALUES.get(name, "") for name, value in scraper.values.items()}
    for value in corpus.VALUES:
        data = {**base, **dict.fromkeys(names | set(base), value)}
        walk.send(f"all fields={value!r:.40}", "POST", path, data=data)
    for field in sorted(base):
        for value in corpus.FIELD_VALUES:
            walk.send(f"{field}={value!r:.40}", "POST", path, data={**base, field: value})
    # A page's own file inputs; an endpoint without a page gets every kind of upload.
    for field in scraper.files if page is not None else set(FILE_FIELDS):
        for name in FILE_FIELDS.get(field, ()):
            walk.send(
                f"{field}={name}",
                "POST",
                path,
                data={**base, field: corpus.file_upload(name)},
                content_type="multipart/form-data",
            )
    # Bytes that are not UTF-8 at all, as a raw form body.
    walk.send(
        "raw bytes",
        "POST",
        path,
        data=b"title=%ED%A0%80&value=%FF%FE",
        content_type="application/x-www-form-urlencoded",
    )


def _has_get(rule) -> bool:
    return any("GET" in other.methods for other in RULES if other.rule == rule.rule)


def walk_order_webhook(walk: Walk, rule, app, world) -> None:
    secret = app.config["ORDER_WEBHOOK_SECRET"]
    bodies = dict(corpus.JSON_BODIES)
    order = {
        "external_id": "walk-1",
        "checkout_id": "c",
        "vendor_id": str(world["vendor"].id),
        "customer": {"email": "b@example.com"},
        "currency": "USD",
        "items": [{"title": "T", "quantity": 1, "unit_price": "1.00", "sku": "WALK-1"}],
        "subtotal": "1.00",
        "delivery_fee": "0",
        "points_discount": "0",
        "total": "1.00",
    }
    for where, value in [
        ("quantity", 2**31),
        ("quantity", 10**30),
        ("title", "a\u0000b"),
        ("title", "\ud800"),
        ("unit_price", "1e27"),
        ("unit_price", "9" * 30),
        ("sku", "x" * 5000),
    ]:
        item = {**order["items"][0], where: value}
        event = {
            "id": f"walk-{where}-{value!s:.10}",
            "type": "order.placed",
            "created": int(time.time()),
            "data": {"order": {**order, "items": [item]}},
        }
        bodies[f"item {where}={value!r:.20}"] = json.dumps(event).encode()
    send_signed(walk, rule, bodies, "Portal-Signature", lambda body: signature_header(secret, body))


def walk_points_holds(walk: Walk, rule, app, world) -> None:
    """The storefronts' points holds: the corpus's bodies, then signed ones with hostile fields."""
    secret = app.config["ORDER_WEBHOOK_SECRET"]
    bodies = dict(corpus.JSON_BODIES)
    hold = {"id": "walk-hold", "customer_email": "b@example.com", "points": 5, "hold": "ph_x"}
    changes = [
        ("points", 2**31),
        ("points", 10**30),
        ("points", -1),
        ("points", 1.5),
        ("points", "5"),
        ("id", "x" * 5000),
        ("hold", ["x"]),
        ("customer_email", {"a": 1}),
    ]
    changes += [(key, value) for key in ("id", "hold") for value in corpus.TEXT[:6]]
    for where, value in changes:
        bodies[f"{where}={value!r:.20}"] = json.dumps({**hold, where: value}).encode()
    send_signed(walk, rule, bodies, "Portal-Signature", lambda body: signature_header(secret, body))


def send_signed(walk: Walk, rule, bodies: dict[str, bytes], header: str, sign) -> None:
    for what, body in bodies.items():
        walk.send(
            what,
            "POST",
            rule.rule,
            data=body,
            content_type="application/json",
            headers={header: sign(body)},
        )


def walk_stripe_webhook(walk: Walk, rule, app, world) -> None:
    """Stripe's endpoints: the corpus's bodies, then signed events whose envelope or object is
    not as Stripe's are (types whose handlers do not call Stripe: none runs here)."""
    secret = app.config[
        "STRIPE_CONNECT_WEBHOOK_SECRET"
        if rule.endpoint == "stripe_webhooks.connect"
        else "STRIPE_WEBHOOK_SECRET"
    ]
    # The vendor's account, so that the payout handler reaches the hostile objects.
    db.session.add(
        ConnectedAccount(
            vendor_id=world["vendor"].id, stripe_account_id="acct_walk", account_type="express"
        )
    )
    db.session.flush()
    bodies = dict(corpus.JSON_BODIES)
    envelope = {
        "id": "evt_walk",
        "object": "event",
        "created": int(time.time()),
        "livemode": False,
        "type": "payout.paid",
        "account": "acct_walk",
        "data": {"object": {"id": "po_walk", "amount": 100, "currency": "usd", "status": "paid"}},
    }
    changes = [
        ("id", "x" * 5000),
        ("id", 5),
        ("type", "x" * 5000),
        ("type", None),
        ("account", ["acct"]),
        ("account", "acct_" + "x" * 5000),
        ("created", 10**30),
        ("created", "soon"),
        ("livemode", "no"),
        ("data", "nothing"),
        ("data", {"object": []}),
    ]
    for value in corpus.TEXT[:6]:
        changes.append(("account", value))
    payouts = [
        {},
        {"id": "po_1", "amount": 10**30, "currency": "usd", "status": "paid", "created": 1},
        {"id": "po_2", "amount": "ten", "currency": "usd", "status": "paid", "created": 1},
        {"id": ["po"], "amount": 1, "currency": "usd", "status": "paid", "created": 1},
        {"id": "po_3", "amount": 1, "currency": "x" * 500, "status": ["paid"], "created": 1},
        {"id": "po_4", "amount": 1, "currency": "usd", "status": "paid", "created": 10**30},
    ]
    for where, value in changes:
        bodies[f"{where}={value!r:.20}"] = {**envelope, where: value}
    for payout in payouts:
        bodies[f"payout {payout!r:.40}"] = {**envelope, "data": {"object": payout}}
    bodies["deauthorized"] = {**envelope, "type": "account.application.deauthorized"}
    for n, (what, body) in enumerate(bodies.items()):
        if isinstance(body, dict):  # each its own id, so none is taken for a replay
            event_id = body["id"] if body["id"] != "evt_walk" else f"evt_walk_{n}"
            bodies[what] = json.dumps({**body, "id": event_id}).encode()
    send_signed(walk, rule, bodies, "Stripe-Signature", lambda body: stripe_signature(body, secret))


def walk_doordash_webhook(walk: Walk, rule, app, world) -> None:
    """DoorDash's endpoint: the corpus's bodies, then events for a real DoorDash delivery whose
    fields are not as DoorDash's are, each with the configured Authorization header."""
    delivery = delivery_row(paid_order(world["vendor"], items=[("5.00", 1)]), provider="doordash")
    bodies = dict(corpus.JSON_BODIES)
    envelope = {
        "event_name": "DASHER_PICKED_UP",
        "external_delivery_id": str(delivery.id),
        "created_at": "2026-01-01T10:00:00Z",
        "dasher_location": {"lat": 45.5, "lng": -122.6},
    }
    changes = [
        ("event_name", "x" * 5000),
        ("event_name", ["DASHER_PICKED_UP"]),
        ("external_delivery_id", "x" * 5000),
        ("external_delivery_id", 5),
        ("created_at", "0001-01-01T00:00:00+05:00"),
        ("created_at", "9999-12-31T23:59:59-14:00"),
        ("created_at", 10**30),
        ("dasher_location", {"lat": "north", "lng": None}),
        ("dasher_location", {"lat": 10**300, "lng": -(10**300)}),
        ("dasher_location", [1, 2]),
        ("dasher_name", "x" * 5000),
        ("tracking_url", "x" * 50_000),
        ("fee", 10**30),
        ("cancellation_reason", "x" * 5000),
        ("dropoff_verification_image_url", ["x"]),
    ]
    for value in corpus.TEXT[:6]:
        changes.append(("dasher_name", value))
    for n, (where, value) in enumerate(changes):
        event = {**envelope, where: value, "created_at": envelope["created_at"]}
        if where == "created_at":
            event["created_at"] = value
        else:
            event["created_at"] = f"2026-01-01T10:{n // 60:02d}:{n % 60:02d}Z"  # none a replay
        bodies[f"{where}={value!r:.20}"] = json.dumps(event).encode()
    bodies["cancelled"] = json.dumps({**envelope, "event_name": "DELIVERY_CANCELLED"}).encode()
    authorization = app.config["DOORDASH_WEBHOOK_AUTHORIZATION"]
    send_signed(walk, rule, bodies, "Authorization", lambda body: authorization)


def walk_position_pings(walk: Walk, rule, app, world) -> None:
    """The ping endpoint: the corpus's bodies, then pings with a valid token whose other fields
    are not numbers or not in range, and tokens that are not tokens."""
    from portal.deliveries import positions

    token = positions.position_token(world["driver_profile"])
    bodies = dict(corpus.JSON_BODIES)
    ping = {"token": token, "lat": 45.5, "lng": -122.6, "captured_at": 1}
    changes = [
        ("lat", 1e308),
        ("lat", "x" * 5000),
        ("lng", [1]),
        ("captured_at", 10**30),
        ("captured_at", -1),
        ("captured_at", {"a": 1}),
        ("token", 5),
        ("token", ["x"]),
        ("token", "x" * 5000),
    ]
    changes += [("token", value) for value in corpus.TEXT[:10]]
    changes += [("lat", value) for value in corpus.TEXT[:6]]
    for where, value in changes:
        bodies[f"{where}={value!r:.20}"] = json.dumps({**ping, where: value}).encode()
    send_signed(walk, rule, bodies, "X-Walk", lambda body: "ping")


RAW_BODY_SENDERS = {
    "positions.ping": walk_position_pings,
    "provider_webhooks.doordash": walk_doordash_webhook,
    "webhooks.receive_order_event": walk_order_webhook,
    "points_api.hold_points": walk_points_holds,
    "points_api.release_points": walk_points_holds,
    "stripe_webhooks.platform": walk_stripe_webhook,
    "stripe_webhooks.connect": walk_stripe_webhook,
}


def test_the_walker_knows_how_to_reach_every_endpoint():
    """A new endpoint fails here until the walker can reach it (or it is skipped with a reason)."""
    app = create_app(TestConfig)
    seeded = set(SEEDED_ARGS)
    unknown = []
    for rule in RULES:
        if rule.endpoint in SKIPPED:
            continue
        view = app.view_functions[rule.endpoint]
        if role_for(rule) is None:
            unknown.append(f"{rule.rule}: no role for this URL prefix")
        if set(rule.arguments) - seeded:
            unknown.append(f"{rule.rule}: no seeded value for {set(rule.arguments) - seeded}")
        if getattr(view, "reads_raw_body", False) and rule.endpoint not in RAW_BODY_SENDERS:
            unknown.append(f"{rule.rule}: reads a raw body, and the walker has no sender for it")
    assert not unknown, "\n".join(unknown)


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.endpoint not in SKIPPED], ids=lambda rule: f"{rule.endpoint}"
)
def test_no_hostile_value_gets_a_server_error(app, client, world, rule):
    role = role_for(rule)
    if role is None:
        pytest.fail(f"{rule.rule}: the walker does not know which role opens it")
    walk = Walk(client)
    names = all_form_field_names()
    view = app.view_functions[rule.endpoint]
    sign_in(client, role, world["users"], world["admin_key"])
    args = world["args"] | world["endpoint_args"].get(rule.endpoint, {})
    if getattr(view, "reads_raw_body", False):
        RAW_BODY_SENDERS[rule.endpoint](walk, rule, app, world)
    else:
        if "GET" in rule.methods:
            walk_get(walk, rule, args)
        if "POST" in rule.methods:
            walk_form(walk, rule, args, names)
    assert not walk.failures, "\n".join(walk.failures[:40])
