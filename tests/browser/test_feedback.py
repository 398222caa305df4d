"""Feedback where the user is looking, in Chromium: a busy control while its HTMX request runs, a
toast from the response's HX-Trigger event, and a destructive action behind its confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.test_money_pages import sign_in
from tests.factories import make_vendor

pytestmark = pytest.mark.browser


def test_inviting_and_withdrawing_staff_answers_where_the_owner_looks(
    live_server, committed, page_factory
):
    owner = make_vendor(shop_name="Feedback Florist")
    committed.commit()
    page = page_factory(PHONE)
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server}/vendor/staff/")

    # Hold the invitation's request, to see the button while it runs.
    held = []
    page.route("**/vendor/staff/invitations", lambda route: held.append(route))
    page.fill("input[name=email]", "new-clerk@example.com")
    button = page.get_by_role("button", name="Create invitation link")
    button.click()
    page.wait_for_function("() => document.querySelector('#staff [aria-busy=true]') !== null")
    expect(button).to_have_attribute("aria-busy", "true")  # Pico's spinner; a second tap is off
    held[0].continue_()
    page.unroute("**/vendor/staff/invitations")

    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("Invitation made for new-clerk@example.com")
    expect(toast).to_be_in_viewport()
    expect(page.locator("#invitation-link")).to_be_in_viewport()  # under the button pressed
    expect(button).not_to_have_attribute("aria-busy", "true")  # the swapped-in button

    # Withdrawing asks first; only the confirmation sends it.
    page.click("summary[aria-label='Withdraw the invitation of new-clerk@example.com']")
    expect(page.locator("#invitations")).to_contain_text("new-clerk@example.com")
    page.get_by_role("button", name="Withdraw the invitation", exact=True).click()
    expect(page.locator("#toasts .toast").last).to_contain_text("is withdrawn")
    expect(page.locator("#invitations")).to_contain_text("No pending invitations.")
    page.screenshot(path="test-artifacts/staff-feedback.png", full_page=True)
    assert page.console_errors == []
