"""Attribution: which orders a referral visit earns the reduced commission on, and what they add
to the visit's totals and the daily statistics."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.customers.services import customer_for_user
from portal.extensions import db
from portal.orders.intake import apply_order_event
from portal.referrals import services as referrals
from portal.referrals.models import ReferralOrder, ShopReferral
from tests.factories import make_customer
from tests.orders.helpers import (
    commission_rows,
    established_shop,
    follow_up,
    now,
    paid_order,
    placed,
    refunded,
)
from tests.referrals.helpers import follow, stats, visitor_of, visits

D = Decimal
REFERRAL = D("0.0000")
BRONZE = D("0.1500")


@pytest.fixture
def shop(db_session):
    return established_shop()


@pytest.fixture
def other_shop(db_session):
    return established_shop()


def rate(order) -> Decimal:
    return commission_rows(order)[0].commission_rate


def referral_orders() -> list[ReferralOrder]:
    return list(db.session.scalars(sa.select(ReferralOrder)))


def visit_before(client, shop, query=""):
    """Follow the link a minute ago (the helpers' orders are paid at whole seconds of now)."""
    follow(client, shop.referral_code, query)
    db.session.execute(
        sa.update(ShopReferral)
        .where(ShopReferral.shop_id == shop.id)
        .values(first_visit_at=ShopReferral.first_visit_at - timedelta(minutes=1))
    )


def signed_in_visitor(client, auth, app, shop, email="ref@example.com"):
    """A browser follows the shop's link, then its customer signs in on it."""
    visit_before(client, shop, "utm_source=insta&utm_campaign=fall")
    user = make_customer(email=email)
    auth.login(email)
    return visitor_of(client, app), customer_for_user(user)


def test_signing_in_ties_the_browsers_visits_to_the_customer(client, auth, app, shop, other_shop):
    follow(client, other_shop.referral_code)
    visitor, customer = signed_in_visitor(client, auth, app, shop)
    assert {(r.session_id, r.customer_id) for r in visits()} == {(visitor, customer.id)}


def test_a_visit_tied_to_someone_else_stays_theirs(client, auth, app, shop):
    _visitor, first = signed_in_visitor(client, auth, app, shop)
    auth.logout()
    make_customer(email="second@example.com")
    auth.login("second@example.com")
    [row] = visits(shop)
    assert row.customer_id == first.id


def test_a_vendor_signing_in_ties_nothing(client, auth, app, shop):
    from tests.factories import make_vendor

    follow(client, shop.referral_code)
    vendor_user = make_vendor(email="v@example.com")
    auth.login(vendor_user.email)
    assert [r.customer_id for r in visits(shop)] == [None]


def test_signing_up_ties_the_visits(client, mailbox, app, shop):
    from portal.auth import services as accounts
    from tests.auth.test_signup_and_login import finish_signup

    follow(client, shop.referral_code)
    assert finish_signup(client, mailbox, "customer", "new@example.com").status_code == 302
    customer = customer_for_user(accounts.find_user_by_email("new@example.com"))
    assert [r.customer_id for r in visits(shop)] == [customer.id]


def test_the_customer_pays_the_referral_rate_from_any_device_at_that_shop_only(
    client, auth, app, shop, other_shop
):
    signed_in_visitor(client, auth, app, shop)
    # Orders from a storefront that knows nothing of the cookie: matched by the customer.
    here = paid_order(shop, items=[("100.00", 1)], email="ref@example.com")
    there = paid_order(other_shop, items=[("100.00", 1)], email="ref@example.com")
    someone_else = paid_order(shop, items=[("100.00", 1)], email="stranger@example.com")

    assert (rate(here), rate(there), rate(someone_else)) == (REFERRAL, BRONZE, BRONZE)
    assert [r.order_id for r in referral_orders()] == [here.id]


def test_an_order_naming_the_cookie_is_attributed_and_ties_its_buyer(client, app, shop, other_shop):
    visit_before(client, shop)
    visitor = visitor_of(client, app)
    first = paid_order(shop, items=[("50.00", 1)], referral_session=visitor, email="w@example.com")
    # The same session at another shop: that shop's normal rate.
    elsewhere = paid_order(other_shop, items=[("50.00", 1)], referral_session=visitor)
    # The buyer's next order names no session, from another device: still the referral.
    later = paid_order(shop, items=[("20.00", 1)], email="w@example.com")

    assert (rate(first), rate(elsewhere), rate(later)) == (REFERRAL, BRONZE, REFERRAL)
    [row] = visits(shop)
    assert row.customer_id == first.customer_id
    assert {r.order_id for r in referral_orders()} == {first.id, later.id}


def test_only_orders_within_the_window_after_the_first_visit(client, auth, app, shop):
    signed_in_visitor(client, auth, app, shop)
    [row] = visits(shop)
    row.first_visit_at = now() - timedelta(days=29, hours=23)
    db.session.flush()
    inside = paid_order(shop, items=[("10.00", 1)], email="ref@example.com")
    # Paid past the window (the first visit 30 days and an hour before): the normal rate.
    outside = paid_order(
        shop, items=[("10.00", 1)], email="ref@example.com", at=now() + timedelta(hours=2)
    )
    assert (rate(inside), rate(outside)) == (REFERRAL, BRONZE)
    assert [r.order_id for r in referral_orders()] == [inside.id]
    assert visits(shop)[0].total_orders == 1


def test_an_order_paid_before_the_visit_is_not_attributed(client, auth, app, shop):
    signed_in_visitor(client, auth, app, shop)
    earlier = paid_order(
        shop, items=[("10.00", 1)], email="ref@example.com", at=now() - timedelta(hours=1)
    )
    assert rate(earlier) == BRONZE and referral_orders() == []


def test_the_first_paid_order_converts_every_paid_order_adds_up(client, auth, app, shop):
    signed_in_visitor(client, auth, app, shop)
    paid_at = now() + timedelta(minutes=5)
    unpaid = apply_order_event(placed(shop, email="ref@example.com", items=[("99.00", 1)])).order
    first = paid_order(
        shop, items=[("40.00", 1)], delivery_fee="5.00", email="ref@example.com", at=paid_at
    )
    second = paid_order(
        shop, items=[("10.00", 2)], email="ref@example.com", at=paid_at + timedelta(hours=1)
    )

    [row] = visits(shop)
    assert row.converted_at == paid_at  # the first paid order, not the unpaid one placed first
    assert (row.total_orders, row.lifetime_value) == (2, D("60.00"))  # merchandise, no delivery
    [stat] = stats(shop)
    assert (stat.utm_source, stat.utm_campaign) == ("insta", "fall")
    assert (stat.visits, stat.conversions, stat.orders, stat.revenue) == (1, 1, 2, D("60.00"))
    counted = {r.order_id: r.counted_value for r in referral_orders()}
    assert counted == {first.id: D("40.00"), second.id: D("20.00")}
    assert unpaid.id not in counted


def test_counting_an_order_twice_changes_nothing(client, auth, app, shop):
    signed_in_visitor(client, auth, app, shop)
    order = paid_order(shop, items=[("40.00", 1)], email="ref@example.com")
    referrals.count_paid_order(order)
    [row] = visits(shop)
    assert (row.total_orders, row.lifetime_value) == (1, D("40.00"))
    assert len(referral_orders()) == 1
    assert stats(shop)[0].orders == 1


def test_refunds_subtract_what_was_refunded_never_below_zero(client, auth, app, shop):
    signed_in_visitor(client, auth, app, shop)
    order = paid_order(shop, items=[("30.00", 2)], delivery_fee="5.00", email="ref@example.com")
    other = paid_order(shop, items=[("10.00", 1)], email="ref@example.com")
    # A line: 30.00 of merchandise back.
    apply_order_event(refunded(order.external_id, "30.00", items=[("SKU-0", 1)]))
    [row] = visits(shop)
    assert row.lifetime_value == D("40.00")
    assert stats(shop)[0].revenue == D("40.00")
    # The delivery fee alone: no merchandise, nothing subtracted.
    apply_order_event(refunded(order.external_id, "5.00", delivery_amount="5.00"))
    assert visits(shop)[0].lifetime_value == D("40.00")
    # The rest, then the same refund again (the storefront retries): once.
    event = refunded(order.external_id, "30.00", refund_id="re-rest")
    apply_order_event(event)
    apply_order_event(refunded(order.external_id, "30.00", refund_id="re-rest"))
    [row] = visits(shop)
    assert (row.lifetime_value, row.total_orders) == (D("10.00"), 2)
    assert stats(shop)[0].revenue == D("10.00")
    counted = {r.order_id: r.counted_value for r in referral_orders()}
    assert counted == {order.id: D("0.00"), other.id: D("10.00")}


def test_refunding_an_order_never_attributed_changes_nothing(client, auth, app, shop):
    signed_in_visitor(client, auth, app, shop)
    stranger = paid_order(shop, items=[("30.00", 1)], email="stranger@example.com")
    apply_order_event(refunded(stranger.external_id, "30.00"))
    assert visits(shop)[0].lifetime_value == D("0.00")


def test_a_cancellation_after_payment_subtracts_too(client, auth, app, shop):
    from portal.orders.services import cancel_order

    signed_in_visitor(client, auth, app, shop)
    order = paid_order(shop, items=[("30.00", 1)], email="ref@example.com")
    cancel_order(order, reason="out of stock", by="vendor")
    [row] = visits(shop)
    assert (row.lifetime_value, row.total_orders, row.converted_at is not None) == (
        D("0.00"),
        1,
        True,
    )
    assert stats(shop)[0].revenue == D("0.00")


def test_a_webhook_order_with_referral_session_is_attributed(client, app, shop):
    visit_before(client, shop)
    visitor = visitor_of(client, app)
    event = placed(shop, items=[("25.00", 1)], referral_session=visitor)
    apply_order_event(event)
    order = apply_order_event(follow_up(event.external_id, "order.paid")).order
    assert rate(order) == REFERRAL
    [row] = visits(shop)
    assert (row.converted_at, row.total_orders, row.lifetime_value) == (
        order.paid_at,
        1,
        D("25.00"),
    )
