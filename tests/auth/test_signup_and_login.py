import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.customers.models import Customer
from portal.deliveries.models import Driver
from portal.extensions import db
from portal.tiers.models import ShopTier
from portal.vendors.models import Vendor, VendorMember
from tests.factories import PASSWORD, make_customer

ACCOUNT = {"password": PASSWORD, "confirm": PASSWORD}

SIGNUP_FORMS = {
    "customer": {"full_name": "Ana Lopez", "phone": "+1 555 0101"},
    "vendor": {
        "shop_name": "Lopez Bakery",
        "vendor_type": "restaurant",
        "contact_phone": "+1 555 0102",
    },
    "driver": {
        "full_name": "Sam Rider",
        "phone": "+1 555 0103",
        "vehicle_type": "scooter",
        "license_number": "S-998877",
    },
}
DASHBOARDS = {
    "customer": "/account/",
    "vendor": "/vendor/",
    "driver": "/driver/",
    "admin": "/admin/",
}


def user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


@pytest.mark.parametrize("role", ["customer", "vendor", "driver"])
def test_signup_creates_account_signs_in_and_lands_on_dashboard(client, role):
    email = f"New.{role}@Example.com"
    response = client.post(
        f"/signup/{role}", data={"email": email, **ACCOUNT, **SIGNUP_FORMS[role]}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == DASHBOARDS[role]
    user = user_by_email(email.lower())
    assert user is not None and user.role == role
    assert user.password_hash != PASSWORD and user.check_password(PASSWORD)

    dashboard = client.get(DASHBOARDS[role])
    assert dashboard.status_code == 200


def test_vendor_signup_opens_shop_at_bronze(client):
    client.post(
        "/signup/vendor", data={"email": "baker@example.com", **ACCOUNT, **SIGNUP_FORMS["vendor"]}
    )
    user = user_by_email("baker@example.com")
    member = db.session.scalar(sa.select(VendorMember).where(VendorMember.user_id == user.id))
    vendor = db.session.get(Vendor, member.vendor_id)
    tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == vendor.id))

    assert member.role == "owner"
    assert (vendor.name, vendor.slug, vendor.vendor_type) == (
        "Lopez Bakery",
        "lopez-bakery",
        "restaurant",
    )
    assert len(vendor.referral_code) == 8
    assert tier.tier == "bronze" and str(tier.commission_rate) == "0.1500"
    page = client.get("/vendor/").get_data(as_text=True)
    assert "Lopez Bakery" in page and "Bronze" in page and "Commission 15%" in page


def test_driver_signup_waits_for_verification(client):
    client.post(
        "/signup/driver", data={"email": "rider@example.com", **ACCOUNT, **SIGNUP_FORMS["driver"]}
    )
    driver = db.session.scalar(sa.select(Driver).where(Driver.email == "rider@example.com"))

    assert driver.background_check_status == "pending"
    assert driver.insurance_verified is False
    assert driver.status == "offline"
    assert "Verification pending" in client.get("/driver/").get_data(as_text=True)


def test_customer_signup_creates_profile(client):
    client.post(
        "/signup/customer", data={"email": "ana@example.com", **ACCOUNT, **SIGNUP_FORMS["customer"]}
    )
    customer = db.session.scalar(
        sa.select(Customer).join(User).where(User.email == "ana@example.com")
    )
    assert customer.full_name == "Ana Lopez"


def test_signup_errors_are_shown_and_nothing_is_saved(client):
    data = {
        "email": "typo@example.com",
        "password": PASSWORD,
        "confirm": "something else",
        **SIGNUP_FORMS["customer"],
    }
    response = client.post("/signup/customer", data=data)

    assert response.status_code == 422
    assert "The passwords differ." in response.get_data(as_text=True)
    assert user_by_email("typo@example.com") is None


def test_signup_refuses_short_password(client):
    data = {
        "email": "short@example.com",
        "password": "short",
        "confirm": "short",
        **SIGNUP_FORMS["customer"],
    }
    response = client.post("/signup/customer", data=data)
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)


def test_signup_with_taken_email_explains_and_keeps_existing_account(client):
    existing = make_customer(email="taken@example.com")
    data = {"email": "TAKEN@example.com", **ACCOUNT, **SIGNUP_FORMS["vendor"]}
    response = client.post("/signup/vendor", data=data)

    assert response.status_code == 422
    assert "exists already" in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(sa.func.lower(User.email) == "taken@example.com")
        )
        == 1
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 0
    assert user_by_email("taken@example.com").id == existing.id


def test_login_lands_on_own_dashboard_and_logout_ends_session(client, auth):
    make_customer(email="kim@example.com")
    response = auth.login("KIM@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/account/"
    assert user_by_email("kim@example.com").last_login_at is not None

    assert auth.logout().headers["Location"] == "/login"
    assert client.get("/account/").status_code == 302


def test_login_follows_only_local_next(client, auth):
    make_customer(email="next@example.com")
    response = client.post(
        "/login?next=//evil.example/x", data={"email": "next@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/account/"


def test_wrong_password_and_unknown_email_get_the_same_message(client, auth):
    make_customer(email="lee@example.com")
    wrong = auth.login("lee@example.com", "not the password")
    unknown = auth.login("nobody@example.com")

    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "do not match an active account" in response.get_data(as_text=True)


def test_inactive_account_cannot_sign_in(client, auth):
    user = make_customer(email="gone@example.com")
    user.is_active_flag = False
    db.session.flush()
    assert auth.login("gone@example.com").status_code == 422


def test_logout_is_a_post(client, auth):
    make_customer(email="stay@example.com")
    auth.login("stay@example.com")
    assert client.get("/logout").status_code == 405
    assert client.get("/account/").status_code == 200
