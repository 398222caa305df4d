"""A shop's private uploads (CSV imports) over HTTP: its members and admins only, never cached
by a shared cache; public media stays public."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.catalog.jobs import run_product_import
from portal.catalog.models import ProductImport
from portal.extensions import db
from portal.failures import JobRefused
from portal.media import private_path
from portal.vendors import staff
from tests.catalog.helpers import HEADER, csv_upload, shop
from tests.factories import PASSWORD, make_admin, make_customer
from tests.vendors.test_profile import png_bytes, profile_data

CSV = f"{HEADER}\nP-1,Private product,,,,,1.00,1,active,\n"


@pytest.fixture
def shop_with_import(client, auth, db_session):
    owner, vendor = shop(shop_name="Private Shop")
    auth.login(owner.email)
    response = client.post(
        "/vendor/products/import", data=csv_upload(CSV), content_type="multipart/form-data"
    )
    assert response.status_code == 200
    imported = db.session.scalar(
        sa.select(ProductImport).where(ProductImport.vendor_id == vendor.id)
    )
    invitation, _ = staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    clerk = staff.join_with_new_account(invitation, PASSWORD)
    other_owner, _ = shop(shop_name="Other Shop")
    people = {
        "owner": owner,
        "staff": clerk,
        "other vendor": other_owner,
        "customer": make_customer(),
        "admin": make_admin(),
    }
    auth.logout()
    return vendor, imported, people


def test_the_import_file_is_not_under_public_media(app, shop_with_import):
    vendor, imported, _ = shop_with_import
    assert private_path(imported.file_path).read_bytes() == CSV.encode()
    assert imported.file_path.startswith(f"{vendor.id}/imports/")
    assert not private_path(imported.file_path).is_relative_to(app.config["MEDIA_ROOT"])


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("staff", 200), ("admin", 200), ("other vendor", 404), ("customer", 404)],
)
def test_only_members_and_admins_get_the_file(client, auth, shop_with_import, who, status):
    _, imported, people = shop_with_import
    auth.login(people[who].email)
    with client.get(f"/files/{imported.file_path}") as response:
        assert response.status_code == status
        if status == 200:
            assert response.get_data() == CSV.encode()
            assert response.headers["Cache-Control"].startswith("private")
            assert response.headers["Content-Disposition"].startswith("attachment")
        else:
            assert CSV.encode() not in response.get_data()


def test_anonymous_users_are_sent_to_sign_in(client, shop_with_import):
    _, imported, _ = shop_with_import
    response = client.get(f"/files/{imported.file_path}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_old_public_address_serves_nothing(app, client, auth, shop_with_import):
    _, imported, people = shop_with_import
    # An import stored under public media before the private area existed is not served either.
    legacy = Path(app.config["MEDIA_ROOT"]) / "imports" / f"{imported.id}.csv"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(CSV.encode())
    try:
        auth.login(people["other vendor"].email)
        assert client.get(f"/media/{imported.file_path}").status_code == 404
        assert client.get(f"/media/imports/{imported.id}.csv").status_code == 404
    finally:
        legacy.unlink()


def test_the_import_page_links_the_file_for_the_shop(client, auth, shop_with_import):
    _, imported, people = shop_with_import
    auth.login(people["staff"].email)
    assert f"/files/{imported.file_path}" in client.get("/vendor/products/import").get_data(True)


def test_public_media_stays_public(client, auth, db_session):
    owner, vendor = shop(shop_name="Logo Shop")
    auth.login(owner.email)
    data = profile_data(logo=(io.BytesIO(png_bytes()), "logo.png"))
    assert client.post("/vendor/shop/", data=data).status_code in (200, 302)
    db.session.refresh(vendor)
    auth.logout()
    with client.get(f"/media/{vendor.logo_path}") as served:
        assert served.status_code == 200
        assert "private" not in served.headers.get("Cache-Control", "")


# --- failed jobs tell the user what they may read; the detail goes to the log -------------------


def test_a_failed_import_shows_no_internal_detail(client, auth, shop_with_import, caplog):
    vendor, imported, people = shop_with_import
    private_path(imported.file_path).unlink()  # the job meets an error nobody planned for
    with caplog.at_level(logging.ERROR), pytest.raises(FileNotFoundError):
        run_product_import(str(imported.id))
    db.session.refresh(imported)
    assert imported.status == "failed"
    auth.login(people["owner"].email)
    page = client.get(f"/vendor/products/import/{imported.id}").get_data(as_text=True)
    assert "unexpected error stopped it" in page
    for internal in ("FileNotFoundError", "No such file", str(vendor.id), "Traceback"):
        assert internal not in page
    assert "FileNotFoundError" in caplog.text and f"product import {imported.id}" in caplog.text


def test_a_file_that_became_invalid_says_why(client, auth, shop_with_import):
    _, imported, _ = shop_with_import
    private_path(imported.file_path).write_bytes(f"{HEADER}\nP-1,,,,,,1e27,1,active,\n".encode())
    with pytest.raises(JobRefused):
        run_product_import(str(imported.id))
    db.session.refresh(imported)
    assert imported.status == "failed"
    assert imported.error.startswith("line 2: ") and "too large" in imported.error
