"""Every page of every role, for the walking tests (accessibility and width).

"Every page" is the URL map's GET routes, with seeded ids for the routes that need one (each mailed
link with a working token of its kind), pages outside the role prefixes that need a signed-in user
walked once per role (``SIGNED_IN_PAGES``), plus the opened states of ``opened_states``. A new GET
route is walked without anyone adding it here; only a route that is not a page (a fragment, a file,
a redirect) has to be named in ``NOT_PAGES``.

Every page is on the shell's components, so every page must pass.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from portal import mail
from portal.admin import audit
from portal.auth import signups, tokens
from portal.catalog import mapping, remaps
from portal.catalog.services import create_product
from portal.clock import utcnow
from portal.commissions.models import CommissionRecord
from portal.customers.services import customer_for_user
from portal.deliveries.services import driver_for_user
from portal.obfuscation import services as obfuscation
from portal.orders import services as orders
from portal.payouts.models import ConnectedAccount, Payout, PayoutHold
from portal.vendors.models import VendorMember
from portal.vendors.services import vendor_for_user
from portal.vendors.staff import invite_staff
from tests.browser.conftest import LAPTOP, PHONE
from tests.deliveries.helpers import driver_profile
from tests.deliveries.tracking_helpers import tracked
from tests.factories import PASSWORD, make_admin, make_customer, make_driver, make_vendor
from tests.payouts.helpers import payout_run_with_a_failure_and_a_hold

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"1280": LAPTOP, "390": PHONE}

# Endpoints that answer GET but are not pages a person opens.
NOT_PAGES = {
    "static": "files",
    "media.file": "uploaded files",
    "main.health": "a health check",
    "main.dashboard": "a redirect to the role's dashboard",
    "commissions.export_csv": "a CSV download",
    "payouts.export_csv": "a CSV download",
    "payouts.onboarding_refresh": "a redirect to a new Stripe onboarding link",
    "payouts.onboarding_return": "a redirect back to the payouts page (after reading Stripe)",
    "products.export": "a CSV download",
    "vendor_orders.badge": "a fragment polled by the sidebar",
    "cart.badge": "the cart count the bar and the sidebar load",
    "admin.count": "the admin sidebar's count fragments",
    "operations.job": "one job's row, polled by the operations page",
    "products.inline_cell": "a fragment (its editor is an opened state below)",
    "products.import_progress": "a fragment polled by the import page",
    "admin.month_close_progress": "a fragment polled by the month-end close page",
    "admin.payout_run_progress": "a fragment polled by a payout run's page",
    "tracking.status": "a fragment polled by the tracking page",
    "driver.work": "the driver's work panel, polled by their dashboard",
    "admin_deliveries.positions": "the live board map's markers (JSON)",
    "private_files.file": "members-only uploaded files",
    "driver_documents.file": "a driver's private document (a PDF or a photo)",
    "auth.dev_mail": "development mail reader (a message by id, not a page of the portal)",
    "driver_payouts.earnings_csv": "a CSV download",
    "admin_driver_pay.driver_earnings_csv": "a CSV download",
    "driver_payouts.onboarding_refresh": "a redirect to a new Stripe onboarding link",
    "driver_payouts.onboarding_return": "a redirect back to the Pay page (after reading Stripe)",
    "referrals.visit": "a shop's referral link: a redirect to its public page (walked)",
    "vendor_referrals.export_csv": "a CSV download",
    "vendor_referrals.qr_png": "a QR code download (PNG)",
    "vendor_referrals.qr_svg": "a QR code download (SVG)",
    "vendor_referrals.build_link": "the link builder's fragment (without HTMX: a redirect)",
    "catalog_review.item": "one proposal of the review queue (without HTMX: a redirect to it)",
    "catalog_review.masters": "the review panel's master search results (a fragment)",
    "catalog_review.bulk_preview": "the review queue's bulk approve preview (a fragment)",
    "catalog_remaps.masters": "a remap request's master search results (a fragment)",
}

# Pages outside the role prefixes that only a signed-in user opens: walked once per role.
SIGNED_IN_PAGES = {
    "auth.security": ("admin", "vendor", "driver", "customer"),
    "cart.show": ("guest", "customer"),  # a guest's cart and a customer's, in their own shells
}

ROLE_PREFIXES = {
    "/admin": "admin",
    "/vendor": "vendor",
    "/driver": "driver",
    "/account": "customer",
}


@dataclass(frozen=True)
class Visit:
    role: str  # "guest" for public pages
    name: str  # the endpoint, or the opened state's name
    path: str
    open_with: tuple[str, ...] = ()  # selectors clicked, in order, before checking
    wait_for: str | None = None  # a selector that shows the state is open
    fill: tuple[tuple[str, str], ...] = ()  # (selector, text) typed before the clicks


@dataclass
class World:
    emails: dict[str, str]
    ids: dict[str, str]
    # Arguments that differ by route (each mailed link has its own kind of token).
    endpoint_ids: dict[str, dict[str, str]] = field(default_factory=dict)


def seed(committed) -> World:
    """One user per role, a shop with a product, an order and an invitation, a vendor removed
    from a shop, a written mail, and a working link of every kind the portal mails."""
    admin = make_admin()
    owner = make_vendor(shop_name="Walking Wines")
    vendor = vendor_for_user(owner)
    product = create_product(
        vendor,
        title="Pinot noir, Willamette Valley, 2021, a long title to truncate",
        sku="PN-2021-WILLAMETTE-VALLEY-RESERVE",
        price=Decimal("24.00"),
        inventory=6,
    )
    # Product obfuscation's pages: a classification, and the product's neutral values.
    obfuscation.create_classification("walk-wellness", "Wellness products, walked by the tests")
    obfuscation.save_obfuscation(
        obfuscation.product_for_obfuscation(product.id),
        classification_code="walk-wellness",
        name="Household item with a long neutral name to truncate in the preview",
    )
    # The catalog's pages: the product is its own master's offer, and asks to be remapped.
    master = mapping.create_master_from_product(product)
    mapping.map_product(product, master, method="new_master")
    remaps.request_remap(
        vendor, product, "Walked: the 2021 reserve, not the 2020.", requested_by=owner
    )
    customer = make_customer(full_name="Maximiliana Featherstonehaugh-Worthington")
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=customer_for_user(customer).id,
        items=[
            orders.LineItem(title="Pinot noir", quantity=2, unit_price=Decimal("24.00")),
            orders.LineItem(title="Hazelnuts, 500 g", quantity=1, unit_price=Decimal("9.50")),
        ],
        dropoff_address={"street": "1 Main St, Apartment 1204", "city": "Portland"},
        source="webhook",
        external_id="order_01J9Z6PXQ8WEXAMPLE",
        external_number="R-2044",
    )
    orders.mark_paid(order)  # its points wait, pending, on the customer's points page
    _seed_points(customer_for_user(customer), admin)
    _seed_payout(committed, vendor, order)
    driver = make_driver()
    _, token = invite_staff(vendor, "new-staff@example.com", invited_by=owner)
    removed = make_vendor(shop_name="Left Behind")
    committed.execute(sa.delete(VendorMember).where(VendorMember.user_id == removed.id))
    signup = signups.request_signup("customer", "walker@example.com", PASSWORD, {"full_name": "W"})
    written = mail.Outgoing("20260101120000-0123456789ab", customer.email, "Walk mail", "Hello.")
    mail.deliver(asdict(written))  # the walk's mail backend is a folder (test_walk.py)
    # The Audit page shows a row, linked to the order's page.
    audit.record("order.refunded", "order", order.id, actor=admin, label=order.label, amount="9.50")
    held = vendor_for_user(make_vendor(shop_name="Harbourside Hardware and Household Goods"))
    run = payout_run_with_a_failure_and_a_hold(committed, vendor, held)
    # The order's delivery under way (a PIN, the driver on the map), and a delivered one to rate.
    delivery = tracked(
        "enroute_to_pickup",
        order=order,
        driver=driver_profile(driver),  # the walking driver's own, for their delivery page
        proof_of_delivery={"pin": "2468"},
    )
    delivered = tracked("delivered")  # another shop's, so this shop's pages stay as they were
    _seed_driver_pay(committed, driver_profile(driver))
    committed.commit()
    return World(
        emails={
            "admin": admin.email,
            "vendor": owner.email,
            "driver": driver.email,
            "customer": customer.email,
            "removed": removed.email,
        },
        ids={
            "vendor_id": str(vendor.id),
            "product_id": str(product.id),
            "order_id": str(order.id),
            "token": token,
            "role": "vendor",
            "customer": str(customer.id),
            "customer_id": str(customer_for_user(customer).id),  # a customer's points page
            "message_id": written.message_id,
            "run_id": str(run.id),
            "payout_id": str(run.payouts[0].id),
            "code": "walk-wellness",
            "delivery_id": str(delivery.id),
            "delivered_token": delivered.tracking_token,
            "driver_id": str(driver_for_user(driver).id),
            "slug": vendor.slug,  # the shop's public page
        },
        endpoint_ids={
            "auth.reset_password": {"token": tokens.reset_token(customer)},
            "auth.claim_account": {"token": tokens.reset_token(customer)},
            "auth.verify_email": {"token": tokens.verify_token(customer)},
            "auth.finish_signup": {"token": re.search(r"/signup/finish/(\S+)", signup.body)[1]},
            "tracking.page": {"token": delivery.tracking_token},
            "catalog_public.page": {"slug": master.slug},
        },
    )


def _seed_points(customer, admin) -> None:
    """The customer's points page with a history longer than a page ("Load more" is drawn)."""
    from portal.loyalty import points

    for n in range(22):
        points.adjust(
            customer.id, 10 + n, f"Walked points, a long reason to truncate {n}", actor=admin
        )


def _seed_payout(committed, vendor, order) -> Payout:
    """A sent payout of the order's records, and a hold on what came after, for the payouts
    pages; the shop's Stripe account half set up, so the page shows what Stripe asks."""
    records = committed.scalars(
        sa.select(CommissionRecord).where(CommissionRecord.order_id == order.id)
    ).all()
    payout = Payout(
        vendor_id=vendor.id,
        vendor_type=vendor.vendor_type,
        amount=Decimal("41.20"),
        commission_ids=[record.id for record in records],
        status="paid",
        stripe_transfer_id="tr_walk",
        processed_at=utcnow(),
    )
    committed.add(payout)
    committed.flush()
    for record in records:
        record.payout_id = payout.id
    committed.add(
        PayoutHold(
            vendor_id=vendor.id,
            reason="payouts_disabled",
            held_since=utcnow(),
            reason_since=utcnow(),
            amount_waiting=Decimal("12.50"),
            record_count=1,
        )
    )
    committed.add(
        ConnectedAccount(
            vendor_id=vendor.id,
            stripe_account_id="acct_walk",
            account_type="express",
            capabilities={"transfers": "inactive"},
            requirements={
                "currently_due": ["external_account", "individual.dob.day"],
                "past_due": [],
                "errors": [],
                "current_deadline": 1_900_000_000,
            },
        )
    )
    return payout


def _seed_driver_pay(committed, driver) -> None:
    """The walking driver's Pay pages: a paid delivery and its payout, one still settling, a
    hold, and a Stripe account half set up."""
    from datetime import timedelta

    from portal.payouts.driver_earnings import record_earning
    from portal.payouts.driver_models import DriverEarning, DriverPayoutHold
    from tests.deliveries.helpers import delivery_row

    for pay, tip, days in (("7.50", "2.00", 9), ("6.25", "0.00", 1)):
        delivery = delivery_row(
            driver_id=driver.id, driver_pay=Decimal(pay), driver_tip=Decimal(tip)
        )
        record_earning(delivery, utcnow() - timedelta(days=days))
    committed.flush()
    paid = committed.scalars(
        sa.select(DriverEarning).where(DriverEarning.driver_id == driver.id)
    ).all()[0]
    payout = Payout(
        driver_id=driver.id,
        amount=paid.amount,
        earning_ids=[paid.id],
        status="paid",
        stripe_transfer_id="tr_walk_driver",
        processed_at=utcnow(),
    )
    committed.add(payout)
    committed.flush()
    paid.status, paid.payout_id = "paid", payout.id
    committed.add(
        DriverPayoutHold(
            driver_id=driver.id,
            reason="payouts_disabled",
            held_since=utcnow(),
            reason_since=utcnow(),
            amount_waiting=Decimal("6.25"),
            record_count=1,
        )
    )
    committed.add(
        ConnectedAccount(
            driver_id=driver.id,
            stripe_account_id="acct_walk_driver",
            account_type="express",
            capabilities={"transfers": "inactive"},
            requirements={"currently_due": ["external_account"], "past_due": [], "errors": []},
        )
    )


def role_of(path: str) -> str:
    for prefix, role in ROLE_PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return role
    return "guest"


def page_visits(app, world: World) -> list[Visit]:
    """The URL map's GET pages with the seeded ids filled in; a route needing an id nobody seeded
    fails here, so a new page with a new argument is not silently skipped."""
    visits = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            ids = world.ids | world.endpoint_ids.get(rule.endpoint, {})
            missing = [arg for arg in rule.arguments if arg not in ids]
            assert not missing, (
                f"{rule.endpoint} ({rule.rule}) needs {missing}: seed one in "
                "tests/browser/walk.py, or name the route in NOT_PAGES if it is not a page"
            )
            path = url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments})
            for role in SIGNED_IN_PAGES.get(rule.endpoint, (role_of(path),)):
                visits.append(Visit(role, rule.endpoint, path))
    return visits


def opened_states(world: World) -> list[Visit]:
    products = "/vendor/products/"
    order_row = f"#order-row-{world.ids['order_id']}"
    order_page = f"/vendor/orders/{world.ids['order_id']}"
    return [
        Visit(
            "vendor",
            "an order's row menu",
            "/vendor/orders/",
            (f"{order_row} .row-menu > summary",),
            f"{order_row} .row-menu[open]",
        ),
        Visit(
            "vendor",
            "the order's cancel panel in its row",
            "/vendor/orders/",
            (f"{order_row} .row-menu > summary", f"{order_row} .cancel-order > summary"),
            f"{order_row} .cancel-order[open]",
        ),
        Visit(
            "vendor",
            "the order's cancel panel on its page",
            order_page,
            ("#order-detail .cancel-order > summary",),
            "#order-detail .cancel-order[open]",
        ),
        Visit(
            "vendor", "the account menu", "/vendor/", (".user-menu summary",), ".user-menu[open]"
        ),
        Visit("admin", "the account menu", "/admin/", (".user-menu summary",), ".user-menu[open]"),
        Visit(
            "admin",
            "the payout run's start panel",
            "/admin/payouts/",
            ("#start-run .confirm > summary",),
            "#start-run .confirm[open]",
        ),
        Visit(
            "admin",
            "a failed payout's retry panel",
            f"/admin/payouts/runs/{world.ids['run_id']}",
            ("#run-payouts .confirm > summary",),
            "#run-payouts .confirm[open]",
        ),
        Visit(
            "vendor",
            "the products list's inline editor",
            products,
            (f"#price-{world.ids['product_id']} button",),
            f"#price-{world.ids['product_id']} input[name=value]",
        ),
        Visit("guest", "a page that does not exist", f"/no-such-page-{uuid.uuid4().hex[:6]}"),
        Visit(
            "guest",
            "sign-in refused, errors by the fields",
            "/login",
            (".auth-card button[type=submit]",),
            ".field-error",
        ),
        Visit(
            "guest",
            "the check-your-email page",
            "/password/forgot",
            (".auth-card button[type=submit]",),
            "text=Check your email",
            fill=(("input[name=email]", world.emails["customer"]),),
        ),
        Visit("guest", "a mailed link that does not work", "/password/reset/not-a-token"),
        Visit("removed", "a vendor removed from the shop", "/vendor/", wait_for="#no-shop"),
        Visit(
            "admin",
            "the refund's confirmation",
            f"/admin/orders/{world.ids['order_id']}/refund",
            (".confirm-submit summary",),
            ".confirm-submit[open]",
        ),
        Visit(
            "admin",
            "an order id that is not one",
            "/admin/orders/find?order_id=1234",
            wait_for="#find-order-error",
        ),
        Visit(
            "vendor",
            "a page that does not exist",
            "/vendor/products/00000000-0000-0000-0000-000000000000/edit",
        ),
        Visit(
            "guest",
            "a delivered delivery's tracking page, with its rating form",
            f"/track/{world.ids['delivered_token']}",
            wait_for="#tracking-rating form",
        ),
        Visit("guest", "a tracking link that does not exist", "/track/no-such-token"),
        Visit(
            "admin",
            "a delivery's reassign confirmation",
            f"/admin/deliveries/{world.ids['delivery_id']}",
            ("#delivery-actions .confirm > summary",),
            "#delivery-actions .confirm[open]",
        ),
        Visit(
            "admin",
            "a delivery's cancel confirmation",
            f"/admin/deliveries/{world.ids['delivery_id']}",
            ("#delivery-actions .confirm-submit > summary",),
            "#delivery-actions .confirm-submit[open]",
        ),
    ]


def phone_states() -> list[Visit]:
    """States only a phone has: the sidebar opened by the menu button."""
    return [
        Visit(
            "vendor",
            "the phone's open menu",
            "/vendor/",
            ("[data-menu-toggle]",),
            ".menu-open #sidebar",
        ),
        Visit(
            "admin",
            "the phone's open menu",
            "/admin/",
            ("[data-menu-toggle]",),
            ".menu-open #sidebar",
        ),
    ]


def all_visits(app, world: World, size: str) -> list[Visit]:
    visits = page_visits(app, world) + opened_states(world)
    return visits + (phone_states() if size == "390" else [])


def settle(page) -> None:
    """Wait until htmx has no request in flight (the sidebar's counts load after the page)."""
    page.wait_for_function(
        "() => window.htmx !== undefined && !document.querySelector('.htmx-request')",
        timeout=5_000,
    )


class Walker:
    """One signed-in browser context per role and size; CSP reports collected per page."""

    def __init__(self, browser, base: str, world: World):
        self.browser, self.base, self.world = browser, base, world
        self.pages: dict[tuple[str, str], object] = {}

    def page(self, role: str, size: str):
        key = (role, size)
        if key not in self.pages:
            context = self.browser.new_context(**SIZES[size])
            page = context.new_page()
            page.csp_reports = []
            page.on(
                "console",
                lambda message, page=page: (
                    page.csp_reports.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            if role != "guest":
                page.goto(f"{self.base}/login")
                page.fill("input[name=email]", self.world.emails[role])
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("load")
                assert "/login" not in page.url, f"{role} could not sign in"
            self.pages[key] = page
        return self.pages[key]

    def open(self, visit: Visit, size: str):
        page = self.page(visit.role, size)
        page.csp_reports.clear()
        page.goto(self.base + visit.path, wait_until="load")
        settle(page)
        for selector, text in visit.fill:
            page.fill(selector, text)
        for selector in visit.open_with:
            page.click(selector)
        if visit.wait_for:
            page.wait_for_load_state("load")
            page.wait_for_selector(visit.wait_for, state="attached")
            settle(page)
        return page

    def close(self):
        for page in self.pages.values():
            page.context.close()


AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations"],
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
      return `${v.id} (${v.impact}): ${v.help} at ${where}`;
    });
}"""


def axe_violations(page) -> list[str]:
    # Under the strict CSP an injected <script> is refused, and bypass_csp would hide the very
    # violations this walk reports, so axe's source is evaluated through the DevTools protocol.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text() + "\n;true")
    return page.evaluate(AXE_RUN)


def overflow(page, size: str) -> int:
    """How many pixels the document is wider than the screen (0 when it fits).

    Measured against the device's width, not ``window.innerWidth``: a mobile browser widens its
    layout viewport to fit content that is too wide, so innerWidth would grow with the fault.
    """
    width = SIZES[size]["viewport"]["width"]
    return (
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth,"
            " window.innerWidth)"
        )
        - width
    )
