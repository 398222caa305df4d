"""A referral link followed on a phone, in Chromium: the cookie, the visit, the shop's page."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog.services import create_product
from portal.extensions import db
from portal.referrals.models import ShopReferral
from tests.browser.conftest import PHONE
from tests.orders.helpers import established_shop
from tests.referrals.helpers import BROWSER

pytestmark = pytest.mark.browser


def test_the_link_sets_the_cookie_and_lands_on_the_shop_page_on_a_phone(
    app, live_server, committed, page_factory
):
    shop = established_shop()
    shop.name, shop.description = "Hawthorne Bakery", "Sourdough, baked every morning."
    for n, title in enumerate(("Country loaf", "Seeded rye", "Cinnamon bun with a long name")):
        create_product(shop, title=title, sku=f"B-{n}", price=Decimal("6.50"), inventory=3)
    code, slug = shop.referral_code, shop.slug
    committed.commit()

    # A phone's own browser: headless Chromium names itself HeadlessChrome, a robot's name.
    page = page_factory({**PHONE, "user_agent": BROWSER})
    page.goto(f"{live_server}/r/{code}?utm_source=flyer&utm_medium=print")

    assert page.url == f"{live_server}/shops/{slug}"
    assert page.inner_text("h1") == "Hawthorne Bakery"
    assert "Seeded rye" in page.inner_text("#shop-products")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    [cookie] = [
        c for c in page.context.cookies() if c["name"] == app.config["REFERRAL_COOKIE_NAME"]
    ]
    assert cookie["sameSite"] == "Lax" and cookie["httpOnly"]
    page.screenshot(path="test-artifacts/shop-page-phone.png", full_page=True)

    # Following it again from the same phone records nothing new.
    page.goto(f"{live_server}/r/{code}?utm_source=again")
    db.session.rollback()
    rows = db.session.scalars(sa.select(ShopReferral).where(ShopReferral.shop_id == shop.id)).all()
    assert [(r.utm_source, r.utm_medium) for r in rows] == [("flyer", "print")]
