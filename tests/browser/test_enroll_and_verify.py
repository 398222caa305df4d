"""An admin sets up the authenticator and proves it in Chromium, codes computed with pyotp; each
page passes axe, breaks no CSP rule and fits a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from portal import clock
from tests.browser import walk
from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.conftest import sign_in as sign_in_as
from tests.factories import make_admin, make_vendor
from tests.second_factor import code_for

pytestmark = pytest.mark.browser


def sign_in(page, base, email):
    sign_in_as(page, base, email, lands_on="/admin/")


def promote(page):
    page.select_option("select[name=tier]", "gold")
    page.select_option("select[name=reason]", "launch")
    page.fill("input[name=expires_on]", (clock.today() + timedelta(days=20)).isoformat())
    page.click("text=Grant promotion")


def check(page, size: str, what: str):
    page.wait_for_load_state("load")
    problems = walk.axe_violations(page)
    assert not problems, (what, size, problems)
    assert walk.overflow(page, size) <= 0, (what, size)
    assert page.console_errors == [], (what, size, page.console_errors)  # CSP reports among them


@pytest.mark.parametrize(("device", "size"), [(LAPTOP, "1280"), (PHONE, "390")])
def test_an_admin_enrolls_then_verifies_before_a_money_action(
    live_server, committed, page_factory, device, size
):
    admin = make_admin()
    make_vendor(shop_name="Second Factor Books")
    committed.commit()
    page = page_factory(device)
    sign_in(page, live_server, admin.email)

    # A money action without the factor: the promotion form sends the admin to set it up.
    page.goto(f"{live_server}/admin/vendors/")
    page.click("text=Second Factor Books")
    vendor_page = page.url
    promote(page)
    page.wait_for_url(re.compile(r".*/admin/second-factor/set-up\?next=.*"))
    expect(page.locator("#alerts")).to_contain_text("Nothing was done yet")
    expect(page.locator("#enroll-qr svg")).to_be_visible()
    check(page, size, "set-up")
    page.screenshot(path=f"test-artifacts/second-factor-set-up-{size}.png", full_page=True)
    secret = page.inner_text("#enroll-secret").replace(" ", "")
    assert f"secret={secret}" in page.text_content("#enroll-uri")

    page.fill("input[name=code]", "000000" if code_for(secret) != "000000" else "111111")
    page.click("button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("not the one")
    page.console_errors.clear()  # the refused code's 422, as intended
    first_code = pyotp.TOTP(secret).now()
    page.fill("input[name=code]", first_code)
    page.click("button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    check(page, size, "recovery codes")
    page.screenshot(path=f"test-artifacts/second-factor-codes-{size}.png", full_page=True)
    page.click("#recovery-done")
    page.wait_for_url(vendor_page)
    assert page.locator(".promo").count() == 0  # nothing was done

    promote(page)  # the form again: now it runs
    expect(page.locator("#promotion .promo")).to_contain_text("Promotion (launch)")

    # A new sign-in has no proof: the code page, then back to the form's page.
    page.goto(f"{live_server}/security/")
    expect(page.locator("#second-factor")).to_contain_text("10 recovery codes left")
    check(page, size, "security page")
    page.locator("#sessions summary").click()
    page.locator("#sessions button[type=submit]").click()
    page.wait_for_url(f"{live_server}/login")
    sign_in(page, live_server, admin.email)
    page.goto(vendor_page)
    promote(page)
    page.wait_for_url(re.compile(r".*/admin/second-factor/verify\?next=.*"))
    check(page, size, "verify")
    page.fill("input[name=code]", first_code)  # the replay of the set-up's code
    page.click("button[type=submit]")
    expect(page.locator(".field-error")).to_be_visible()
    page.console_errors.clear()
    page.fill("input[name=code]", code_for(secret, 1))  # the next step's, as a phone may show
    page.click("button[type=submit]")
    page.wait_for_url(vendor_page)
    promote(page)
    expect(page.locator(".toast, #promotion .promo").first).to_be_visible()
