"""The shop profile: editing, its rules, the logo, and the admin-only kind of shop."""

import io
from pathlib import Path

import pytest
from PIL import Image

from portal.vendors.profile import position_of
from portal.vendors.services import vendor_for_user
from tests.factories import make_admin, make_customer, make_driver, make_vendor
from tests.toasts import toast_of

HX = {"HX-Request": "true"}


def png_bytes(width=1200, height=800, color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def profile_data(**overrides):
    data = {
        "name": "Sunny Books & Coffee",
        "description": "Second-hand books.",
        "contact_email": "Hello@Sunny.example",
        "contact_phone": "+1 555 0101",
        "line1": "1 Main Street",
        "line2": "",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "country": "USA",
        "latitude": "39.781721",
        "longitude": "-89.650148",
    }
    for day in ("mon", "tue", "wed", "thu", "fri"):
        data[f"{day}-opens"], data[f"{day}-closes"] = "09:00", "17:30"
    data["sat-opens"], data["sat-closes"] = "10:00", "14:00"
    data["sun-closed"] = "y"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def shop(db_session):
    owner = make_vendor(email="owner@example.com", shop_name="Sunny Books")
    return owner, vendor_for_user(owner)


@pytest.fixture
def media(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path))
    return tmp_path


def test_owner_sees_the_profile_with_the_kind_read_only(client, auth, shop):
    owner, _ = shop
    auth.login(owner.email)
    page = client.get("/vendor/shop/").get_data(as_text=True)
    assert 'id="pickup-map"' in page and "Kind of shop" in page
    assert 'name="vendor_type"' not in page  # shown, never editable by the vendor
    assert "Shop profile" in page and ">Staff<" in page  # the owner's nav


def test_valid_profile_is_saved(client, auth, shop, db_session):
    owner, vendor = shop
    auth.login(owner.email)
    response = client.post("/vendor/shop/", data=profile_data(), headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    # Said where the owner is looking (a toast), not at the top of the long form.
    assert toast_of(response) == "Your shop profile is saved."
    assert "profile-saved" in response.headers["HX-Trigger"]
    assert "Your shop profile is saved." not in response.get_data(as_text=True)
    db_session.refresh(vendor)
    assert vendor.name == "Sunny Books & Coffee"
    assert vendor.contact_email == "hello@sunny.example"
    assert vendor.pickup_address["city"] == "Springfield" and vendor.pickup_address["line2"] == ""
    assert vendor.opening_hours["mon"] == [["09:00", "17:30"]]
    assert vendor.opening_hours["sat"] == [["10:00", "14:00"]]
    assert vendor.opening_hours["sun"] == []
    position = position_of(vendor)
    assert position.latitude == pytest.approx(39.781721)
    assert position.longitude == pytest.approx(-89.650148)


def test_plain_form_post_redirects_with_a_message(client, auth, shop):
    owner, _ = shop
    auth.login(owner.email)
    response = client.post("/vendor/shop/", data=profile_data())
    assert response.status_code == 302 and response.headers["Location"] == "/vendor/shop/"
    assert "Your shop profile is saved." in client.get("/vendor/shop/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tue-opens": "18:00", "tue-closes": "09:00"}, "closing time must be after"),
        ({"wed-opens": "09:00", "wed-closes": None}, "Give opening and closing times"),
        ({"latitude": "95", "longitude": "10"}, "Latitude must be between -90 and 90."),
        ({"latitude": "10", "longitude": "-181"}, "Longitude must be between -180 and 180."),
        ({"latitude": "north", "longitude": "10"}, "Enter a number in decimal degrees"),
        ({"latitude": "10", "longitude": ""}, "Give both latitude and longitude"),
        ({"city": "", "line1": "1 Main Street"}, "needs at least a street line"),
        ({"contact_email": "not-an-email"}, "Invalid email address."),
    ],
)
def test_invalid_profile_is_refused_and_what_was_typed_is_kept(
    client, auth, shop, db_session, overrides, message
):
    owner, vendor = shop
    auth.login(owner.email)
    response = client.post("/vendor/shop/", data=profile_data(**overrides), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert "Sunny Books &amp; Coffee" in body  # what was typed comes back
    db_session.refresh(vendor)
    assert vendor.name == "Sunny Books" and vendor.opening_hours is None


def test_logo_is_resized_and_replacing_it_deletes_the_old_file(
    client, auth, shop, media, db_session
):
    owner, vendor = shop
    auth.login(owner.email)
    data = profile_data(logo=(io.BytesIO(png_bytes()), "logo.png"))
    response = client.post(
        "/vendor/shop/", data=data, headers=HX, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db_session.refresh(vendor)
    first = Path(media) / vendor.logo_path
    assert vendor.logo_path.startswith("logos/") and first.is_file()
    with Image.open(first) as stored:
        assert stored.format == "WEBP" and max(stored.size) == 512  # LOGO_MAX_PIXELS
    assert f"/media/{vendor.logo_path}" in response.get_data(as_text=True)
    with client.get(f"/media/{vendor.logo_path}") as served:
        assert served.status_code == 200

    data = profile_data(logo=(io.BytesIO(png_bytes(color=(0, 0, 255))), "new.png"))
    client.post("/vendor/shop/", data=data, headers=HX, content_type="multipart/form-data")
    db_session.refresh(vendor)
    assert not first.exists() and (Path(media) / vendor.logo_path).is_file()

    second = Path(media) / vendor.logo_path
    client.post("/vendor/shop/", data=profile_data(remove_logo="y"), headers=HX)
    db_session.refresh(vendor)
    assert vendor.logo_path is None and not second.exists()


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_saved(
    client, auth, shop, media, db_session
):
    owner, vendor = shop
    auth.login(owner.email)
    data = profile_data(logo=(io.BytesIO(b"<svg onload=alert(1)>"), "logo.png"))
    response = client.post(
        "/vendor/shop/", data=data, headers=HX, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "not an image we can read" in response.get_data(as_text=True)
    db_session.refresh(vendor)
    assert vendor.logo_path is None and vendor.name == "Sunny Books"
    assert not any(Path(media).rglob("*.webp"))


def test_an_upload_over_the_size_limit_gets_a_clear_message(client, auth, shop, app, monkeypatch):
    owner, _ = shop
    auth.login(owner.email)
    # Small sizes: the test client spools bodies over 500 KB to temporary files it leaves open.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100 * 1024)
    data = profile_data(logo=(io.BytesIO(b"x" * (200 * 1024)), "huge.png"))
    response = client.post(
        "/vendor/shop/", data=data, headers=HX, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "#alerts"
    assert "too large: the limit is 100 KB" in response.get_data(as_text=True)
    data = profile_data(logo=(io.BytesIO(b"x" * (200 * 1024)), "huge.png"))
    page = client.post("/vendor/shop/", data=data, content_type="multipart/form-data")
    assert page.status_code == 413 and "too large" in page.get_data(as_text=True)


def test_staff_edit_the_profile_of_their_own_shop_only(client, auth, shop, db_session):
    from portal.vendors import staff

    owner, vendor = shop
    rival_owner = make_vendor(shop_name="Rival Books")
    rival = vendor_for_user(rival_owner)
    invitation, _ = staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    staff.join_with_new_account(invitation, "long enough pw")
    auth.login("clerk@example.com", "long enough pw")
    page = client.get("/vendor/shop/").get_data(as_text=True)
    assert "Sunny Books" in page and "Rival Books" not in page
    assert ">Staff<" not in page  # staff do not manage staff
    # The profile route takes no shop id: whatever is posted changes the member's own shop.
    client.post("/vendor/shop/", data=profile_data(name="Clerk's Edit"), headers=HX)
    db_session.refresh(vendor)
    db_session.refresh(rival)
    assert vendor.name == "Clerk's Edit" and rival.name == "Rival Books"


@pytest.mark.parametrize("maker", [make_customer, make_driver, make_admin])
def test_other_roles_cannot_open_or_post_the_profile(client, auth, db_session, maker):
    user = maker()
    auth.login(user.email)
    assert client.get("/vendor/shop/").status_code == 403
    assert client.post("/vendor/shop/", data=profile_data()).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, db_session):
    assert client.get("/vendor/shop/").status_code == 302
    response = client.post("/vendor/shop/", data=profile_data())
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_sets_the_kind_of_shop(client, verified_admin, shop, db_session):
    _, vendor = shop
    admin = verified_admin
    page = client.get(f"/admin/vendors/{vendor.id}").get_data(as_text=True)
    assert 'name="vendor_type"' in page
    response = client.post(
        f"/admin/vendors/{vendor.id}/vendor-type", data={"vendor_type": "grocery"}
    )
    assert response.status_code == 302
    db_session.refresh(vendor)
    assert vendor.vendor_type == "grocery"
    page = client.get(f"/admin/vendors/{vendor.id}").get_data(as_text=True)
    assert f"changed from shop to grocery by {admin.email}" in page

    bad = client.post(f"/admin/vendors/{vendor.id}/vendor-type", data={"vendor_type": "casino"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)
    db_session.refresh(vendor)
    assert vendor.vendor_type == "grocery"


def test_vendors_cannot_set_their_kind_of_shop(client, auth, shop, db_session):
    owner, vendor = shop
    auth.login(owner.email)
    response = client.post(
        f"/admin/vendors/{vendor.id}/vendor-type", data={"vendor_type": "grocery"}
    )
    assert response.status_code == 403
    # Nor through the profile form: an extra field is ignored.
    client.post("/vendor/shop/", data=profile_data(vendor_type="grocery"), headers=HX)
    db_session.refresh(vendor)
    assert vendor.vendor_type == "shop"


def test_set_vendor_type_service_refuses_non_admins(app, shop):
    from portal.vendors.profile import VendorTypeError, set_vendor_type

    owner, vendor = shop
    with pytest.raises(VendorTypeError):
        set_vendor_type(vendor, "grocery", by=owner)
