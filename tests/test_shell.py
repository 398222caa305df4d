"""The shell around every page, over HTTP: each role's sidebar, the shop's name, a vendor removed
from the shop, the admin overview in words, the operations page, the onboarding checklist."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog.services import create_product
from portal.extensions import db
from portal.geo import point
from portal.orders import services as orders
from portal.payouts.models import ConnectedAccount
from portal.referrals.services import record_visit
from portal.shell import NAV, month_label, plural
from portal.vendors.models import VendorMember
from portal.vendors.services import vendor_for_user
from tests.factories import MAKERS, make_admin, make_driver, make_vendor


def sidebar_links(html: str) -> list[str]:
    sidebar = html[html.index('<aside id="sidebar"') : html.index("</aside>")]
    return re.findall(
        r'class="nav-link[^"]*"[^>]*>.*?</svg>(?:<span[^>]*></span>)?([^<]+)</a>', sidebar
    )


@pytest.mark.parametrize("role", ["admin", "driver", "customer"])
def test_each_role_sees_its_own_sections(client, auth, db_session, role):
    user = MAKERS[role]()
    auth.login(user.email)
    html = client.get(f"/{ {'admin': 'admin', 'driver': 'driver', 'customer': 'account'}[role] }/")
    expected = [link.label for section in NAV[role] for link in section.links]
    assert sidebar_links(html.get_data(as_text=True)) == expected
    assert 'class="tabbar"' in html.get_data(as_text=True) or role == "admin"


def test_owner_and_staff_see_the_shop_name_and_only_the_owner_sees_staff(client, auth, db_session):
    owner = make_vendor(shop_name="Sidebar Books")
    clerk = make_vendor(shop_name="Clerk's own shop")
    vendor = vendor_for_user(owner)
    membership = db.session.scalar(sa.select(VendorMember).where(VendorMember.user_id == clerk.id))
    membership.vendor_id, membership.role = vendor.id, "staff"
    db.session.flush()

    auth.login(owner.email)
    html = client.get("/vendor/").get_data(as_text=True)
    assert '<p class="shop-name" title="Sidebar Books">Sidebar Books</p>' in html
    assert sidebar_links(html) == [
        "My shop",
        "Orders",
        "Products",
        "Catalog",
        "Deliveries",
        "Referrals",
        "Commissions",
        "Payouts",
        "Shop profile",
        "Staff",
    ]
    assert 'data-menu-toggle aria-controls="sidebar" aria-expanded="false"' in html
    client.post("/logout")

    auth.login(clerk.email)
    html = client.get("/vendor/").get_data(as_text=True)
    assert "Staff" not in sidebar_links(html) and "Sidebar Books" in html


def test_a_vendor_removed_from_the_shop_gets_a_page_that_says_so(client, auth, db_session):
    user = make_vendor(shop_name="Gone Shop")
    db.session.execute(sa.delete(VendorMember).where(VendorMember.user_id == user.id))
    db.session.flush()
    auth.login(user.email)

    response = client.get("/vendor/products/")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "no longer works for a shop" in html
    assert 'action="/logout"' in html
    assert sidebar_links(html) == []  # no links that would all answer 403
    assert "data-menu-toggle" not in html  # nor a phone menu button opening an empty menu
    assert 'name="then" value="open-shop"' in html and "Sign out and open a shop" in html

    # Signing in again lands on the same page, not a bare 403.
    client.post("/logout")
    landing = client.get(auth.login(user.email).headers["Location"])
    assert landing.status_code == 403 and "no longer works for a shop" in landing.get_data(True)

    # "Sign out and open a shop": signed out, on the shop sign-up form.
    response = client.post("/logout", data={"then": "open-shop"})
    assert response.status_code == 302 and response.headers["Location"] == "/signup/vendor"
    assert client.get("/vendor/").status_code == 302  # signed out: sent to sign-in
    assert "Open your shop" in client.get("/signup/vendor").get_data(as_text=True)


def test_the_auth_pages_are_one_card_without_the_sidebar(client, auth, db_session):
    html = client.get("/login").get_data(as_text=True)
    assert 'class="card auth-card"' in html and "layout-auth" in html
    assert '<aside id="sidebar"' not in html
    user = make_vendor()
    auth.login(user.email)
    # A mailed link opened while signed in keeps the card, with a way back to the dashboard.
    html = client.get("/password/reset/not-a-token").get_data(as_text=True)
    assert '<aside id="sidebar"' not in html and "This link does not work" in html
    assert 'href="/dashboard"' in html


def test_the_admin_overview_says_the_numbers_in_words(client, auth, db_session):
    admin = make_admin()
    shop = vendor_for_user(make_vendor(shop_name="Counted"))
    vendor_for_user(make_vendor(shop_name="Quiet"))
    make_driver()  # not verified yet
    for price in ("10.00", "15.50"):
        order = orders.place_order(
            vendor_id=shop.id,
            items=[orders.LineItem(title="Tea", quantity=1, unit_price=Decimal(price))],
        )
        orders.mark_paid(order)
    orders.place_order(  # never paid: not a sale
        vendor_id=shop.id,
        items=[orders.LineItem(title="Tea", quantity=1, unit_price=Decimal("99.00"))],
    )
    db.session.flush()
    auth.login(admin.email)

    html = client.get("/admin/").get_data(as_text=True)
    numbers = html[html.index('id="marketplace-numbers"') :]
    assert ">2 shops<" in numbers
    assert ">2 paid orders<" in numbers
    assert ">$25.50<" in numbers
    assert ">1 driver<" in numbers
    assert "1 driver is awaiting verification." in html
    assert "FOR VALUES" not in html


def test_the_operations_page_names_partitions_by_month(client, auth, db_session):
    auth.login(make_admin().email)
    html = client.get("/admin/operations").get_data(as_text=True)
    assert "FOR VALUES" not in html
    assert re.search(r">(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d<", html)
    assert "Anything outside the months above" in html  # the default partition


def test_the_onboarding_checklist_ticks_itself_off(client, auth, db_session):
    owner = make_vendor(shop_name="Fresh Start")
    vendor = vendor_for_user(owner)
    auth.login(owner.email)

    def done_steps():
        html = client.get("/vendor/").get_data(as_text=True)
        if 'id="onboarding"' not in html:
            return None  # every step done: the checklist is gone
        return re.findall(r'<li class="done">.*?<span>([^<]+)</span>', html, re.S)

    assert done_steps() == []
    create_product(vendor, title="Loaf", sku="L1", price=Decimal("3.00"), inventory=1)
    db.session.flush()
    assert done_steps() == ["Add your first product"]
    vendor.description, vendor.location = "Bread since 1990.", point(45.52, -122.68)
    order = orders.place_order(
        vendor_id=vendor.id,
        items=[orders.LineItem(title="Loaf", quantity=1, unit_price=Decimal("3"))],
    )
    db.session.flush()
    assert done_steps() == ["Complete your shop&#39;s profile", "Add your first product"]
    orders.mark_paid(order)
    db.session.flush()
    assert done_steps() == [
        "Complete your shop&#39;s profile",
        "Add your first product",
        "Receive your first paid order",
    ]
    # Payouts are done once Stripe has them on (the account state "active"), not at a click.
    account = ConnectedAccount(
        vendor_id=vendor.id,
        stripe_account_id="acct_checklist",
        account_type="express",
        capabilities={"transfers": "pending"},
        payouts_enabled=True,
    )
    db.session.add(account)
    db.session.flush()
    assert len(done_steps()) == 3
    account.capabilities = {"transfers": "active"}
    db.session.flush()
    assert len(done_steps()) == 4
    # The referral link is shared once it has brought a counted visit.
    html = client.get("/vendor/").get_data(as_text=True)
    assert 'href="/vendor/referrals/">Share your referral link' in html
    record_visit(vendor.referral_code, "first-follower-0001")
    db.session.flush()
    assert done_steps() is None


def test_plurals_and_months_in_words():
    assert plural(1, "product") == "1 product"
    assert plural(0, "product") == "0 products"
    assert plural(1200, "delivery", "deliveries") == "1,200 deliveries"
    assert month_label(2026, 9) == "Sep 2026"


# The page-weight budget of docs/performance.md: the CSS and JS every page loads (the shell), and
# what a page with a chart or a map adds on top of it.
SHELL_BUDGET_BYTES = 170_000
PAGE_BUDGET_BYTES = {"/vendor/": 400_000, "/vendor/shop/": 350_000}


def page_assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)


def asset_bytes(app, paths: list[str]) -> int:
    from pathlib import Path

    static = Path(app.static_folder)
    return sum((static / path.removeprefix("/static/")).stat().st_size for path in paths)


@pytest.mark.parametrize("path", ["/vendor/products/", "/vendor/", "/vendor/shop/"])
def test_pages_stay_within_the_weight_budget(app, client, auth, db_session, path):
    auth.login(make_vendor().email)
    assets = page_assets(client.get(path).get_data(as_text=True))
    assert "/static/vendor/htmx/htmx.min.js" in assets  # the scan found the page's assets
    assert asset_bytes(app, assets) <= PAGE_BUDGET_BYTES.get(path, SHELL_BUDGET_BYTES), assets
