"""The admin's refund page and the list of orders waiting on automatic completion, over HTTP."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.commissions.services import settle_due_commissions
from portal.extensions import db
from portal.orders.models import Order, OrderHold, OrderRefund
from tests.factories import make_vendor
from tests.orders.helpers import commission_rows, established_shop, now, paid_order
from tests.toasts import toast_of

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin(verified_admin):
    return verified_admin


@pytest.fixture
def order(db_session):
    # Lines: 20.00 x 2 (SKU-0) and 9.99 x 1 (SKU-1); subtotal 49.99, delivery 5.00, total 54.99.
    order = paid_order(established_shop())
    db.session.commit()  # a view's rollback (a refused refund) must not take the order with it
    return order


def reload(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def refund_form(order, client, **fields):
    """The form's fields as the page renders them (its token and line order), with ``fields``."""
    page = client.get(f"/admin/orders/{order.id}/refund").get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{32})"', page) or re.search(
        r'value="([0-9a-f]{32})"[^>]*name="token"', page
    )
    data = {"kind": "lines", "reason": "damaged", "token": token.group(1)}
    data.update(fields)
    return data


def line_index(order, client, sku: str) -> int:
    """Where a line sits in the page's table (the form's quantities are in that order)."""
    page = client.get(f"/admin/orders/{order.id}/refund").get_data(as_text=True)
    rows = re.findall(r"<small class=\"muted sku\">(SKU-\d)</small>", page)
    return rows.index(sku)


def test_the_page_shows_what_is_left(client, admin, order):
    response = client.get(f"/admin/orders/{order.id}/refund")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page
    assert "$54.99" in page and "$49.99" in page and "$5.00" in page
    assert f"<h1>Refund order {order.label}</h1>" in page
    assert f"Order {order.label} (storefront order {order.storefront_label})" in page
    assert "does not return the customer&#39;s payment" in page or "does not return" in page


def test_refunding_chosen_lines_reverses_exactly_those(client, admin, order):
    mug = line_index(order, client, "SKU-0")
    data = refund_form(order, client, **{f"quantities-{mug}": "1", f"quantities-{1 - mug}": "0"})
    response = client.post(f"/admin/orders/{order.id}/refund", data=data, headers=HTMX)
    assert response.status_code == 200, response.get_data(as_text=True)
    # Said by a toast where the admin is looking; the figures in the page are refreshed.
    assert toast_of(response).startswith("Refund of 20.00 recorded")
    assert 'id="refund-left"' in response.get_data(as_text=True)
    order = reload(order)
    assert (order.refunded_amount, order.refunded_subtotal) == (Decimal("20.00"), Decimal("20.00"))
    assert [line.refunded_quantity for line in order.items if line.sku == "SKU-0"] == [1]
    # Bronze 15%: 7.50 on the sale (49.99 x 0.15 = 7.4985); left round(7.50 x 29.99 / 49.99).
    assert sum(row.commission_amount for row in commission_rows(order)) == Decimal("4.50")
    refund = db.session.scalar(sa.select(OrderRefund))
    assert "boss@example.com" in refund.reason and refund.items[0]["quantity"] == 1

    # The same form sent again records nothing more.
    client.post(f"/admin/orders/{order.id}/refund", data=data, headers=HTMX)
    assert reload(order).refunded_amount == Decimal("20.00")


def test_refunding_the_delivery_fee_leaves_the_merchandise(client, admin, order):
    data = refund_form(order, client, kind="delivery")
    response = client.post(f"/admin/orders/{order.id}/refund", data=data)
    assert response.status_code == 303
    order = reload(order)
    assert (order.refunded_amount, order.refunded_subtotal) == (Decimal("5.00"), Decimal("0.00"))
    assert sum(row.commission_amount for row in commission_rows(order)) == Decimal("7.50")


def test_refunding_the_whole_order_settles_its_commission_at_once(client, admin, order):
    data = refund_form(order, client, kind="order")
    assert (
        client.post(f"/admin/orders/{order.id}/refund", data=data, headers=HTMX).status_code == 200
    )
    order = reload(order)
    assert order.status == "refunded" and order.refunded_amount == order.total
    assert settle_due_commissions(now()) == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantities-0": "5"}, "5 named, but"),
        ({"quantities-0": "0", "quantities-1": "0"}, "at least one line"),
        ({"quantities-0": "-1"}, "A quantity from 0"),
        ({"quantities-0": "1", "reason": ""}, "Say why the order is refunded."),
        ({"kind": "everything"}, "Not a valid choice"),
    ],
)
def test_a_refund_that_does_not_fit_is_422_with_the_reason(client, admin, order, fields, message):
    data = refund_form(order, client, **fields)
    response = client.post(f"/admin/orders/{order.id}/refund", data=data, headers=HTMX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert reload(order).refunded_amount == 0


def test_the_refund_needs_the_csrf_token_and_an_admin(client, auth, admin, order):
    data = refund_form(order, client, **{"quantities-0": "1"})
    response = client.post(f"/admin/orders/{order.id}/refund", data=data, csrf=False)
    assert response.status_code == 400 and reload(order).refunded_amount == 0
    assert client.get(f"/admin/orders/{uuid.uuid4()}/refund").status_code == 404
    auth.logout()
    vendor = make_vendor()
    auth.login(vendor.email)
    assert client.get(f"/admin/orders/{order.id}/refund").status_code in (302, 403)


def test_waiting_orders_are_listed_and_can_be_held_and_released(client, admin, db_session):
    shop = established_shop()
    waiting = paid_order(shop, at=now() - timedelta(days=30), items=[("30.00", 1)])
    db.session.commit()  # survives the views' rollbacks of refused holds
    page = client.get("/admin/orders/waiting").get_data(as_text=True)
    assert str(waiting.id)[:8] in page and "1 order ·" in page
    assert f">{waiting.label}</a>" in page  # named by its shop's number
    assert f"storefront {waiting.external_id}" in page

    refused = client.post(f"/admin/orders/{waiting.id}/hold", data={"reason": ""}, headers=HTMX)
    assert refused.status_code == 422 and "Say why the order is held." in refused.get_data(True)

    held = client.post(
        f"/admin/orders/{waiting.id}/hold", data={"reason": "chargeback open"}, headers=HTMX
    )
    body = held.get_data(as_text=True)
    assert held.status_code == 200 and "Held by boss@example.com" in body
    assert toast_of(held) == "Order held: it will not complete by itself."
    assert "chargeback open" in body and "<html" not in body
    assert settle_due_commissions(now()) == 0  # held: not completed, not settled

    released = client.post(f"/admin/orders/{waiting.id}/release", headers=HTMX)
    assert released.status_code == 200 and toast_of(released) == "Hold released."
    hold = db.session.scalar(sa.select(OrderHold))
    assert hold.released_by_id == admin.id and hold.reason == "chargeback open"
    assert settle_due_commissions(now()) == 1

    again = client.post(f"/admin/orders/{waiting.id}/release", headers=HTMX)
    assert again.status_code == 422 and "not on hold" in again.get_data(True)  # in the row
    assert toast_of(again) is None


def test_open_an_order_by_its_id_or_see_why_not_beside_the_box(client, admin, order):
    page = client.get("/admin/orders/find")
    assert page.status_code == 200 and 'id="find-order-id"' in page.get_data(as_text=True)

    found = client.get(f"/admin/orders/find?order_id=+{order.id}+")
    assert found.status_code == 302
    assert found.headers["Location"] == f"/admin/orders/{order.id}/refund"

    malformed = client.get("/admin/orders/find?order_id=c7c2ecad")
    body = malformed.get_data(as_text=True)
    assert malformed.status_code == 422 and 'aria-describedby="find-order-error"' in body
    assert 'id="find-order-error" class="field-error">That is not an order id' in body
    assert 'value="c7c2ecad"' in body  # what was typed stays in the box

    unknown = client.get(f"/admin/orders/find?order_id={uuid.uuid4()}")
    assert unknown.status_code == 404
    assert "There is no order with that id." in unknown.get_data(as_text=True)


def test_the_refund_is_confirmed_before_it_is_recorded(client, admin, order):
    page = client.get(f"/admin/orders/{order.id}/refund").get_data(as_text=True)
    form = page[page.index('<form id="refund-form"') :]
    form = form[: form.index("</form>")]
    # Enter in a field meets a disabled default button; the real one sits behind the question.
    assert form.index('<button type="submit" disabled hidden>') < form.index('name="reason"')
    confirm = form[form.index('<details class="confirm confirm-submit">') :]
    assert "cannot be undone" in confirm and ">Record the refund</button>" in confirm
