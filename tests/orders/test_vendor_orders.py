"""The shop's incoming orders: list, badge, accept → ready → cancel, detail money, access."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auth import services as accounts
from portal.customers.services import customer_for_user
from portal.deliveries.models import DeliveryAssignment
from portal.extensions import db
from portal.orders import handling
from portal.orders import services as orders
from portal.orders.breakdown import money_breakdown
from portal.orders.models import Order
from portal.referrals.models import ShopReferral
from portal.tiers import promotions
from portal.vendors.models import VendorMember
from portal.vendors.services import vendor_for_user
from tests.factories import PASSWORD, make_admin, make_customer, make_driver, make_vendor
from tests.orders.helpers import money_sums

HX = {"HX-Request": "true"}
ADDRESS = {"line1": "12 Elm Street", "city": "Portland", "postal_code": "97201"}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def shop(db_session):
    owner = make_vendor(email="owner@example.com", shop_name="Sunny Books")
    vendor = vendor_for_user(owner)
    # Past its new-vendor promotion, so the platform fee is the schedule's 2.9%.
    vendor.created_at = utcnow() - timedelta(days=365)
    db.session.flush()
    return owner, vendor


@pytest.fixture
def rival(db_session):
    owner = make_vendor(email="rival@example.com", shop_name="Rival Books")
    return owner, vendor_for_user(owner)


@pytest.fixture
def buyer(db_session):
    return customer_for_user(make_customer(email="casey@example.com", full_name="Casey Q Public"))


def order_for(vendor, *, customer=None, price="100.00", qty=1, paid=True, at=None, **kwargs):
    """An order placed (and by default paid) through order intake."""
    at = at or utcnow()
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=customer.id if customer else None,
        items=[orders.LineItem(title="Blue Mug", quantity=qty, unit_price=Decimal(price))],
        dropoff_address=ADDRESS,
        placed_at=at,
        **kwargs,
    )
    if paid:
        orders.mark_paid(order, at)
    return order


def reload(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


# --- list, filters, pagination ----------------------------------------------------------------


def test_list_shows_number_items_customer_address_and_delivery_status(client, auth, shop, buyer):
    owner, vendor = shop
    dispatched = order_for(vendor, customer=buyer, qty=2)
    order_for(vendor, customer=buyer, price="7.50", paid=False)
    db.session.add(
        DeliveryAssignment(
            order_id=dispatched.id,
            order_created_at=dispatched.created_at,
            provider="internal",
            status="enroute_to_pickup",
            pickup_address={"line1": "shop"},
            dropoff_address=ADDRESS,
        )
    )
    db.session.flush()
    auth.login(owner.email)

    response = client.get("/vendor/orders/")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert "Blue Mug \u00d7 2" in body
    assert "Casey Q Public" in body  # the customer's name, to hand the order over
    assert f">{dispatched.label}</a>" in body
    assert "12 Elm Street, Portland, 97201" in body
    # Statuses in words (portal/status_labels.py), never the stored value.
    assert "On the way to the shop" in body and "Not dispatched" in body
    assert "enroute_to_pickup" not in body.replace('data-status="enroute_to_pickup"', "")
    assert "To accept" in body and "Awaiting payment" in body
    assert "$200.00" in body and "$7.50" in body
    assert "2 orders" in body


def test_filters_by_status_and_date_and_paginates_with_htmx(client, auth, shop):
    owner, vendor = shop
    old = order_for(vendor, price="11.00", at=utcnow() - timedelta(days=40))
    # A second apart: order times are stored to the second, and orders of one second are listed
    # by id, so "newest first" below needs distinct seconds.
    start = utcnow() - timedelta(minutes=30)
    accepted = order_for(vendor, price="12.00", at=start)
    handling.accept_order(accepted)
    ready = order_for(vendor, price="13.00", at=start + timedelta(seconds=1))
    handling.accept_order(ready)
    handling.mark_ready(ready)
    for n in range(22):
        order_for(vendor, price=f"{20 + n}.00", at=start + timedelta(seconds=2 + n))
    order_for(vendor, price="99.00", paid=False)
    auth.login(owner.email)

    full = client.get("/vendor/orders/").get_data(as_text=True)
    assert "26 orders" in full and "newest first" in full and 'id="orders"' in full
    assert "$11.00" not in full and "← Newer" not in full

    # Keyset pages: the "Older" link carries the last row's place, not a page number.
    older = re.search(r'hx-get="(/vendor/orders/\?before=[^"]+)"', full).group(1)
    fragment = client.get(html.unescape(older), headers=HX)
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "26 orders" in text and "Older →" not in text
    assert "HX-Request" in fragment.headers["Vary"]
    assert "$11.00" in text  # the oldest order is on the last page: newest first
    assert text.count('class="order-row') == 6  # 26 = 20 + 6, none repeated or skipped
    newer = re.search(r'hx-get="(/vendor/orders/\?after=[^"]+)"', text).group(1)
    assert "$41.00" in client.get(html.unescape(newer), headers=HX).get_data(as_text=True)

    def listed(query: str) -> str:
        return client.get(f"/vendor/orders/?{query}", headers=HX).get_data(as_text=True)

    to_accept = listed("status=to_accept")
    assert "23 orders" in to_accept  # 22 + the old one; not the accepted, ready or pending ones
    assert "1 order ·" in listed("status=accepted") and "$12.00" in listed("status=accepted")
    assert "1 order ·" in listed("status=ready") and "$13.00" in listed("status=ready")
    assert "1 order ·" in listed("status=pending") and "$99.00" in listed("status=pending")

    day = old.created_at.date().isoformat()
    by_date = listed(f"date_from={day}&date_to={day}")
    assert "1 order ·" in by_date and "$11.00" in by_date
    # Pagination links keep the filters.
    assert "status=to_accept" in listed("status=to_accept")

    bad = client.get("/vendor/orders/?date_from=2026-05-10&date_to=2026-05-01")
    assert bad.status_code == 200
    assert "The end date is before the start date." in bad.get_data(as_text=True)


# --- the "new orders" badge -------------------------------------------------------------------


def test_badge_counts_paid_orders_waiting_for_acceptance(client, auth, shop, rival):
    owner, vendor = shop
    waiting = [order_for(vendor) for _ in range(3)]
    handling.accept_order(waiting[0])
    order_for(vendor, paid=False)  # not paid: nothing to accept yet
    order_for(vendor, at=utcnow() - timedelta(days=45))  # outside the polled window
    canceled = order_for(vendor)
    orders.cancel_order(canceled)
    order_for(rival[1])  # another shop's
    assert handling.new_orders_count(vendor.id) == 2

    auth.login(owner.email)
    badge = client.get("/vendor/orders/badge", headers=HX)
    assert badge.status_code == 200
    html = badge.get_data(as_text=True).strip()
    assert html.startswith("<mark") and ">2</mark>" in html and "<nav" not in html

    page = client.get("/vendor/").get_data(as_text=True)
    assert 'id="new-orders-badge"' in page and 'hx-get="/vendor/orders/badge"' in page
    assert "every 15s" in page and "order-updated from:body" in page

    handling.accept_order(waiting[1])
    handling.accept_order(waiting[2])
    assert client.get("/vendor/orders/badge", headers=HX).get_data(as_text=True).strip() == ""


# --- the shop's steps -------------------------------------------------------------------------


def test_accept_then_ready_calls_the_dispatch_hook(client, auth, shop, monkeypatch):
    owner, vendor = shop
    order = order_for(vendor)
    dispatched = []
    monkeypatch.setattr(handling, "request_delivery_dispatch", dispatched.append)
    auth.login(owner.email)

    accepted = client.post(f"/vendor/orders/{order.id}/accept", headers=HX)
    assert accepted.status_code == 200
    row = accepted.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="order-row-{order.id}"') and "Accepted" in row
    assert "Ready for pickup" in row  # the next step's button
    assert "order-updated" in accepted.headers["HX-Trigger"]
    assert reload(order).accepted_at is not None

    ready = client.post(f"/vendor/orders/{order.id}/ready", headers=HX)
    assert ready.status_code == 200
    assert reload(order).ready_at is not None
    assert [o.id for o in dispatched] == [order.id]

    # Replays change nothing and say why.
    first_ready = reload(order).ready_at
    again = client.post(f"/vendor/orders/{order.id}/ready", headers=HX)
    assert again.status_code == 409
    assert "marked ready for pickup already" in again.get_data(as_text=True)
    again = client.post(f"/vendor/orders/{order.id}/accept", headers=HX)
    assert again.status_code == 409 and "accepted already" in again.get_data(as_text=True)
    assert reload(order).ready_at == first_ready and len(dispatched) == 1


def test_wrong_state_actions_are_refused_with_a_message(client, auth, shop):
    owner, vendor = shop
    unpaid = order_for(vendor, paid=False)
    paid = order_for(vendor)
    completed = order_for(vendor)
    orders.complete_order(completed)
    auth.login(owner.email)

    response = client.post(f"/vendor/orders/{unpaid.id}/accept", headers=HX)
    assert response.status_code == 409
    assert "not paid yet" in response.get_data(as_text=True)

    response = client.post(f"/vendor/orders/{paid.id}/ready", headers=HX)
    assert response.status_code == 409
    assert "Accept the order before" in response.get_data(as_text=True)

    response = client.post(
        f"/vendor/orders/{completed.id}/cancel?view=detail",
        data={"reason": "out_of_stock"},
        headers=HX,
    )
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "A completed order cannot be canceled" in text and 'id="order-detail"' in text
    assert reload(completed).status == "completed"

    # The cancel form: a reason is required, "other" needs the free text (422, form shown again).
    response = client.post(f"/vendor/orders/{paid.id}/cancel", data={"reason": ""}, headers=HX)
    assert response.status_code == 422
    assert "Choose a reason for the cancellation." in response.get_data(as_text=True)
    response = client.post(f"/vendor/orders/{paid.id}/cancel", data={"reason": "other"}, headers=HX)
    assert response.status_code == 422
    assert "Say why the order is canceled." in response.get_data(as_text=True)
    assert reload(paid).status == "paid"

    # Without HTMX a refusal is a page with the message, never a 500.
    response = client.post(f"/vendor/orders/{unpaid.id}/ready")
    assert response.status_code == 409 and "<html" in response.get_data(as_text=True)


def test_cancel_with_reason_refunds_and_reverses_the_money(client, auth, shop, buyer):
    owner, vendor = shop
    order = order_for(vendor, customer=buyer, price="80.00", delivery_fee=Decimal("5.00"))
    handling.accept_order(order)
    auth.login(owner.email)

    response = client.post(
        f"/vendor/orders/{order.id}/cancel",
        data={"reason": "out_of_stock", "note": "Supplier let us down"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Canceled" in response.get_data(as_text=True)

    order = reload(order)
    assert order.status == "canceled" and order.canceled_at is not None
    assert order.cancel_reason == "Out of stock: Supplier let us down"
    assert order.refunded_amount == order.total == Decimal("85.00")
    assert order.refunded_subtotal == order.subtotal
    sums = money_sums(order)
    assert sums["order_amount"] == sums["commission"] == sums["fee"] == sums["net"] == 0

    replay = client.post(
        f"/vendor/orders/{order.id}/cancel", data={"reason": "out_of_stock"}, headers=HX
    )
    assert replay.status_code == 409 and "canceled already" in replay.get_data(as_text=True)
    assert reload(order).refunded_amount == Decimal("85.00")

    detail = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert "Reason: Out of stock: Supplier let us down" in detail


def test_cancel_without_htmx_redirects_with_a_message(client, auth, shop):
    owner, vendor = shop
    order = order_for(vendor, paid=False)
    auth.login(owner.email)
    response = client.post(
        f"/vendor/orders/{order.id}/cancel?view=detail", data={"reason": "shop_closed"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/vendor/orders/{order.id}")
    assert reload(order).cancel_reason == "Shop closed"


def test_cancel_order_keeps_its_old_signature(shop):
    _, vendor = shop
    order = order_for(vendor)
    orders.cancel_order(order, utcnow())  # the intake's call, no reason
    assert reload(order).status == "canceled" and reload(order).cancel_reason is None


# --- detail and its money ---------------------------------------------------------------------


def test_detail_breakdown_with_a_partial_refund(client, auth, shop, buyer):
    owner, vendor = shop
    order = order_for(
        vendor,
        customer=buyer,
        price="50.00",
        qty=2,
        delivery_fee=Decimal("5.00"),
        referral_session=None,
    )
    orders.refund_order(order, Decimal("42.00"), "re-1", "damaged")
    order = reload(order)

    breakdown = money_breakdown(order)
    sale = breakdown.sale
    assert (sale.order_amount, sale.commission_rate, sale.commission) == (
        Decimal("100.00"),
        Decimal("0.1500"),
        Decimal("15.00"),
    )
    assert (sale.fee_rate, sale.fee, sale.volume_tier, sale.is_promotional_rate) == (
        Decimal("0.0290"),
        Decimal("2.90"),
        "standard",
        False,
    )
    assert sale.net == Decimal("82.10")
    assert (breakdown.commission_basis, breakdown.commission_tier) == ("tier", "bronze")
    [refund] = breakdown.refunds
    # 42.00 of 105.00 paid: 40.00 of the goods; commission and fee reversed on those.
    assert (refund.amount, refund.merchandise) == (Decimal("42.00"), Decimal("40.00"))
    assert (refund.commission_reversed, refund.fee_reversed) == (Decimal("6.00"), Decimal("1.16"))
    assert breakdown.merchandise_kept == Decimal("60.00")
    assert (breakdown.commission_after, breakdown.fee_after, breakdown.net_after) == (
        Decimal("9.00"),
        Decimal("1.74"),
        Decimal("49.26"),
    )
    # subtotal - refunded merchandise = net + commission + fee
    assert breakdown.balances
    assert (
        order.subtotal - order.refunded_subtotal
        == breakdown.net_after + breakdown.commission_after + breakdown.fee_after
    )

    auth.login(owner.email)
    page = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    for text in (
        "Commission 15%",
        "Bronze tier",
        "Platform fee 2.90%",
        "standard volume tier",
        "$82.10",
        "re-1",
        "$42.00",
        "-$40.00",
        "$6.00",
        "$1.16",
        "$49.26",
        "Blue Mug",
        "12 Elm Street",
        "Placed",
        "Paid",
    ):
        assert text in page, text
    assert "does not balance" not in page and "Casey Q Public" in page


def test_breakdown_names_referral_and_promotional_fee(shop, app):
    _, vendor = shop
    vendor.created_at = utcnow() - timedelta(days=5)  # new vendor: promotional fee
    db.session.add(ShopReferral(shop_id=vendor.id, session_id="sess-1", first_visit_at=utcnow()))
    db.session.flush()
    order = order_for(vendor, referral_session="sess-1")
    breakdown = money_breakdown(reload(order))
    assert (breakdown.commission_basis, breakdown.commission_tier) == ("referral", None)
    assert breakdown.sale.is_promotional_rate is True


def test_the_breakdown_reads_the_stored_basis_not_todays_rates(shop, app):
    _, vendor = shop
    promotions.grant_promotional_tier(
        vendor.id,
        tier="gold",
        reason="launch",
        expires_at=utcnow() + timedelta(days=30),
        granted_by=make_admin(),
    )
    order = order_for(vendor)
    # Later the rate and the shop's tier change: the sale's row still says what it was.
    db.session.execute(
        sa.text("UPDATE shop_tiers SET tier = 'bronze', is_promotional = false WHERE shop_id = :s"),
        {"s": vendor.id},
    )
    breakdown = money_breakdown(reload(order))
    assert (breakdown.commission_basis, breakdown.commission_tier) == ("promotional_tier", "gold")
    assert breakdown.commission_promotional and breakdown.sale.commission_rate == Decimal("0.1000")


def test_detail_of_a_pending_order_has_no_money_yet(client, auth, shop):
    owner, vendor = shop
    order = order_for(vendor, paid=False)
    auth.login(owner.email)
    page = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert "Not paid: no commission or fee yet." in page and "Accept order" not in page


# --- access -----------------------------------------------------------------------------------

ACTIONS = ("accept", "ready", "cancel")


def test_another_shops_order_is_not_found_on_detail_and_every_action(client, auth, shop, rival):
    owner, _ = shop
    theirs = order_for(rival[1])
    auth.login(owner.email)
    assert client.get(f"/vendor/orders/{theirs.id}").status_code == 404
    assert client.get("/vendor/orders/not-a-uuid").status_code == 404
    assert client.get(f"/vendor/orders/{uuid.uuid4()}").status_code == 404
    for action in ACTIONS:
        response = client.post(
            f"/vendor/orders/{theirs.id}/{action}", data={"reason": "other", "note": "x"}
        )
        assert response.status_code == 404, action
        htmx_response = client.post(
            f"/vendor/orders/{theirs.id}/{action}", data={"reason": "out_of_stock"}, headers=HX
        )
        assert (
            htmx_response.status_code == 404 and htmx_response.headers["HX-Retarget"] == "#alerts"
        )
    theirs = reload(theirs)
    assert theirs.accepted_at is None and theirs.status == "paid"
    assert "Rival" not in client.get("/vendor/orders/").get_data(as_text=True)


def test_staff_see_and_handle_their_shops_orders(client, auth, shop):
    _, vendor = shop
    staff = accounts.create_user("staff@example.com", PASSWORD, "vendor")
    db.session.add(VendorMember(vendor_id=vendor.id, user_id=staff.id, role="staff"))
    db.session.flush()
    order = order_for(vendor)
    auth.login(staff.email)
    assert client.get("/vendor/orders/").status_code == 200
    assert client.get(f"/vendor/orders/{order.id}").status_code == 200
    assert client.post(f"/vendor/orders/{order.id}/accept", headers=HX).status_code == 200


@pytest.mark.parametrize("maker", [make_customer, make_driver, make_admin])
def test_other_roles_are_refused(client, auth, shop, maker):
    _, vendor = shop
    order = order_for(vendor)
    user = maker()
    auth.login(user.email)
    paths = ["/vendor/orders/", "/vendor/orders/badge", f"/vendor/orders/{order.id}"]
    for path in paths:
        assert client.get(path).status_code == 403, path
    for action in ACTIONS:
        assert client.post(f"/vendor/orders/{order.id}/{action}").status_code == 403
    assert reload(order).accepted_at is None


def test_anonymous_users_are_sent_to_sign_in(client, shop):
    _, vendor = shop
    order = order_for(vendor)
    for path in ["/vendor/orders/", "/vendor/orders/badge", f"/vendor/orders/{order.id}"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/vendor/orders/{order.id}/accept")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert reload(order).accepted_at is None


# --- one state machine for the buttons and the steps ------------------------------------------

SETUPS = {
    "pending": lambda v: order_for(v, paid=False),
    "paid": lambda v: order_for(v),
    "accepted": lambda v: handling.accept_order(order_for(v)),
    "ready": lambda v: handling.mark_ready(handling.accept_order(order_for(v))),
    "partially_refunded": lambda v: _refunded(order_for(v), "10.00"),
    "refunded": lambda v: _refunded(order_for(v), "100.00"),
    "completed": lambda v: orders.complete_order(order_for(v)),
    "canceled": lambda v: orders.cancel_order(order_for(v)),
}
STEPS = {
    "accept": handling.accept_order,
    "ready": handling.mark_ready,
    "shop_cancel": lambda order: handling.cancel_by_shop(order, "shop_closed"),
    "complete": orders.complete_order,
    "pay": orders.mark_paid,
}


def _refunded(order, amount):
    orders.refund_order(order, Decimal(amount), f"re-{amount}")
    return reload(order)


@pytest.mark.parametrize("state", SETUPS)
@pytest.mark.parametrize("action", STEPS)
def test_a_button_is_shown_exactly_when_its_step_is_accepted(shop, state, action):
    _, vendor = shop
    order = reload(SETUPS[state](vendor))
    shown = handling.can_take(order, action)
    savepoint = db.session.begin_nested()
    try:
        STEPS[action](order)
        accepted = True
    except orders.OrderStateConflict:
        accepted = False
    finally:
        savepoint.rollback()
    assert shown == accepted


# --- numbers, search, filters' messages -------------------------------------------------------


def test_orders_are_found_by_number_or_by_a_part_of_the_customers_name(client, auth, shop, rival):
    owner, vendor = shop
    casey = customer_for_user(make_customer(email="c@example.com", full_name="Casey Q Public"))
    dana = customer_for_user(make_customer(email="d@example.com", full_name="Dana 100% Real"))
    start = utcnow() - timedelta(minutes=10)
    first = order_for(vendor, customer=casey, price="11.00", at=start)
    second = order_for(vendor, customer=dana, price="22.00", at=start + timedelta(seconds=1))
    order_for(rival[1], customer=casey, price="33.00")  # another shop's: never listed
    auth.login(owner.email)

    def listed(q: str) -> str:
        return client.get("/vendor/orders/", query_string={"q": q}, headers=HX).get_data(True)

    for typed in (str(second.number), f"#{second.number}", f" # {second.number} "):
        page = listed(typed)
        assert "1 order ·" in page and "$22.00" in page and "$11.00" not in page, typed
    assert "No orders match these filters" in listed("#99999")
    by_name = listed("q publ")  # any case, any part
    assert "1 order ·" in by_name and "$11.00" in by_name and "$33.00" not in by_name
    assert "$22.00" in listed("100%") and "$11.00" not in listed("100%")  # % matches itself
    assert "No orders match" in listed("___")  # so does _
    # Too short to be a name (and not a number): said beside the list, not applied.
    short = listed("ca")
    assert "Type an order number, or at least 3 letters of a name." in short
    assert "2 orders" in short
    # The pager keeps the search.
    page = client.get("/vendor/orders/?q=casey&status=paid").get_data(as_text=True)
    assert 'value="casey"' in page and first.label in page


def test_a_filter_problem_reads_the_same_on_an_update_as_on_a_full_load(client, auth, shop):
    owner, vendor = shop
    order_for(vendor, price="11.00")
    auth.login(owner.email)
    query = "/vendor/orders/?date_from=2026-05-10&date_to=2026-05-01"
    full = client.get(query).get_data(as_text=True)
    update = client.get(query, headers=HX).get_data(as_text=True)
    assert "<html" in full and "<html" not in update

    def message(page: str) -> str:
        return (
            re.search(
                r'<div class="alert[^"]*" role="alert" id="order-filter-errors">(.*?)</div>',
                page,
                re.S,
            )
            .group(1)
            .strip()
        )

    assert message(full) == message(update)
    assert "The end date is before the start date." in message(update)
    assert "$11.00" in update  # the start date alone is applied


def test_the_list_and_the_order_show_both_numbers(client, auth, shop):
    owner, vendor = shop
    mine = order_for(vendor, price="10.00")
    theirs = order_for(
        vendor, price="20.00", source="webhook", external_id="ext-9", external_number="R-2044"
    )
    auth.login(owner.email)
    page = client.get("/vendor/orders/").get_data(as_text=True)
    assert f">{mine.label}</a>" in page and f">{theirs.label}</a>" in page
    assert 'title="Storefront order R-2044">R-2044' in page
    detail = client.get(f"/vendor/orders/{theirs.id}").get_data(as_text=True)
    assert f"<title>Order {theirs.label} ·" in detail and f"<h1>Order {theirs.label}</h1>" in detail
    assert "storefront order R-2044" in detail


def test_a_canceled_orders_commission_status_says_what_happens(client, auth, shop):
    owner, vendor = shop
    kept = order_for(vendor, price="40.00")
    canceled = order_for(vendor, price="50.00")
    handling.cancel_by_shop(canceled, "out_of_stock")
    auth.login(owner.email)

    def status(order) -> str:
        page = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
        return re.search(r'data-field="commission-status">([^<]*)<', page).group(1)

    assert status(canceled) == "Reversed — the order was canceled, so no commission is charged."
    assert status(kept).startswith("Pending — final 7 days after the order is completed")
    db.session.execute(
        sa.text("UPDATE commission_records SET status = 'settled' WHERE order_id = :id"),
        {"id": kept.id},
    )
    assert status(kept) == "Settled — final; it waits for the payout run."
    assert "Commission status: pending" not in status(kept)


# --- the cancel panel -------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["list", "detail"])
def test_a_refused_cancellation_keeps_its_panel_open_with_the_error(client, auth, shop, view):
    owner, vendor = shop
    order = order_for(vendor)
    auth.login(owner.email)
    response = client.post(
        f"/vendor/orders/{order.id}/cancel?view={view}",
        data={"reason": "other", "note": "  "},
        headers=HX,
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(r'<details class="confirm cancel-order" open>', body)
    assert (
        f'id="note-{view}-{order.id}-error" class="field-error">Say why the order is canceled.'
        in (body)
    )
    assert 'aria-invalid="true"' in body and "autofocus" in body
    assert '<option selected value="other">' in body  # what was chosen stays chosen
    if view == "list":
        assert '<details class="row-menu" open>' in body  # the menu holding it too
    assert "HX-Trigger" not in response.headers  # nothing happened: no toast
    assert reload(order).status == "paid"


def test_each_step_answers_with_a_toast_naming_the_order(client, auth, shop):
    owner, vendor = shop
    order = order_for(vendor)
    auth.login(owner.email)

    def toast(response) -> str:
        assert response.status_code == 200
        return json.loads(response.headers["HX-Trigger"])["toast"]["message"]

    assert toast(client.post(f"/vendor/orders/{order.id}/accept", headers=HX)) == (
        f"Order {order.label} accepted."
    )
    assert toast(client.post(f"/vendor/orders/{order.id}/ready?view=detail", headers=HX)) == (
        f"Order {order.label} is ready for pickup."
    )
    canceled = client.post(
        f"/vendor/orders/{order.id}/cancel", data={"reason": "shop_closed"}, headers=HX
    )
    assert toast(canceled).startswith(f"Order {order.label} canceled")
    assert "order-updated" in json.loads(canceled.headers["HX-Trigger"])
