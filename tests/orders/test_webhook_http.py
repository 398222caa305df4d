"""POST /webhooks/orders over real HTTP, against the live server, signed as a storefront signs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.orders.models import Order, OrderEvent
from portal.orders.webhooks import signature_header
from tests.orders.helpers import established_shop, now

SECRET_KEY = "ORDER_WEBHOOK_SECRET"


@pytest.fixture
def shop(live_server, committed):
    vendor = established_shop()
    vendor_id = vendor.id
    committed.commit()
    return vendor_id


@pytest.fixture
def post(app, live_server):
    """Send a body to the webhook; returns (status, JSON answer)."""

    def send(body, *, secret=None, timestamp=None, signature=None, raw=None):
        data = raw if raw is not None else json.dumps(body).encode()
        header = signature or signature_header(secret or app.config[SECRET_KEY], data, timestamp)
        request = urllib.request.Request(
            f"{live_server}/webhooks/orders",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "Portal-Signature": header},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    return send


def order_body(vendor_id, external_id="medusa-1001", **changes):
    order = {
        "external_id": external_id,
        "checkout_id": "cart_01HXYZ",
        "vendor_id": str(vendor_id),
        "customer": {"email": "buyer@example.com", "name": "Bea Buyer"},
        "currency": "USD",
        "items": [
            {"sku": "MUG-1", "title": "Mug", "quantity": 2, "unit_price": "12.50"},
            {"sku": "TEA-1", "title": "Tea", "quantity": 1, "unit_price": "7.99"},
        ],
        "subtotal": "32.99",
        "delivery_fee": "4.99",
        "points_discount": "1.00",
        "total": "36.98",
        "delivery": {"dropoff_address": {"line1": "1 Main St", "city": "Portland"}},
    }
    order.update(changes)
    return order


def event(event_type, order, *, event_id=None, refund=None):
    data = {"order": order}
    if refund:
        data["refund"] = refund
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "created": int(time.time()),
        "data": data,
    }


def counts():
    db.session.expire_all()
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Order)),
        db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)),
        db.session.scalar(sa.select(sa.func.count()).select_from(CommissionRecord)),
    )


def test_signed_events_are_processed_and_replays_are_duplicates(shop, post, committed):
    placed = event("order.placed", order_body(shop))
    assert post(placed) == (200, {"status": "processed"})
    assert post(placed) == (200, {"status": "duplicate"})
    assert post(event("order.paid", {"external_id": "medusa-1001"})) == (
        200,
        {"status": "processed"},
    )
    refund = event(
        "order.refunded", {"external_id": "medusa-1001"}, refund={"id": "re_1", "amount": "10.00"}
    )
    assert post(refund) == (200, {"status": "processed"})

    assert counts() == (1, 3, 2)
    order = db.session.scalar(sa.select(Order))
    assert order.status == "partially_refunded" and order.refunded_amount == Decimal("10.00")
    assert order.total == Decimal("36.98") and order.dropoff_address["city"] == "Portland"


def test_a_wrong_signature_is_refused_and_writes_nothing(shop, post, committed):
    placed = event("order.placed", order_body(shop))
    assert post(placed, secret="not-the-secret")[0] == 401
    status, answer = post(placed, signature="t=123")
    assert status == 401 and "error" in answer
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("skew", [-3600, 3600])
def test_a_stale_or_future_timestamp_is_refused(shop, post, committed, skew):
    placed = event("order.placed", order_body(shop))
    assert post(placed, timestamp=int(time.time()) + skew)[0] == 401
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda body: b"{not json", "not valid JSON"),
        (lambda body: {**body, "type": "order.shipped"}, "unknown event type"),
        (lambda body: {k: v for k, v in body.items() if k != "id"}, "missing id"),
        (
            lambda body: {**body, "data": {"order": {**body["data"]["order"], "subtotal": 32.99}}},
            "subtotal",
        ),
        (
            lambda body: {**body, "data": {"order": {**body["data"]["order"], "total": "36.9801"}}},
            "total",
        ),
        (lambda body: {**body, "data": {"order": {**body["data"]["order"], "items": []}}}, "items"),
    ],
)
def test_a_malformed_body_gets_400_with_the_reason(shop, post, committed, mutate, reason):
    body = mutate(event("order.placed", order_body(shop)))
    status, answer = post(None, raw=body) if isinstance(body, bytes) else post(body)
    assert status == 400 and reason in answer["error"]
    assert counts() == (0, 0, 0)


def test_an_unknown_vendor_gets_400(shop, post, committed):
    status, answer = post(event("order.placed", order_body(uuid.uuid4())))
    assert (status, answer) == (400, {"error": "unknown vendor"})


def test_amounts_that_do_not_add_up_get_400(shop, post, committed):
    status, answer = post(event("order.placed", order_body(shop, subtotal="33.00", total="36.99")))
    assert status == 400 and "sum of the items" in answer["error"]
    status, answer = post(event("order.placed", order_body(shop, total="40.00")))
    assert status == 400 and "total" in answer["error"]
    assert counts() == (0, 0, 0)


def test_a_refund_above_what_is_left_gets_400(shop, post, committed):
    post(event("order.placed", order_body(shop)))
    post(event("order.paid", {"external_id": "medusa-1001"}))
    status, answer = post(
        event(
            "order.refunded",
            {"external_id": "medusa-1001"},
            refund={"id": "re_big", "amount": "36.99"},
        )
    )
    assert status == 400 and "above what is left" in answer["error"]
    assert counts() == (1, 2, 1)


def test_completed_before_paid_gets_409(shop, post, committed):
    post(event("order.placed", order_body(shop)))
    status, answer = post(event("order.completed", {"external_id": "medusa-1001"}))
    assert status == 409 and "cannot become completed" in answer["error"]
    assert counts() == (1, 1, 0)


def test_an_unknown_order_gets_400(shop, post, committed):
    status, answer = post(event("order.paid", {"external_id": "nobody-knows"}))
    assert status == 400 and "unknown order" in answer["error"]


def test_events_keep_their_own_time(shop, post, committed):
    body = event("order.placed", order_body(shop))
    body["created"] = int(time.time()) - 3 * 24 * 3600  # a storefront retrying an old event
    assert post(body)[0] == 200
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order))
    assert now() - order.created_at > timedelta(days=2, hours=23)


def test_concurrent_events_serialize_on_the_order_and_the_volume(shop, post, committed):
    from concurrent.futures import ThreadPoolExecutor

    from portal.tiers.models import VendorMonthlyVolume

    external_ids = [f"medusa-{n}" for n in range(6)]
    for external_id in external_ids:
        assert post(event("order.placed", order_body(shop, external_id)))[0] == 200
    with ThreadPoolExecutor(max_workers=6) as pool:
        paid = list(pool.map(lambda x: post(event("order.paid", {"external_id": x})), external_ids))
    assert {status for status, _ in paid} == {200}
    refunds = [
        event(
            "order.refunded",
            {"external_id": "medusa-0"},
            refund={"id": f"re_{n}", "amount": "5.00"},
        )
        for n in range(5)
    ]
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(post, refunds))
    assert {status for status, _ in answers} == {200}

    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == "medusa-0"))
    assert order.refunded_amount == Decimal("25.00")
    assert counts()[2] == 6 + 5
    volume = db.session.scalar(sa.select(VendorMonthlyVolume))
    assert volume.total_orders == 6
    assert volume.total_sales == Decimal("32.99") * 6 - order.refunded_subtotal


# --- refunds that name lines or the delivery fee ----------------------------------------------
# The order: MUG-1 12.50 x 2, TEA-1 7.99 (subtotal 32.99), delivery 4.99, points 1.00, total 36.98;
# bronze commission 15%: 4.95 on the sale.


def paid_webhook_order(shop, post):
    post(event("order.placed", order_body(shop)))
    post(event("order.paid", {"external_id": "medusa-1001"}))


def refund_event(refund_id, **refund):
    return event(
        "order.refunded", {"external_id": "medusa-1001"}, refund={"id": refund_id, **refund}
    )


def order_now() -> Order:
    db.session.expire_all()
    return db.session.scalar(sa.select(Order))


def commission_left() -> Decimal:
    return db.session.scalar(sa.select(sa.func.sum(CommissionRecord.commission_amount)))


def test_a_delivery_refund_leaves_the_merchandise_and_commission_alone(shop, post, committed):
    paid_webhook_order(shop, post)
    answer = post(refund_event("re_d", amount="4.99", delivery_amount="4.99"))
    assert answer == (200, {"status": "processed"})
    order = order_now()
    # Pro rata, 4.99 of 36.98 would have taken 4.45 of the vendor's merchandise.
    assert (order.refunded_amount, order.refunded_subtotal) == (Decimal("4.99"), Decimal("0.00"))
    assert commission_left() == Decimal("4.95")


def test_a_line_refund_returns_the_line_less_its_points_and_reverses_it(shop, post, committed):
    paid_webhook_order(shop, post)
    # 12.50 of goods, less round(1.00 x 12.50 / 32.99) = 0.38 of the points: 12.12.
    answer = post(refund_event("re_l", amount="12.12", items=[{"sku": "MUG-1", "quantity": 1}]))
    assert answer == (200, {"status": "processed"})
    order = order_now()
    assert (order.refunded_amount, order.refunded_subtotal) == (Decimal("12.12"), Decimal("12.50"))
    mug = next(line for line in order.items if line.sku == "MUG-1")
    assert (mug.quantity, mug.refunded_quantity) == (2, 1)
    # Left: round(4.95 x 20.49 / 32.99) = 3.07.
    assert commission_left() == Decimal("3.07")


@pytest.mark.parametrize(
    ("refund", "reason"),
    [
        ({"amount": "12.50", "items": [{"sku": "MUG-1", "quantity": 1}]}, "must be 12.12"),
        ({"amount": "37.00", "items": [{"sku": "MUG-1", "quantity": 3}]}, "2 bought and 2 left"),
        ({"amount": "1.00", "items": [{"sku": "NOPE", "quantity": 1}]}, "no SKU NOPE"),
        ({"amount": "5.00", "delivery_amount": "5.00"}, "delivery fee left to refund (4.99)"),
        ({"amount": "5.00", "items": {"sku": "MUG-1"}}, "data.refund.items must be a list"),
        ({"amount": "5.00", "items": [{"quantity": 1}]}, "needs a product_id or a sku"),
        ({"amount": "5.00", "items": [{"sku": "MUG-1", "quantity": 0}]}, "above zero"),
    ],
)
def test_a_refund_that_does_not_fit_gets_400_with_the_expected_figure(
    shop, post, committed, refund, reason
):
    paid_webhook_order(shop, post)
    status, answer = post(refund_event("re_bad", **refund))
    assert status == 400 and reason in answer["error"], answer
    assert order_now().refunded_amount == 0 and counts() == (1, 2, 1)


def test_line_delivery_and_pro_rata_refunds_combine_to_exactly_the_order(shop, post, committed):
    paid_webhook_order(shop, post)
    assert post(refund_event("re_1", amount="4.99", delivery_amount="4.99"))[0] == 200
    assert post(refund_event("re_2", amount="10.00"))[0] == 200  # pro rata over what is left
    status, answer = post(
        refund_event("re_3", amount="7.75", items=[{"sku": "TEA-1", "quantity": 1}])
    )
    assert status == 200, answer
    left = order_now().total - order_now().refunded_amount
    assert post(refund_event("re_4", amount=str(left)))[0] == 200
    order = order_now()
    assert order.status == "refunded" and order.refunded_subtotal == order.subtotal
    assert commission_left() == 0


def test_the_storefronts_own_order_number_is_kept_beside_the_shops(shop, post, committed, app):
    first = app.config["FIRST_ORDER_NUMBER"]
    assert post(event("order.placed", order_body(shop, "m-1", order_number="#R-2044")))[0] == 200
    # A MedusaJS display_id is a whole number.
    assert post(event("order.placed", order_body(shop, "m-2", order_number=2045)))[0] == 200
    assert post(event("order.placed", order_body(shop, "m-3")))[0] == 200
    for bad, reason in ((True, "non-empty string"), ("x" * 65, "longer than 64"), ([1], "string")):
        status, answer = post(event("order.placed", order_body(shop, "m-4", order_number=bad)))
        assert status == 400 and reason in answer["error"], bad
    db.session.expire_all()
    placed = db.session.execute(
        sa.select(Order.external_id, Order.number, Order.external_number).order_by(Order.number)
    ).all()
    assert placed == [
        ("m-1", first, "#R-2044"),
        ("m-2", first + 1, "2045"),
        ("m-3", first + 2, None),
    ]
