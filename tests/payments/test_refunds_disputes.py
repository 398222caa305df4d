"""Refunds and disputes of a checkout's Stripe payment, on the right orders: from Stripe
(charge.refunded, charge.dispute.*), and an admin's refund through the refund page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.orders.models import OrderDispute, OrderRefund
from portal.payments.models import CheckoutPayment, CheckoutPaymentRefund
from portal.payouts.gateway import gateway
from portal.payouts.payable import payable_records
from tests.admin.test_admin_orders import HTMX, refund_form
from tests.orders.helpers import now
from tests.payments.helpers import deliver, fresh, pay, server_events, two_shop_checkout
from tests.toasts import toast_of


@pytest.fixture
def paid_checkout(app, client, db_session, app_stripe):
    """Shop one: 30.00 + 5.00 delivery (total 35.00); shop two: 2 x 10.00 (total 20.00); paid
    through the local Stripe server and its payment_intent.succeeded delivered."""
    checkout_id, orders = two_shop_checkout()
    intent = pay(checkout_id)
    [succeeded] = server_events(app_stripe, "payment_intent.succeeded")
    assert deliver(client, app, succeeded).status_code == 200
    return checkout_id, orders, intent


def refunds_of(order) -> list[OrderRefund]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OrderRefund)
            .where(OrderRefund.order_id == order.id)
            .order_by(OrderRefund.created_at)
        )
    )


def deliver_all(client, app, server, type_):
    events = server_events(server, type_)
    for event in events:
        assert deliver(client, app, event).status_code == 200, event["type"]
    return events


def test_a_charge_level_refund_is_split_by_subtotal_and_the_last_returns_what_is_left(
    app, client, paid_checkout, app_stripe
):
    _, (first, second), intent = paid_checkout
    partial = gateway().create_refund(
        charge=intent.latest_charge, amount=Decimal("20.00"), idempotency_key="dash-1"
    )
    deliver_all(client, app, app_stripe, "charge.refunded")
    # 20.00 by subtotals 30 : 20.
    assert [(r.amount, r.refund_ref) for r in refunds_of(first)] == [(Decimal("12.00"), partial.id)]
    assert [(r.amount, r.refund_ref) for r in refunds_of(second)] == [(Decimal("8.00"), partial.id)]
    assert fresh(first).status == fresh(second).status == "partially_refunded"

    gateway().create_refund(charge=intent.latest_charge, idempotency_key="dash-2")  # the 35.00 left
    events = deliver_all(client, app, app_stripe, "charge.refunded")
    # By subtotal the 35.00 would be 21.00 : 14.00, but order two has 12.00 left: 23.00 : 12.00.
    assert sorted(r.amount for r in refunds_of(first)) == [Decimal("12.00"), Decimal("23.00")]
    assert sorted(r.amount for r in refunds_of(second)) == [Decimal("8.00"), Decimal("12.00")]
    assert fresh(first).status == fresh(second).status == "refunded"
    db.session.expire_all()
    row = db.session.scalar(sa.select(CheckoutPayment))
    assert row.amount_refunded == Decimal("55.00")
    # Replays (a resend of each event) apply nothing again.
    for event in events:
        app_stripe.control(f"/events/{event['id']}/resend")
        assert deliver(client, app, {**event, "id": event["id"] + "x"}).status_code == 200
    assert len(refunds_of(first)) == len(refunds_of(second)) == 2


def test_refund_events_out_of_order_apply_each_refund_once(app, client, paid_checkout, app_stripe):
    _, (first, second), intent = paid_checkout
    gateway().create_refund(
        charge=intent.latest_charge, amount=Decimal("5.00"), idempotency_key="a"
    )
    gateway().create_refund(
        charge=intent.latest_charge, amount=Decimal("10.00"), idempotency_key="b"
    )
    older, newer = server_events(app_stripe, "charge.refunded")
    deliver(client, app, newer)  # reads both refunds from Stripe
    deliver(client, app, older)
    assert sum(r.amount for r in refunds_of(first) + refunds_of(second)) == Decimal("15.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckoutPaymentRefund)) == 4


def test_an_admins_refund_refunds_the_card_once(
    app, client, verified_admin, paid_checkout, app_stripe
):
    _, (first, second), intent = paid_checkout
    page = client.get(f"/admin/orders/{first.id}/refund").get_data(as_text=True)
    assert (
        "refunded to the customer&#39;s card" in page or "refunded to the customer's card" in page
    )
    data = refund_form(first, client, kind="delivery")
    response = client.post(f"/admin/orders/{first.id}/refund", data=data, headers=HTMX)
    assert response.status_code == 200
    [made] = gateway().list_refunds(charge=intent.latest_charge)
    assert made.amount == Decimal("5.00") and made.metadata["portal_order_id"] == str(first.id)
    assert f"Stripe refunded the customer's card ({made.id})" in toast_of(response)
    [refund] = refunds_of(first)
    assert refund.delivery_amount == Decimal("5.00") and refunds_of(second) == []
    # The form sent again, and the charge.refunded the refund caused: nothing more.
    client.post(f"/admin/orders/{first.id}/refund", data=data, headers=HTMX)
    deliver_all(client, app, app_stripe, "charge.refunded")
    assert len(gateway().list_refunds(charge=intent.latest_charge)) == 1
    assert refunds_of(first) == [refund] and refunds_of(second) == []
    [key] = {
        e.headers.get("Idempotency-Key")
        for e in app_stripe.exchanges
        if e.path == "/v1/refunds" and e.method == "POST"
    }
    assert key == f"portal-refund-{first.id}-{refund.refund_ref}"


def test_when_stripe_does_not_refund_nothing_is_recorded_and_the_admin_is_told(
    app, client, verified_admin, paid_checkout, app_stripe
):
    _, (first, _), intent = paid_checkout
    app_stripe.arm("api_error", path="/v1/refunds", times=app.config["STRIPE_MAX_ATTEMPTS"])
    data = refund_form(first, client, kind="order")
    response = client.post(f"/admin/orders/{first.id}/refund", data=data, headers=HTMX)
    assert response.status_code == 422
    assert "Stripe did not refund the customer" in response.get_data(as_text=True)
    assert refunds_of(first) == [] and fresh(first).status == "paid"
    assert gateway().list_refunds(charge=intent.latest_charge) == []
    # Stripe answers again: the same form refunds once.
    response = client.post(f"/admin/orders/{first.id}/refund", data=data, headers=HTMX)
    assert response.status_code == 200 and fresh(first).status == "refunded"
    assert [r.amount for r in gateway().list_refunds(charge=intent.latest_charge)] == [
        Decimal("35.00")
    ]


def test_an_order_not_paid_through_stripe_is_refunded_as_before(client, verified_admin, db_session):
    from tests.orders.helpers import established_shop, paid_order

    order = paid_order(established_shop())
    db.session.commit()
    page = client.get(f"/admin/orders/{order.id}/refund").get_data(as_text=True)
    assert (
        "does not return the\n  customer&#39;s payment itself" in page or "payment itself" in page
    )
    response = client.post(
        f"/admin/orders/{order.id}/refund",
        data=refund_form(order, client, kind="delivery"),
        headers=HTMX,
    )
    assert "The portal does not return the customer's payment itself." in toast_of(response)


def disputes_of(order) -> list[OrderDispute]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(OrderDispute).where(OrderDispute.order_id == order.id))
    )


def test_a_dispute_holds_each_vendors_order_and_closes_as_stripe_decides(
    app, client, paid_checkout, app_stripe
):
    _, (first, second), intent = paid_checkout
    dispute = app_stripe.control(f"/charges/{intent.latest_charge}/dispute", {"amount": 2000})
    [created] = deliver_all(client, app, app_stripe, "charge.dispute.created")
    deliver(client, app, {**created, "id": created["id"] + "-replay"})  # a second delivery
    [one], [two] = disputes_of(first), disputes_of(second)
    assert (one.amount, two.amount) == (Decimal("12.00"), Decimal("8.00"))
    assert one.status == two.status == "open" and one.stripe_dispute_id == dispute["id"]
    assert one.reason == "fraudulent"

    app_stripe.control(f"/disputes/{dispute['id']}/close", {"status": "lost"})
    deliver_all(client, app, app_stripe, "charge.dispute.closed")
    [one], [two] = disputes_of(first), disputes_of(second)
    assert one.status == two.status == "lost" and one.closed_at is not None
    deliver(client, app, {**created, "id": created["id"] + "-late"})  # created, late: stays lost
    assert [d.status for d in disputes_of(first)] == ["lost"]


def test_a_dispute_closed_before_its_created_event_arrives_is_never_opened(
    app, client, paid_checkout, app_stripe
):
    _, (first, second), intent = paid_checkout
    dispute = app_stripe.control(f"/charges/{intent.latest_charge}/dispute", {"inquiry": True})
    app_stripe.control(f"/disputes/{dispute['id']}/close", {"status": "won"})
    [closed] = server_events(app_stripe, "charge.dispute.closed")
    [created] = server_events(app_stripe, "charge.dispute.created")
    deliver(client, app, closed)
    deliver(client, app, created)
    assert [d.status for d in disputes_of(first) + disputes_of(second)] == ["won", "won"]
    assert sum(d.amount for d in disputes_of(first) + disputes_of(second)) == Decimal("55.00")


def test_an_open_dispute_holds_each_vendors_order_from_payouts(
    app, client, paid_checkout, app_stripe
):
    from portal.commissions.services import settle_due_commissions
    from portal.orders.services import complete_order
    from portal.payouts.payable import disputed_records

    _, orders, intent = paid_checkout
    for order in orders:
        complete_order(fresh(order), now() - timedelta(days=40))
    settle_due_commissions(now())

    def payable(order):
        return db.session.execute(payable_records(order.vendor_id)).all()

    assert [len(payable(order)) for order in orders] == [1, 1]
    app_stripe.control(f"/charges/{intent.latest_charge}/dispute", {"amount": 1000})
    deliver_all(client, app, app_stripe, "charge.dispute.created")
    assert [len(payable(order)) for order in orders] == [0, 0]
    for order in orders:
        [(_, held)] = db.session.execute(disputed_records(order.vendor_id)).all()
        assert held == order.id


def test_a_refund_event_whose_refunds_cannot_be_read_is_kept_for_stripes_retry(
    app, client, paid_checkout, app_stripe
):
    from portal.payouts.connect_models import StripeEvent

    _, (first, second), intent = paid_checkout
    gateway().create_refund(
        charge=intent.latest_charge, amount=Decimal("5.00"), idempotency_key="r"
    )
    [event] = server_events(app_stripe, "charge.refunded")
    app_stripe.arm(
        "api_error", path="/v1/refunds", method="GET", times=app.config["STRIPE_MAX_ATTEMPTS"]
    )
    response = deliver(client, app, event)
    assert response.status_code == 503 and "send the event again" in response.json["error"]
    assert refunds_of(first) == refunds_of(second) == []
    assert db.session.get(StripeEvent, event["id"]) is None
    assert deliver(client, app, event).json == {"status": "handled"}  # Stripe's retry
    assert sum(r.amount for r in refunds_of(first) + refunds_of(second)) == Decimal("5.00")


@pytest.mark.parametrize("role", ["customer", "vendor", "driver"])
def test_only_an_admin_opens_or_sends_the_refund_of_a_stripe_payment(
    client, auth, paid_checkout, app_stripe, role
):
    from tests.factories import MAKERS

    _, (first, _), intent = paid_checkout
    user = MAKERS[role]()
    auth.login(user.email)
    url = f"/admin/orders/{first.id}/refund"
    assert client.get(url).status_code in (302, 403)
    posted = client.post(url, data={"kind": "order", "reason": "x", "token": "a" * 32})
    assert posted.status_code in (302, 403)
    assert refunds_of(first) == [] and gateway().list_refunds(charge=intent.latest_charge) == []


def test_a_dropped_answer_after_stripe_refunded_is_retried_with_the_same_key_and_refunds_once(
    app, client, verified_admin, paid_checkout, app_stripe
):
    _, (_, second), intent = paid_checkout
    app_stripe.arm("drop_after", path="/v1/refunds")  # Stripe refunds; the answer is lost
    data = refund_form(second, client, kind="order")
    response = client.post(f"/admin/orders/{second.id}/refund", data=data, headers=HTMX)
    assert response.status_code == 200 and fresh(second).status == "refunded"
    assert [r.amount for r in gateway().list_refunds(charge=intent.latest_charge)] == [
        Decimal("20.00")
    ]
    assert app_stripe.calls("POST", "/v1/refunds") == [None, 200]  # the retry got the answer
