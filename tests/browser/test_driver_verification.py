"""A new driver sends their insurance document from the phone; an admin verifies them from the
queue on a laptop; the driver's dashboard then offers the online switch."""

import pytest

from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.deliveries.driver_files import pdf_bytes
from tests.deliveries.helpers import driver_profile
from tests.factories import make_admin, make_driver

pytestmark = pytest.mark.browser


def test_upload_verify_and_go_online(live_server, committed, page_factory, tmp_path):
    driver = driver_profile(make_driver(full_name="Robin Road"))
    admin = make_admin()
    committed.commit()
    document = tmp_path / "insurance.pdf"
    document.write_bytes(pdf_bytes())

    phone = page_factory(PHONE)
    sign_in(phone, live_server, driver.email, lands_on="/driver/")
    assert "Before you can drive" in phone.inner_text("#standing")
    phone.click("#standing a[href='/driver/documents']")
    phone.set_input_files("input[type=file]", str(document))
    phone.click("#upload-document button[type=submit]")
    phone.wait_for_url(f"{live_server}/driver/")
    assert "an admin verifies your insurance" in phone.inner_text("#standing")

    laptop = page_factory(LAPTOP)
    sign_in(laptop, live_server, admin.email, lands_on="/admin/")
    laptop.goto(f"{live_server}/admin/drivers/")
    laptop.click("#drivers a:has-text('Robin Road')")
    assert "Open the document" in laptop.inner_text("#driver-document")
    laptop.check("#insurance_verified")
    laptop.select_option("#background_check_status", "clear")
    laptop.fill("#note", "Welcome aboard.")
    laptop.click("#driver-verdict button[type=submit]")
    laptop.wait_for_url(f"{live_server}/admin/drivers/?show=waiting")
    assert "Robin Road is verified and may go online." in laptop.inner_text("body")

    phone.reload()
    assert "Welcome aboard." in phone.inner_text("#standing")
    phone.click("#availability button")
    phone.wait_for_selector("#availability.is-online")
    assert phone.console_errors == [] and laptop.console_errors == []
