"""What the page shell shows around every signed-in page: the role's navigation and the shop.

The navigation is data, not markup, so the sidebar, the phone's tab bar and the browser tests that
walk every page read one definition. A link may name a ``count`` endpoint: a tiny fragment the
sidebar loads and polls after the page, so the page's own statements never wait for it (the
vendor's "orders to accept" reuses the orders badge, a bounded query on the newest partitions; the
admin's orders waiting, drivers to verify and failed jobs are ``admin.count``, see
portal/admin/counts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_login import current_user
from markupsafe import Markup


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: str
    icon: str  # a key of the inline SVG sprite in templates/components/_icons.html
    count: str | None = None  # endpoint of a small count fragment
    owner_only: bool = False
    count_args: tuple[tuple[str, str], ...] = ()  # the count endpoint's URL arguments
    # The setting saying how often the sidebar asks for the count again, in seconds.
    count_poll: str = "NEW_ORDERS_POLL_SECONDS"

    @property
    def count_url_args(self) -> dict[str, str]:
        return dict(self.count_args)


def admin_count(name: str) -> dict:
    """The ``count`` of an admin link: an ``admin.count`` fragment (portal/admin/counts.py)."""
    return {
        "count": "admin.count",
        "count_args": (("name", name),),
        "count_poll": "ADMIN_COUNT_POLL_SECONDS",
    }


@dataclass(frozen=True)
class NavSection:
    title: str
    links: tuple[NavLink, ...]


NAV: dict[str, tuple[NavSection, ...]] = {
    "vendor": (
        NavSection(
            "Sell",
            (
                NavLink("vendor.dashboard", "My shop", "home"),
                NavLink("vendor_orders.index", "Orders", "inbox", count="vendor_orders.badge"),
                NavLink("products.index", "Products", "box"),
                NavLink("vendor_catalog.index", "Catalog", "check"),
                NavLink("vendor_deliveries.index", "Deliveries", "truck"),
                NavLink("vendor_referrals.index", "Referrals", "link"),
            ),
        ),
        NavSection(
            "Money",
            (
                NavLink("commissions.statement", "Commissions", "coins"),
                NavLink("payouts.index", "Payouts", "coins"),
            ),
        ),
        NavSection(
            "Shop",
            (
                NavLink("shop.profile", "Shop profile", "store"),
                NavLink("staff.index", "Staff", "people", owner_only=True),
            ),
        ),
    ),
    "admin": (
        NavSection(
            "Marketplace",
            (
                NavLink("admin.dashboard", "Overview", "home"),
                NavLink("admin.vendors", "Vendors", "store"),
                NavLink("obfuscation.index", "Product obfuscation", "box"),
                NavLink("catalog_review.index", "Review matches", "check"),
                NavLink("catalog_remaps.index", "Remap requests", "link"),
                NavLink("catalog_matching.index", "Catalog matching", "box"),
                NavLink("admin_deliveries.board", "Live deliveries", "truck"),
                NavLink(
                    "admin.drivers",
                    "Drivers",
                    "truck",
                    **admin_count("drivers-to-verify"),
                ),
            ),
        ),
        NavSection(
            "Money",
            (
                NavLink("admin.month_close_page", "Month-end close", "coins"),
                NavLink("admin.payout_runs", "Payouts", "coins", **admin_count("failed-payouts")),
                NavLink(
                    "admin.orders_waiting",
                    "Orders waiting",
                    "inbox",
                    **admin_count("orders-waiting"),
                ),
                NavLink("admin_loyalty.index", "Points", "star"),
                NavLink("admin.audit_trail", "Audit", "check"),
            ),
        ),
        NavSection(
            "System",
            (
                NavLink("admin.operations", "Operations", "gear", **admin_count("failed-jobs")),
                NavLink("admin.sent_mail", "Sent mail", "mail"),
            ),
        ),
    ),
    "driver": (
        NavSection(
            "Work",
            (
                NavLink("driver.dashboard", "Deliveries", "truck"),
                NavLink("driver_payouts.index", "Pay", "coins"),
            ),
        ),
    ),
    "customer": (
        NavSection(
            "Shopping",
            (
                NavLink("customer.dashboard", "My account", "home"),
                NavLink(
                    "cart.show",
                    "Cart",
                    "cart",
                    count="cart.badge",
                    count_poll="CART_COUNT_POLL_SECONDS",
                ),
                NavLink("points.index", "Points", "star"),
            ),
        ),
    ),
}

# Roles whose phone navigation is a bottom tab bar (one hand); the others open the sidebar.
TAB_BAR_ROLES = frozenset({"driver", "customer"})


@dataclass(frozen=True)
class ShopMembership:
    name: str
    role: str


def current_membership() -> ShopMembership | None:
    """The signed-in vendor's shop name and role: what the user loader already read with the
    user (``vendors.access``), so the shell sends no statement of its own."""
    if not (current_user.is_authenticated and current_user.role == "vendor"):
        return None
    from .vendors.access import current_membership as vendor_membership

    membership = vendor_membership()
    # Read from the shop's entity at render time: a page that renames the shop shows the new name.
    return ShopMembership(membership.vendor.name, membership.role) if membership else None


def _audience(role: str, membership: ShopMembership | None) -> tuple[str, bool]:
    """(role, sees owner-only links); a vendor removed from the shop has a role of its own."""
    if role != "vendor":
        return role, False
    if membership is None:
        return "vendor-removed", False
    return role, membership.role == "owner"


def _sections_for(role: str, is_owner: bool) -> list[NavSection]:
    """The role's sections, without the links this user may not open (a vendor removed from the
    shop gets none: every vendor link would answer 403)."""
    sections = []
    for section in NAV.get(role, ()):
        links = tuple(link for link in section.links if is_owner or not link.owner_only)
        if links:
            sections.append(NavSection(section.title, links))
    return sections


def nav_markup(variant: str, membership: ShopMembership | None) -> Markup:
    """The signed-in user's links as the sidebar (``"sidebar"``) or the tab bar (``"tabs"``);
    ``membership`` is the page's ``current_membership()``.

    The markup depends only on the role, whether the user sees owner-only links, the page being
    shown and the variant (URLs and the poll interval are fixed for the app), so it is rendered
    once per worker for each of those and reused: the shell's links were a third of the
    rendering of a page (docs/performance.md). The template is rendered without the request's
    context, so it cannot come to depend on anything else by accident."""
    role, is_owner = _audience(current_user.role, membership)
    key = (role, is_owner, request.endpoint, variant)
    rendered = current_app.extensions.setdefault("shell_nav", {})
    if key not in rendered:
        template = current_app.jinja_env.get_template("_nav_links.html")
        rendered[key] = Markup(
            template.render(
                sections=_sections_for(role, is_owner), here=request.endpoint, variant=variant
            )
        )
    return rendered[key]


def _shell_context() -> dict:
    return {
        "nav_markup": nav_markup,
        "shop_membership": current_membership,
        "tab_bar_roles": TAB_BAR_ROLES,
    }


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 product``, ``2 products``; irregular nouns pass their plural (``1 delivery``)."""
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count:,} {word}"


def month_label(year: int, month: int) -> str:
    """A month in words, as every page names it: ``Sep 2026``."""
    from .periods import Period

    return Period(year, month).label


def init_app(app: Flask) -> None:
    app.context_processor(_shell_context)
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.globals["month_label"] = month_label


def toast(response, message: str, tone: str = "success"):
    """Ask the page to show a toast: an ``HX-Trigger`` event merged with any others."""
    from . import htmx

    return htmx.trigger(response, "toast", {"message": message, "tone": tone})
