"""An admin reviews catalog matches from the keyboard alone in Chromium: approve, reject to a new
master, next/previous, undo; the next proposal is already there when a decision is sent, the page
never reloads, axe finds nothing, and the shortcuts do nothing when switched off or when focus is
outside the review panel."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.catalog import mapping
from portal.catalog.models import MatchDecision, MatchProposal
from portal.extensions import db
from tests.browser.conftest import LAPTOP, sign_in
from tests.browser.walk import axe_violations
from tests.catalog.review.helpers import master_with, propose, shop
from tests.factories import make_admin

pytestmark = pytest.mark.browser

CURRENT = "#review-panel article[data-current]"


def _queue():
    _, one = shop(shop_name="Catalog Shop")
    _, two = shop(shop_name="Second Shop")
    tv = master_with(one, "Sony Bravia KDL-40V4100 40in LCD TV", price="500.00")
    cam = master_with(one, "Canon EOS 50D body", price="900.00")
    return [
        propose(two, tv, title="Sony KDL40V4100 television", confidence="0.95"),
        propose(two, cam, title="Canon EOS 500D kit", confidence="0.85"),
        propose(two, tv, title="Sony Bravia 40 inch", confidence="0.75"),
        propose(two, cam, title="Canon 50D camera body", confidence="0.65"),
    ]


def _shows(page, proposal):
    expect(page.locator(CURRENT)).to_have_attribute("data-proposal", str(proposal.id))


def _settled(page, prefetched=None):
    """The panel's answer has arrived (the one after the current one is prefetched again)."""
    if prefetched is not None:
        expect(
            page.locator(f'article[data-prefetched][data-proposal="{prefetched.id}"]')
        ).to_have_count(1)
    expect(page.locator("#review-panel")).not_to_have_attribute("aria-busy", "true")


def test_review_from_the_keyboard_alone(live_server, committed, page_factory):
    p1, p2, p3, p4 = _queue()
    admin = make_admin()
    committed.commit()

    page = page_factory(LAPTOP)
    sign_in(page, live_server, admin.email, lands_on="/admin/")
    page.goto(f"{live_server}/admin/catalog/review/")
    _shows(page, p1)
    assert axe_violations(page) == []
    page.evaluate("window.notReloaded = true")

    page.focus("#review-panel")
    page.keyboard.press("a")  # approve: the prefetched next one shows at once
    _shows(page, p2)
    _settled(page, prefetched=p3)
    expect(page.locator("#review-counts")).to_contain_text("3 waiting in this filter")

    page.keyboard.press("r")  # reject: the choices open with "new master" focused
    expect(page.locator(f"{CURRENT} details[data-key=r]")).to_have_attribute("open", "")
    expect(page.locator(f"{CURRENT} details[data-key=r] button[data-first]")).to_be_focused()
    page.keyboard.press("Enter")
    _shows(page, p3)
    _settled(page, prefetched=p4)

    page.keyboard.press("j")
    _shows(page, p4)
    _settled(page)
    page.keyboard.press("k")
    _shows(page, p3)
    _settled(page, prefetched=p4)

    page.keyboard.press("m")  # map to another: type in the search, Tab to a result, Enter
    expect(page.locator(f"{CURRENT} details[data-key=m] input[type=search]")).to_be_focused()
    page.keyboard.type("canon eos")
    result = page.locator(f"{CURRENT} button[name=master_id]").first
    expect(result).to_be_visible()
    page.keyboard.press("Tab")
    expect(result).to_be_focused()
    page.keyboard.press("Enter")
    _shows(page, p4)
    _settled(page)
    page.keyboard.press("u")  # undo the remap: p3 is back
    _shows(page, p3)
    _settled(page, prefetched=p4)

    page.keyboard.press("u")  # and undo the reject: that proposal is back, on screen
    _shows(page, p2)
    _settled(page, prefetched=p3)
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#review-panel")).to_be_focused()
    assert axe_violations(page) == []
    page.screenshot(path="test-artifacts/admin-catalog-review.png", full_page=True)

    db.session.expire_all()
    assert db.session.get(MatchProposal, p1.id).status == "approved"
    assert mapping.mapping_of(p1.vendor_product_id).verified is True
    assert db.session.get(MatchProposal, p2.id).status == "pending"
    assert mapping.mapping_of(p2.vendor_product_id) is None
    kinds = db.session.scalars(sa.select(MatchDecision.kind).order_by(MatchDecision.created_at))
    assert list(kinds) == ["approve", "reject", "remap", "undo", "undo"]

    # Switched off, the keys do nothing, even with the panel focused.
    page.uncheck("#review-shortcuts")
    page.focus("#review-panel")
    page.keyboard.press("a")
    page.keyboard.press("j")
    page.wait_for_timeout(400)
    _shows(page, p2)
    page.reload()  # the switch is remembered
    expect(page.locator("#review-shortcuts")).not_to_be_checked()
    page.check("#review-shortcuts")

    # On, but with focus outside the panel: nothing either.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("a")
    page.wait_for_timeout(400)
    _shows(page, p2)
    db.session.expire_all()
    assert db.session.get(MatchProposal, p2.id).status == "pending"
    assert page.console_errors == []
