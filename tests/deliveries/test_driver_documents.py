"""A driver's insurance document: checked for what it claims to be, stored in the private media
root, replaceable, and served only to that driver and admins."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.deliveries import documents
from portal.deliveries.models_drivers import DriverDocument
from portal.extensions import db
from tests.deliveries.driver_files import image_bytes, pdf_bytes, upload
from tests.deliveries.helpers import driver_profile
from tests.factories import make_admin, make_customer, make_driver, make_vendor


@pytest.fixture
def driver(client, auth, db_session):
    profile = driver_profile(make_driver())
    auth.login(profile.email)
    return profile


def send(client, data: bytes, name: str):
    return client.post(
        "/driver/documents", data=upload(data, name), content_type="multipart/form-data"
    )


def stored(driver) -> DriverDocument | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(DriverDocument).where(DriverDocument.driver_id == driver.id))


def test_a_pdf_is_kept_in_the_private_root(app, client, driver):
    answer = send(client, pdf_bytes(), "insurance.pdf")
    assert answer.status_code == 303
    document = stored(driver)
    assert document.content_type == "application/pdf"
    assert document.original_name == "insurance.pdf"
    path = Path(app.config["PRIVATE_MEDIA_ROOT"]) / document.path
    assert path.read_bytes() == pdf_bytes()
    assert not str(path).startswith(app.config["MEDIA_ROOT"] + "/")
    assert document.path.startswith(f"drivers/{driver.id}/")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_photo_is_opened_and_re_encoded(app, client, driver, fmt):
    assert send(client, image_bytes(fmt, exif_gps=True), f"photo.{fmt.lower()}").status_code == 303
    document = stored(driver)
    assert document.content_type == "image/webp"
    path = Path(app.config["PRIVATE_MEDIA_ROOT"]) / document.path
    with Image.open(path) as image:
        assert image.format == "WEBP"
        assert image.size == (60, 40)
        assert not image.getexif()  # the photo's metadata is gone


def test_a_large_photo_is_scaled_down(app, client, driver):
    app.config["DRIVER_DOCUMENT_MAX_PIXELS"], saved = 100, app.config["DRIVER_DOCUMENT_MAX_PIXELS"]
    try:
        assert send(client, image_bytes("PNG", size=(400, 200)), "big.png").status_code == 303
    finally:
        app.config["DRIVER_DOCUMENT_MAX_PIXELS"] = saved
    with Image.open(Path(app.config["PRIVATE_MEDIA_ROOT"]) / stored(driver).path) as image:
        assert image.size == (100, 50)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just some text, not a document", "insurance.pdf", "Send a PDF, or a photo"),
        (b"%PDF-1.4\n1 0 obj << >> endobj\n", "cut.pdf", "damaged or cut short"),
        (b"%PDF-1.7\nno objects here\nstartxref\n9\n%%EOF\n", "empty.pdf", "holds no pages"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "fake.png", "not an image we can read"),
        (b"\xff\xd8\xff" + image_bytes("PNG")[3:], "mixed.jpg", "not an image"),
        (b"GIF89a" + b"\x00" * 50, "anim.gif", "Send a PDF, or a photo"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "doc.svg", "Send a PDF, or a photo"),
        (b"", "empty.pdf", "Choose the file"),
    ],
)
def test_what_is_not_what_it_claims_is_refused(client, driver, data, name, message):
    answer = send(client, data, name)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert stored(driver) is None


def test_a_png_that_is_really_a_jpeg_is_refused(app):
    # The magic bytes say PNG, Pillow reads a JPEG behind them: not what it claims.
    with app.test_request_context():
        jpeg = image_bytes("JPEG")
        with pytest.raises(documents.DocumentRefused):
            documents.check_document(io.BytesIO(b"\x89PNG\r\n\x1a\n" + jpeg))


def test_a_file_above_the_limit_is_refused(app, client, driver):
    saved = app.config["DRIVER_DOCUMENT_MAX_BYTES"]
    # (small sizes: the test client spills a body above 500 KB to a file it never closes)
    app.config["DRIVER_DOCUMENT_MAX_BYTES"] = 100 * 1024
    try:
        answer = send(client, pdf_bytes() + b"%" * (100 * 1024), "huge.pdf")
    finally:
        app.config["DRIVER_DOCUMENT_MAX_BYTES"] = saved
    assert answer.status_code == 422
    assert "larger than 100 KB" in answer.get_data(as_text=True)
    assert stored(driver) is None


def test_no_file_chosen_says_so(client, driver):
    answer = client.post("/driver/documents", data={}, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "Choose the file of your insurance document" in answer.get_data(as_text=True)


def test_the_upload_needs_csrf(client, driver):
    answer = client.post("/driver/documents", data={}, csrf=False)
    assert answer.status_code == 400
    assert stored(driver) is None


def test_replacing_the_document_keeps_one_row_and_asks_for_verification_again(app, client, driver):
    assert send(client, pdf_bytes(), "first.pdf").status_code == 303
    first = stored(driver)
    first_path = Path(app.config["PRIVATE_MEDIA_ROOT"]) / first.path
    driver.insurance_verified = True
    driver.background_check_status = "clear"
    driver.status = "available"
    db.session.flush()

    assert send(client, image_bytes("PNG"), "second.png").status_code == 303
    rows = db.session.scalars(
        sa.select(DriverDocument).where(DriverDocument.driver_id == driver.id)
    ).all()
    assert len(rows) == 1 and rows[0].content_type == "image/webp"
    assert rows[0].id == first.id
    db.session.refresh(driver)
    assert driver.insurance_verified is False
    assert driver.status == "offline"  # unverified drivers are not online
    # The replaced file is removed once the new row is committed.
    assert not first_path.is_file()
    assert (Path(app.config["PRIVATE_MEDIA_ROOT"]) / rows[0].path).is_file()


def test_the_upload_page_says_what_is_accepted(client, driver):
    page = client.get("/driver/documents").get_data(as_text=True)
    assert "A PDF, or a photo of the certificate" in page
    assert 'enctype="multipart/form-data"' in page


# --- who may read it -----------------------------------------------------------------------------


@pytest.fixture
def document_url(client, driver, auth):
    assert send(client, pdf_bytes(), "insurance.pdf").status_code == 303
    url = f"/driver-documents/{stored(driver).id}"
    auth.logout()
    return url


def test_the_driver_reads_their_own_document(client, auth, driver, document_url):
    auth.login(driver.email)
    answer = client.get(document_url)
    assert answer.status_code == 200
    assert answer.data == pdf_bytes()
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_an_admin_reads_it(client, auth, document_url):
    auth.login(make_admin().email)
    assert client.get(document_url).status_code == 200
    assert (
        client.get(document_url + "?download=1")
        .headers["Content-Disposition"]
        .startswith("attachment")
    )


@pytest.mark.parametrize("who", ["vendor", "customer", "other driver", "anonymous"])
def test_nobody_else_reads_it(client, auth, document_url, who):
    makers = {"vendor": make_vendor, "customer": make_customer, "other driver": make_driver}
    if who != "anonymous":
        auth.login(makers[who]().email)
    answer = client.get(document_url)
    if who == "anonymous":  # sent to sign in, as for every page that needs an account
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    else:
        assert answer.status_code == 404
    assert answer.data != pdf_bytes()


def test_an_unknown_document_is_not_found(client, auth):
    auth.login(make_admin().email)
    assert client.get("/driver-documents/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_document_is_not_under_the_public_media(client, driver, document_url):
    path = stored(driver).path
    assert client.get(f"/media/{path}").status_code == 404
