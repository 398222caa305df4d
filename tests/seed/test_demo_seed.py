import pyotp
import sqlalchemy as sa

from portal.auth.models import User
from portal.catalog.models import Product
from portal.commissions.models import CommissionRecord
from portal.customers.models import Customer
from portal.deliveries.models import Driver
from portal.extensions import db
from portal.loyalty import points
from portal.loyalty.models import PointsBalance, PointsPendingEarn, PointsTransaction
from portal.orders.models import Order, OrderItem
from portal.payouts.account_state import account_state
from portal.payouts.driver_models import DriverEarning
from portal.payouts.holders import DRIVER, Holder
from portal.payouts.models import PayoutRun
from portal.seed.demo import DEMO_PASSWORD, demo_accounts
from portal.seed.payouts import ONBOARDED, STARTED
from portal.tiers.models import MonthClose, ShopTier, TierChange
from portal.vendors.models import Vendor, VendorMember


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_seed_demo_builds_a_marketplace_once(app, db_session, client, auth, app_stripe):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    for account in demo_accounts():
        assert account.email in result.output

    assert count(Vendor) == 12
    assert set(db.session.scalars(sa.select(Vendor.vendor_type).distinct())) == {
        "shop",
        "restaurant",
        "grocery",
    }
    assert count(ShopTier) == 12
    assert count(Product) >= 48
    assert count(Driver, Driver.background_check_status == "clear") >= 5
    assert count(Driver, Driver.background_check_status == "pending") >= 2
    assert count(Driver, Driver.current_location.is_not(None)) >= 5
    orders = count(Order)
    assert orders > 200
    months = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(sa.func.date_trunc("month", Order.created_at))))
    )
    assert months >= 3
    # Orders came through intake: totals agree with their items.
    mismatched = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(Order.id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .group_by(Order.id, Order.subtotal)
            .having(sa.func.sum(OrderItem.line_total) != Order.subtotal)
            .subquery()
        )
    )
    assert mismatched == 0
    assert count(Order, Order.status == "completed") > count(Order, Order.status == "canceled") > 0
    # Past months' orders sit in their own monthly partitions, not in the default one.
    in_default = db.session.scalar(sa.text("SELECT count(*) FROM orders_default"))
    assert in_default == 0

    # Past months were closed, commissions of old completed orders settled, one promotion runs.
    assert count(MonthClose, MonthClose.status == "done") == 3
    assert count(CommissionRecord, CommissionRecord.status == "settled") > 0
    # One sale row per paid order (a refund's reversing rows carry its refund_id).
    sales = count(CommissionRecord, CommissionRecord.refund_id.is_(None))
    assert sales == count(Order, Order.paid_at.is_not(None))
    assert count(ShopTier, ShopTier.is_promotional.is_(True)) == 1
    assert count(TierChange, TierChange.reason == "promotion_granted") == 1
    # Shops have their profiles, one has a member of staff, today's orders are being handled.
    assert count(Vendor, Vendor.opening_hours.is_not(None), Vendor.location.is_not(None)) == 12
    assert count(VendorMember, VendorMember.role == "staff") == 1
    assert count(Order, Order.accepted_at.is_not(None)) > 0

    # Payouts: some shops onboarded on the local Stripe server, one half-way, others not set up.
    states = {
        vendor.name: account_state(vendor.id).key
        for vendor in db.session.scalars(sa.select(Vendor))
    }
    assert sorted(name for name, key in states.items() if key == "active") == sorted(ONBOARDED)
    assert [name for name, key in states.items() if key == "action_required"] == list(STARTED)
    assert states["Belmont Noodle Bar"] == "not_set_up"
    assert list(states.values()).count("not_set_up") == 12 - len(ONBOARDED) - len(STARTED)
    # Every driver who delivered is onboarded too (docs/payouts.md "Drivers are paid").
    earners = set(db.session.scalars(sa.select(DriverEarning.driver_id).distinct()))
    assert earners and all(account_state(Holder(DRIVER, d)).is_active for d in earners)
    accounts = len(ONBOARDED) + len(STARTED) + len(earners)
    assert len(app_stripe.stripe.store.state.accounts) == accounts
    # One payout run: onboarded shops with settled records paid (a transfer each), others held;
    # Dana Rivers paid her settled earnings (pay plus tips) in it.
    [run] = db.session.scalars(sa.select(PayoutRun)).all()
    paid = {p.vendor.name for p in run.payouts if p.status == "paid" and p.vendor}
    assert paid and paid <= set(ONBOARDED)
    drivers_paid = {p.driver.full_name for p in run.payouts if p.status == "paid" and p.driver}
    assert "Dana Rivers" in drivers_paid
    assert len(app_stripe.transfer_log()) == len(paid) + len(drivers_paid)
    assert {h.reason for h in run.holds} >= {"no_account"}
    assert "Belmont Noodle Bar" in {h.vendor.name for h in run.holds}

    assert_demo_points()

    for account in demo_accounts():
        assert auth.login(account.email, DEMO_PASSWORD).status_code == 302, account
        auth.logout()

    users_before = count(User)
    again = runner.invoke(args=["seed", "demo"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert count(User) == users_before and count(Order) == orders
    assert len(app_stripe.stripe.store.state.accounts) == accounts

    # The local server restarted (its accounts forgotten), the demo database kept: set up again.
    app_stripe.control("/reset")
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    assert len(app_stripe.stripe.store.state.accounts) == accounts
    assert account_state(vendor_for_name("Rose City Books")).key == "active"


def test_the_demo_admin_clicks_money_actions_with_the_printed_code(
    app, db_session, client, app_stripe
):
    from portal.seed.demo import DEMO_ADMIN_TOTP_SECRET, demo_email, load_demo

    load_demo()
    runner = app.test_cli_runner()
    code = runner.invoke(args=["auth", "totp-code", demo_email("admin")]).output.strip()
    assert len(code) == 6 and code.isdigit()
    client.post("/login", data={"email": demo_email("admin"), "password": DEMO_PASSWORD})
    verified = client.post(
        "/admin/second-factor/verify?next=/admin/month-close", data={"code": code}
    )
    assert verified.status_code == 303 and verified.headers["Location"] == "/admin/month-close"
    # The documented key is the one enrolled, and the demo's own actions are on the audit page.
    assert pyotp.TOTP(DEMO_ADMIN_TOTP_SECRET).verify(code, valid_window=1)
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "Promotion granted" in page and "Order held" in page


def vendor_for_name(name: str):
    return db.session.scalar(sa.select(Vendor.id).where(Vendor.name == name))


def assert_demo_points():
    """Customers in several tiers with pending, earned, redeemed, expired and soon-expiring
    points; every balance is its ledger's sum."""
    tiers = set(db.session.scalars(sa.select(PointsBalance.tier)))
    assert {"bronze", "silver", "gold"} <= tiers, tiers
    for kind in ("earned", "redeemed", "expired", "adjusted"):
        assert count(PointsTransaction, PointsTransaction.type == kind) > 0, kind
    assert count(PointsPendingEarn) > 0
    sums = dict(
        db.session.execute(
            sa.select(
                PointsTransaction.customer_id, sa.func.sum(PointsTransaction.amount)
            ).group_by(PointsTransaction.customer_id)
        ).all()
    )
    for balance in db.session.scalars(sa.select(PointsBalance)):
        assert balance.current_balance == sums.get(balance.customer_id, 0)
    ana = db.session.scalar(sa.select(Customer).where(Customer.full_name == "Ana Lopez"))
    summary = points.summary(ana.id)
    assert summary.balance > 0 and summary.pending > 0 and summary.expiring_soon > 0
    assert points.liability().points == sum(sums.values())
