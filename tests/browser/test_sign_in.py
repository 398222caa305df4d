import pytest

from tests.browser.conftest import LAPTOP, PHONE
from tests.factories import MAKERS, PASSWORD

pytestmark = pytest.mark.browser

EXPECTED = {
    "admin": ("/admin/", "Marketplace overview", LAPTOP),
    "vendor": ("/vendor/", "Bronze", LAPTOP),
    "driver": ("/driver/", "Before you can drive", PHONE),
    "customer": ("/account/", "Hello, Casey", PHONE),
}


def test_each_role_signs_in_and_sees_its_dashboard(live_server, committed, page_factory):
    users = {role: MAKERS[role]() for role in EXPECTED}
    committed.commit()

    for role, (path, text, device) in EXPECTED.items():
        page = page_factory(device)
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", users[role].email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}{path}")
        assert text in page.inner_text("main"), role
        # The page's own scripts and styles load under the content security policy.
        assert page.evaluate("typeof window.htmx") == "object", role
        assert page.console_errors == [], (role, page.console_errors)
        if device is PHONE:
            # Nothing overflows a phone's width.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), role
        page.screenshot(path=f"test-artifacts/dashboard-{role}.png", full_page=True)

        page.click(".user-menu summary")  # the account menu holds sign-out
        page.click("text=Sign out")
        page.wait_for_url(f"{live_server}/login")


def test_wrong_password_shows_a_message(live_server, committed, page_factory):
    user = MAKERS["customer"]()
    committed.commit()
    page = page_factory(PHONE)
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "do not match an active account" in page.inner_text("main")
