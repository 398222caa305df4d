"""Order intake: each event's effects, idempotency, state conflicts, rates, refunds and volumes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auth import services as accounts
from portal.commissions.models import CommissionRecord, VendorPlatformFee
from portal.customers.services import customer_for_user
from portal.extensions import db
from portal.orders import services as orders
from portal.orders.intake import apply_order_event
from portal.orders.models import Order, OrderEvent, OrderExternalRef, OrderRefund
from portal.orders.services import InvalidOrder, OrderStateConflict
from portal.referrals.models import ShopReferral
from portal.tiers.models import ShopTier, VendorMonthlyVolume
from tests.factories import make_customer
from tests.orders.helpers import (
    commission_rows,
    established_shop,
    fee_rows,
    follow_up,
    money_sums,
    now,
    paid_order,
    placed,
    refunded,
    stored_volume,
    volume_by_rule,
)

D = Decimal


@pytest.fixture
def shop(db_session):
    return established_shop()


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --- placed ------------------------------------------------------------------------------------


def test_placed_creates_the_order_its_items_customer_and_external_ref(shop):
    event = placed(
        shop,
        items=[("20.00", 2), ("9.99", 1)],
        delivery_fee="4.99",
        points_discount="1.00",
        referral_session="sess-1",
        email="New.Buyer@Example.com",
    )
    result = apply_order_event(event)

    assert result.status == "processed"
    order = result.order
    assert order.status == "pending" and order.source == "webhook"
    assert order.external_id == event.external_id
    assert (order.subtotal, order.delivery_fee, order.points_discount, order.total) == (
        D("49.99"),
        D("4.99"),
        D("1.00"),
        D("53.98"),
    )
    assert order.checkout_id == event.order.checkout_id
    assert order.referral_session == "sess-1"
    assert order.dropoff_address == {"line1": "1 Main St", "city": "Portland"}
    assert [(i.quantity, i.line_total) for i in order.items] == [(2, D("40.00")), (1, D("9.99"))]
    ref = db.session.get(OrderExternalRef, ("webhook", event.external_id))
    assert ref.order_id == order.id
    # A new buyer gets a customer account nobody can sign in to until they claim it.
    user = accounts.find_user_by_email("new.buyer@example.com")
    assert user.role == "customer"
    assert accounts.authenticate("new.buyer@example.com", "") is None
    assert order.customer_id == customer_for_user(user).id
    assert commission_rows(order) == [] and fee_rows(order) == []
    logged = db.session.get(OrderEvent, ("webhook", event.event_id))
    assert logged.type == "order.placed" and logged.order_id == order.id


def test_placed_uses_an_existing_customer_account(shop):
    user = make_customer(email="known@example.com")
    order = apply_order_event(placed(shop, email="KNOWN@example.com")).order
    assert order.customer_id == customer_for_user(user).id
    assert count(accounts.User, sa.func.lower(accounts.User.email) == "known@example.com") == 1


def test_placed_links_items_to_the_vendors_products_by_sku(shop):
    from portal.catalog.services import create_product

    product = create_product(shop, title="Mug", sku="SKU-0", price=D("20.00"), inventory=5)
    order = apply_order_event(placed(shop)).order
    assert order.items[0].product_id == product.id
    assert order.items[1].product_id is None and order.items[1].sku == "SKU-1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"subtotal": "50.00"}, "subtotal"),
        ({"total": "60.00"}, "total"),
        ({"points_discount": "60.00", "delivery_fee": "0.00"}, "points discount"),
    ],
)
def test_amounts_that_do_not_add_up_are_refused(shop, changes, reason):
    with pytest.raises(InvalidOrder, match=reason):
        apply_order_event(placed(shop, **changes))
    assert count(Order) == 0 and count(OrderEvent) == 0


def test_unknown_vendor_is_refused(shop):
    import uuid

    event = placed(shop)
    event = event.__class__(
        **{
            **event.__dict__,
            "order": event.order.__class__(**{**event.order.__dict__, "vendor_id": uuid.uuid4()}),
        }
    )
    with pytest.raises(InvalidOrder, match="unknown vendor"):
        apply_order_event(event)
    assert count(OrderEvent) == 0


def test_the_same_external_order_cannot_be_placed_twice(shop):
    apply_order_event(placed(shop, external_id="ext-dup"))
    with pytest.raises(OrderStateConflict):
        apply_order_event(placed(shop, external_id="ext-dup"))
    assert count(Order) == 1


# --- paid, completed ---------------------------------------------------------------------------


def test_paid_records_commission_fee_volume_and_monthly_sales(shop):
    event = placed(shop)
    apply_order_event(event)
    at = now()
    order = apply_order_event(follow_up(event.external_id, "order.paid", at=at)).order

    assert order.status == "paid" and order.paid_at == at
    [commission] = commission_rows(order)
    assert (commission.commission_rate, commission.order_amount, commission.commission_amount) == (
        D("0.1500"),
        D("49.99"),
        D("7.50"),
    )
    assert commission.status == "pending" and commission.refund_id is None
    [fee] = fee_rows(order)
    assert (fee.vendor_type, fee.fee_percentage, fee.order_amount, fee.fee_amount) == (
        "shop",
        D("0.0290"),
        D("49.99"),
        D("1.45"),
    )
    assert fee.volume_tier == "standard" and fee.is_promotional_rate is False
    volume = stored_volume(shop, order.created_at.year, order.created_at.month)
    assert volume == {
        "total_sales": D("49.99"),
        "total_orders": 1,
        "average_order_value": D("49.99"),
        "fee_tier": "standard",
    }
    tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == shop.id))
    assert tier.monthly_sales == D("49.99")


def test_completed_sets_completed_at_and_leaves_commissions_pending(shop):
    order = paid_order(shop)
    at = now()
    apply_order_event(follow_up(order.external_id, "order.completed", at=at))
    assert order.status == "completed" and order.completed_at == at
    assert {row.status for row in commission_rows(order)} == {"pending"}


def test_a_replayed_event_is_a_duplicate_and_changes_nothing(shop):
    event = placed(shop)
    apply_order_event(event)
    paid = follow_up(event.external_id, "order.paid")
    apply_order_event(paid)
    before = (count(Order), count(CommissionRecord), count(VendorPlatformFee), count(OrderEvent))
    volume = stored_volume(shop, now().year, now().month)

    assert apply_order_event(event).status == "duplicate"
    assert apply_order_event(paid).status == "duplicate"
    assert (
        count(Order),
        count(CommissionRecord),
        count(VendorPlatformFee),
        count(OrderEvent),
    ) == before
    assert stored_volume(shop, now().year, now().month) == volume


@pytest.mark.parametrize("event_type", ["order.completed", "order.paid"])
def test_events_that_do_not_fit_the_state_conflict_and_change_nothing(shop, event_type):
    event = placed(shop)
    order = apply_order_event(event).order
    if event_type == "order.paid":  # paid twice, under two event ids
        apply_order_event(follow_up(event.external_id, "order.paid"))
    rows_before = count(CommissionRecord)
    conflicting = follow_up(event.external_id, event_type)
    with pytest.raises(OrderStateConflict):
        apply_order_event(conflicting)
    assert count(CommissionRecord) == rows_before
    assert db.session.get(OrderEvent, ("webhook", conflicting.event_id)) is None
    assert order.completed_at is None


def test_an_event_for_an_unknown_order_is_refused(shop):
    with pytest.raises(InvalidOrder, match="unknown order"):
        apply_order_event(follow_up("nope", "order.paid"))


def test_a_failed_event_can_be_sent_again_once_it_fits(shop):
    event = placed(shop)
    apply_order_event(event)
    completed = follow_up(event.external_id, "order.completed")
    with pytest.raises(OrderStateConflict):
        apply_order_event(completed)
    apply_order_event(follow_up(event.external_id, "order.paid"))
    assert apply_order_event(completed).status == "processed"


# --- canceled ----------------------------------------------------------------------------------


def test_canceling_a_pending_order_just_cancels_it(shop):
    event = placed(shop)
    order = apply_order_event(event).order
    apply_order_event(follow_up(event.external_id, "order.canceled"))
    assert order.status == "canceled" and order.canceled_at is not None
    assert count(OrderRefund) == 0 and commission_rows(order) == []
    assert stored_volume(shop, now().year, now().month) is None


def test_canceling_a_paid_order_refunds_what_is_left_and_reverses_everything(shop):
    order = paid_order(shop, delivery_fee="5.00")
    apply_order_event(refunded(order.external_id, "10.00"))
    apply_order_event(follow_up(order.external_id, "order.canceled"))

    assert order.status == "canceled"
    assert order.refunded_amount == order.total and order.refunded_subtotal == order.subtotal
    refunds = db.session.scalars(
        sa.select(OrderRefund).where(OrderRefund.order_id == order.id)
    ).all()
    assert "cancellation" in {r.refund_ref for r in refunds}
    assert sum(r.amount for r in refunds) == order.total
    assert money_sums(order) == dict.fromkeys(
        ("order_amount", "fee_order_amount", "commission", "fee", "net"), D("0.00")
    )
    volume = stored_volume(shop, now().year, now().month)
    assert volume["total_sales"] == D("0.00") and volume["total_orders"] == 0
    assert volume["average_order_value"] is None


def test_a_completed_order_is_refunded_not_canceled(shop):
    order = paid_order(shop)
    apply_order_event(follow_up(order.external_id, "order.completed"))
    with pytest.raises(OrderStateConflict):
        apply_order_event(follow_up(order.external_id, "order.canceled"))


def test_canceling_an_order_paid_entirely_with_points_reverses_its_commission(shop):
    order = paid_order(shop, items=[("30.00", 1)], delivery_fee="0.00", points_discount="30.00")
    assert order.total == 0 and money_sums(order)["commission"] == D("4.50")
    apply_order_event(follow_up(order.external_id, "order.canceled"))
    assert money_sums(order)["commission"] == 0 and money_sums(order)["order_amount"] == 0


# --- rates -------------------------------------------------------------------------------------


def set_tier(shop, tier: str, rate: str, **promotion):
    shop_tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == shop.id))
    shop_tier.tier, shop_tier.commission_rate = tier, D(rate)
    for key, value in promotion.items():
        setattr(shop_tier, key, value)
    db.session.flush()


def test_the_shops_tier_rate_applies(shop):
    set_tier(shop, "silver", "0.1200", earned_tier="silver")
    [commission] = commission_rows(paid_order(shop, items=[("100.00", 1)]))
    assert (commission.commission_rate, commission.commission_amount) == (D("0.1200"), D("12.00"))


def test_a_promotional_tier_rate_applies_until_it_expires(shop):
    set_tier(
        shop,
        "gold",
        "0.1000",
        is_promotional=True,
        promotional_reason="launch",
        promotional_expires_at=now() + timedelta(days=10),
    )
    [during] = commission_rows(paid_order(shop, items=[("100.00", 1)]))
    assert during.commission_rate == D("0.1000")
    # Past the expiry (the expiry job has not run yet) the earned tier, bronze, is back.
    [after] = commission_rows(
        paid_order(shop, items=[("100.00", 1)], at=now() + timedelta(days=11))
    )
    assert after.commission_rate == D("0.1500")


def referral(shop, session_id: str, days_ago: int):
    db.session.add(
        ShopReferral(
            shop_id=shop.id,
            session_id=session_id,
            referral_code=shop.referral_code,
            first_visit_at=now() - timedelta(days=days_ago),
        )
    )
    db.session.flush()


def test_a_referred_order_within_the_window_pays_the_referral_rate(shop):
    referral(shop, "sess-ref", days_ago=29)
    [commission] = commission_rows(
        paid_order(shop, items=[("100.00", 1)], referral_session="sess-ref")
    )
    assert (commission.commission_rate, commission.commission_amount) == (D("0.0000"), D("0.00"))


@pytest.mark.parametrize("case", ["after the window", "another shop's link", "no session"])
def test_referral_rate_needs_the_shops_own_link_within_the_window(shop, case):
    session_id = "sess-ref"
    if case == "after the window":
        referral(shop, session_id, days_ago=31)
    elif case == "another shop's link":
        referral(established_shop(), session_id, days_ago=1)
    else:
        referral(shop, session_id, days_ago=1)
        session_id = None
    [commission] = commission_rows(
        paid_order(shop, items=[("100.00", 1)], referral_session=session_id)
    )
    assert commission.commission_rate == D("0.1500")


def test_a_new_vendor_pays_the_promotional_fee(db_session):
    shop = established_shop("restaurant", age_days=89)
    [fee] = fee_rows(paid_order(shop, items=[("100.00", 1)]))
    assert (fee.fee_percentage, fee.fee_amount, fee.is_promotional_rate) == (
        D("0.0000"),
        D("0.00"),
        True,
    )
    assert fee.vendor_type == "restaurant" and fee.volume_tier == "standard"

    older = established_shop("restaurant", age_days=91)
    [fee] = fee_rows(paid_order(older, items=[("100.00", 1)]))
    assert (fee.fee_percentage, fee.fee_amount, fee.is_promotional_rate) == (
        D("0.0320"),
        D("3.20"),
        False,
    )


def test_the_fee_tier_comes_from_the_previous_months_volume(shop):
    this_month = now()
    year, month = (
        (this_month.year, this_month.month - 1)
        if this_month.month > 1
        else (this_month.year - 1, 12)
    )
    db.session.add(
        VendorMonthlyVolume(
            vendor_id=shop.id,
            year=year,
            month=month,
            total_sales=D("12000.00"),
            total_orders=100,
            fee_tier="growth",
        )
    )
    db.session.flush()
    [fee] = fee_rows(paid_order(shop, items=[("100.00", 1)]))
    assert (fee.fee_percentage, fee.fee_amount, fee.volume_tier) == (
        D("0.0250"),
        D("2.50"),
        "growth",
    )


def test_an_unknown_vendor_type_pays_the_shop_schedule(db_session):
    shop = established_shop("florist")
    [fee] = fee_rows(paid_order(shop, items=[("100.00", 1)]))
    assert (fee.vendor_type, fee.fee_percentage) == ("florist", D("0.0290"))


# --- refunds -----------------------------------------------------------------------------------


def test_partial_refunds_reverse_in_proportion_with_the_sales_rates(shop):
    order = paid_order(shop, items=[("100.00", 1)], delivery_fee="0.00")
    set_tier(shop, "gold", "0.1000")  # a later rate change does not touch the refund
    apply_order_event(refunded(order.external_id, "30.00", "re-1"))

    assert order.status == "partially_refunded"
    assert (order.refunded_amount, order.refunded_subtotal) == (D("30.00"), D("30.00"))
    sale, reversal = commission_rows(order)
    assert reversal.commission_rate == sale.commission_rate == D("0.1500")
    assert (reversal.order_amount, reversal.commission_amount) == (D("-30.00"), D("-4.50"))
    refund = db.session.scalar(sa.select(OrderRefund).where(OrderRefund.refund_ref == "re-1"))
    assert reversal.refund_id == refund.id and refund.subtotal_amount == D("30.00")
    _, fee_reversal = fee_rows(order)
    assert (fee_reversal.order_amount, fee_reversal.fee_amount) == (D("-30.00"), D("-0.87"))
    assert fee_reversal.refund_id == refund.id and fee_reversal.fee_percentage == D("0.0290")


def test_the_merchandise_share_of_a_refund_excludes_delivery(shop):
    # 90.00 of merchandise + 10.00 delivery: half the customer's money is half the merchandise.
    order = paid_order(shop, items=[("90.00", 1)], delivery_fee="10.00")
    apply_order_event(refunded(order.external_id, "50.00"))
    assert order.refunded_subtotal == D("45.00")
    assert money_sums(order)["order_amount"] == D("45.00")


def test_a_points_discount_is_funded_by_the_marketplace(shop):
    order = paid_order(shop, items=[("100.00", 1)], delivery_fee="0.00", points_discount="20.00")
    assert commission_rows(order)[0].order_amount == D("100.00")
    apply_order_event(refunded(order.external_id, "40.00"))
    assert order.refunded_subtotal == D("50.00")  # half the customer's money, half the goods
    apply_order_event(refunded(order.external_id, "40.00"))
    assert order.status == "refunded" and money_sums(order)["order_amount"] == 0


def test_cumulative_rounding_makes_a_full_refund_exact(shop):
    order = paid_order(shop, items=[("33.33", 1)], delivery_fee="0.00")
    for _ in range(3):
        apply_order_event(refunded(order.external_id, "11.11"))
    assert order.status == "refunded"
    assert money_sums(order) == dict.fromkeys(
        ("order_amount", "fee_order_amount", "commission", "fee", "net"), D("0.00")
    )
    reversals = [row.commission_amount for row in commission_rows(order)[1:]]
    assert sum(reversals) == -commission_rows(order)[0].commission_amount


def test_a_refund_above_what_is_left_is_refused(shop):
    order = paid_order(shop, items=[("40.00", 1)], delivery_fee="5.00")
    apply_order_event(refunded(order.external_id, "30.00"))
    with pytest.raises(InvalidOrder, match="above what is left"):
        apply_order_event(refunded(order.external_id, "15.01"))
    assert order.refunded_amount == D("30.00") and len(commission_rows(order)) == 2


def test_a_refund_id_is_applied_once(shop):
    order = paid_order(shop, items=[("40.00", 1)])
    apply_order_event(refunded(order.external_id, "10.00", "re-same"))
    apply_order_event(refunded(order.external_id, "10.00", "re-same"))  # new event id, same refund
    assert order.refunded_amount == D("10.00") and len(commission_rows(order)) == 2
    with pytest.raises(OrderStateConflict):
        apply_order_event(refunded(order.external_id, "12.00", "re-same"))


def test_a_pending_order_cannot_be_refunded(shop):
    event = placed(shop)
    apply_order_event(event)
    with pytest.raises(OrderStateConflict):
        apply_order_event(refunded(event.external_id, "1.00"))


@pytest.mark.parametrize("status", ["settled", "paid"])
def test_refunds_never_edit_settled_or_paid_rows(shop, status):
    order = paid_order(shop, items=[("80.00", 1)])
    sale = commission_rows(order)[0]
    sale.status, sale.settled_at = status, now()
    db.session.flush()
    snapshot = (sale.status, sale.order_amount, sale.commission_amount, sale.settled_at)
    sale_fee = fee_rows(order)[0]
    fee_snapshot = (sale_fee.order_amount, sale_fee.fee_amount)

    apply_order_event(refunded(order.external_id, order.total))
    sale, reversal = commission_rows(order)
    assert (sale.status, sale.order_amount, sale.commission_amount, sale.settled_at) == snapshot
    assert (fee_rows(order)[0].order_amount, fee_rows(order)[0].fee_amount) == fee_snapshot
    assert reversal.status == "pending" and reversal.commission_amount == -sale.commission_amount


# --- volumes -----------------------------------------------------------------------------------


def test_incremental_volumes_match_the_rule(shop):
    first = paid_order(shop, items=[("100.00", 1)], delivery_fee="5.00")
    second = paid_order(shop, items=[("33.33", 3)], delivery_fee="0.00", points_discount="9.99")
    third = paid_order(shop, items=[("12.50", 2)])
    unpaid = placed(shop, items=[("500.00", 1)])
    apply_order_event(unpaid)
    apply_order_event(refunded(first.external_id, "52.50"))
    apply_order_event(refunded(second.external_id, second.total))
    apply_order_event(refunded(third.external_id, "0.01"))

    year, month = now().year, now().month
    stored = stored_volume(shop, year, month)
    expected = volume_by_rule(shop, year, month)
    assert {k: stored[k] for k in expected} == expected
    assert expected["total_orders"] == 2
    assert stored["fee_tier"] == "standard"
    tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == shop.id))
    assert tier.monthly_sales == expected["total_sales"]


def test_volumes_cross_fee_tiers_and_count_in_the_month_the_order_was_placed(shop):
    placed_last_month = now().replace(day=1) - timedelta(days=3)
    order = paid_order(shop, items=[("9999.99", 1)], at=placed_last_month)
    assert (
        stored_volume(shop, placed_last_month.year, placed_last_month.month)["fee_tier"]
        == "standard"
    )
    paid_order(shop, items=[("0.01", 1)], at=placed_last_month)
    assert (
        stored_volume(shop, placed_last_month.year, placed_last_month.month)["fee_tier"] == "growth"
    )
    # A refund today takes the sales off the month the order was placed in.
    apply_order_event(refunded(order.external_id, "5.00"))
    last = stored_volume(shop, placed_last_month.year, placed_last_month.month)
    assert last["fee_tier"] == "standard"
    assert last == {
        **volume_by_rule(shop, placed_last_month.year, placed_last_month.month),
        "fee_tier": "standard",
    }
    assert stored_volume(shop, now().year, now().month) is None
    tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == shop.id))
    assert tier.monthly_sales == D("0.00")


# --- the storefront's own path -----------------------------------------------------------------


def test_the_services_give_the_seed_and_storefront_the_same_effects(shop):
    order = orders.place_order(
        vendor_id=shop.id,
        items=[orders.LineItem(title="Lamp", quantity=2, unit_price=D("24.995"))],
        delivery_fee=D("3.99"),
    )
    assert order.subtotal == D("50.00")  # each price is rounded to the cent once, then multiplied
    orders.mark_paid(order)
    orders.complete_order(order)
    refund = orders.refund_order(order, D("10.00"), "desk-1", reason="scratched")
    assert refund.reason == "scratched" and order.status == "partially_refunded"
    assert len(commission_rows(order)) == 2 and len(fee_rows(order)) == 2
    assert (
        stored_volume(shop, now().year, now().month)["total_sales"]
        == D("50.00") - order.refunded_subtotal
    )
