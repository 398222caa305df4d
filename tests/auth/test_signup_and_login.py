import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.customers.models import Customer
from portal.deliveries.models import Driver
from portal.extensions import db
from portal.tiers.models import ShopTier
from portal.vendors.models import Vendor, VendorMember
from tests.factories import PASSWORD, make_customer
from tests.mailbox import links, path_of

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


def finish_signup(client, mailbox, role, email):
    """Sign up through the form, then open the mailed link and press its button."""
    response = client.post(
        f"/signup/{role}", data={"email": email, **ACCOUNT, **SIGNUP_FORMS[role]}
    )
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    link = path_of(links(mailbox.last_to(email.lower()))[0])
    return client.post(link)


@pytest.mark.parametrize("role", ["customer", "vendor", "driver"])
def test_signup_mails_a_link_that_creates_the_account_and_signs_in(client, mailbox, role):
    email = f"New.{role}@Example.com"
    response = client.post(
        f"/signup/{role}", data={"email": email, **ACCOUNT, **SIGNUP_FORMS[role]}
    )
    assert response.status_code == 200
    assert user_by_email(email.lower()) is None  # nothing exists before the link is opened
    assert client.get(DASHBOARDS[role]).status_code == 302

    message = mailbox.last_to(email.lower())
    assert message["Subject"] == "Finish creating your Marketplace Portal account"
    link = path_of(links(message)[0])
    assert link.startswith("/signup/finish/")
    page = client.get(link)
    assert page.status_code == 200 and "Create my account" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"

    finished = client.post(link)
    assert finished.status_code == 302
    assert finished.headers["Location"] == DASHBOARDS[role]
    user = user_by_email(email.lower())
    assert user is not None and user.role == role and user.email_verified_at is not None
    assert user.password_hash != PASSWORD and user.check_password(PASSWORD)
    assert client.get(DASHBOARDS[role]).status_code == 200

    again = client.post(link)  # the link works once
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)


def test_vendor_signup_opens_shop_at_bronze(client, mailbox):
    finish_signup(client, mailbox, "vendor", "baker@example.com")
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


def test_driver_signup_waits_for_verification(client, mailbox):
    finish_signup(client, mailbox, "driver", "rider@example.com")
    driver = db.session.scalar(sa.select(Driver).where(Driver.email == "rider@example.com"))

    assert driver.background_check_status == "pending"
    assert driver.insurance_verified is False
    assert driver.status == "offline"
    page = client.get("/driver/").get_data(as_text=True)
    # The insurance document is the step after sign-up (docs/deliveries.md).
    assert "Before you can drive" in page and "Upload your insurance document" in page


def test_customer_signup_creates_profile(client, mailbox):
    finish_signup(client, mailbox, "customer", "ana@example.com")
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


def test_signup_with_taken_email_looks_the_same_and_mails_the_owner(client, mailbox):
    existing = make_customer(email="taken@example.com")
    taken = client.post(
        "/signup/vendor", data={"email": "TAKEN@example.com", **ACCOUNT, **SIGNUP_FORMS["vendor"]}
    )
    fresh = client.post(
        "/signup/vendor", data={"email": "fresh@example.com", **ACCOUNT, **SIGNUP_FORMS["vendor"]}
    )
    assert taken.status_code == fresh.status_code == 200
    page = taken.get_data(as_text=True).replace("taken@example.com", "ADDRESS")
    assert page == fresh.get_data(as_text=True).replace("fresh@example.com", "ADDRESS")

    message = mailbox.last_to("taken@example.com")
    assert message["Subject"] == "You already have a Marketplace Portal account"
    assert [path_of(link) for link in links(message)] == ["/login", "/password/forgot"]
    count = sa.select(sa.func.count()).select_from(User)
    assert db.session.scalar(count.where(sa.func.lower(User.email) == "taken@example.com")) == 1
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
