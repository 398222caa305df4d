"""Password reset, the claim of a storefront buyer's account, email verification and the
sign-up limits, through the pages and the real mail (a local SMTP server, the RQ job run)."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from portal.auth import passwords
from portal.auth.models import SignupRequest, User
from portal.clock import utcnow
from portal.customers.models import Customer
from portal.extensions import db
from portal.orders.intake import customer_for_order
from tests.factories import PASSWORD, make_customer
from tests.mailbox import body, links, path_of

NEW = "a brand new passphrase"


def user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def _reset_link(client, mailbox, email):
    page = client.post("/password/forgot", data={"email": email})
    assert page.status_code == 200 and "Check your email" in page.get_data(as_text=True)
    return path_of(links(mailbox.last_to(email))[0])


def test_password_reset_by_mail_sets_the_password_once_and_ends_every_session(
    app, client, auth, mailbox
):
    make_customer(email="forgot@example.com")
    laptop = app.test_client()
    laptop.post("/login", data={"email": "forgot@example.com", "password": PASSWORD})
    assert laptop.get("/account/").status_code == 200

    link = _reset_link(client, mailbox, "forgot@example.com")
    message = mailbox.last_to("forgot@example.com")
    assert message["Subject"] == "Reset your Marketplace Portal password"
    assert link.startswith("/password/reset/")
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"

    done = client.post(link, data={"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200  # signed in with the new password
    assert laptop.get("/account/").status_code == 302  # the other session ended
    assert user_by_email("forgot@example.com").email_verified_at is not None

    again = client.post(link, data={"password": "another new passphrase", "confirm": "x"})
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)
    auth.logout()
    assert auth.login("forgot@example.com", PASSWORD).status_code == 422
    assert auth.login("forgot@example.com", NEW).status_code == 302


def test_a_reset_link_expires(app, client, mailbox):
    make_customer(email="late@example.com")
    link = _reset_link(client, mailbox, "late@example.com")
    minutes = app.config["PASSWORD_RESET_MINUTES"]
    with freeze_time(utcnow() + timedelta(minutes=minutes + 1)):
        response = client.post(link, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert user_by_email("late@example.com").check_password(PASSWORD)


def test_a_tampered_reset_link_is_refused(client, mailbox):
    make_customer(email="tamper@example.com")
    link = _reset_link(client, mailbox, "tamper@example.com")
    response = client.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert response.status_code == 410 and "not valid" in response.get_data(as_text=True)


def test_a_reset_for_an_unknown_address_looks_the_same_and_mails_nobody(client, mailbox):
    make_customer(email="known@example.com")
    unknown = client.post("/password/forgot", data={"email": "unknown@example.com"})
    known = client.post("/password/forgot", data={"email": "known@example.com"})
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data(as_text=True).replace("unknown@", "X@") == known.get_data(
        as_text=True
    ).replace("known@", "X@")
    assert mailbox.to("unknown@example.com") == []
    assert len(mailbox.to("known@example.com")) == 1


def test_the_reset_link_is_on_the_public_url_whatever_the_host_header(app, client, mailbox):
    make_customer(email="host@example.com")
    evil = {"Host": "evil.example"}
    form = client.get("/password/forgot", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post(
        "/password/forgot",
        data={"email": "host@example.com", "csrf_token": token},
        headers=evil,
        csrf=False,  # the token of the page served on that host, as a browser would send it
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    link = links(mailbox.last_to("host@example.com"))[0]
    assert link.startswith(app.config["PUBLIC_URL"] + "/password/reset/")


def test_a_storefront_buyer_has_no_usable_password_until_claiming_by_sign_up(client, auth, mailbox):
    customer = customer_for_order("Buyer@Example.com", "Bea Buyer")
    buyer = user_by_email("buyer@example.com")
    assert buyer.password_hash == passwords.UNUSABLE  # a marker, not a hash of some secret
    assert auth.login("buyer@example.com", "!").status_code == 422
    assert auth.login("buyer@example.com", "").status_code == 422

    response = client.post(
        "/signup/customer",
        data={
            "email": "buyer@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "full_name": "Bea Buyer",
        },
    )
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    message = mailbox.last_to("buyer@example.com")
    assert message["Subject"] == "Claim your Marketplace Portal account"
    link = path_of(links(message)[0])
    assert link.startswith("/claim/")
    assert "Claim your account" in client.get(link).get_data(as_text=True)

    claimed = client.post(link, data={"password": NEW, "confirm": NEW})
    assert claimed.status_code == 302 and claimed.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    db.session.refresh(buyer)
    assert buyer.check_password(NEW) and buyer.email_verified_at is not None
    # The same account keeps its orders' customer: nothing was created beside it.
    customers = db.session.scalars(sa.select(Customer).where(Customer.user_id == buyer.id)).all()
    assert [c.id for c in customers] == [customer.id]
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 410


def test_email_verification_from_the_security_page(client, auth, mailbox):
    user = make_customer(email="verify@example.com")
    assert user.email_verified_at is None
    auth.login("verify@example.com")
    page = client.get("/security/").get_data(as_text=True)
    assert "not confirmed yet" in page
    assert client.post("/security/verify").status_code == 302

    message = mailbox.last_to("verify@example.com")
    assert message["Subject"] == "Confirm your email address"
    link = path_of(links(message)[0])
    assert client.get(link).status_code == 200
    db.session.refresh(user)
    assert user.email_verified_at is None  # a GET changes nothing
    assert client.post(link).status_code == 200
    db.session.refresh(user)
    assert user.email_verified_at is not None
    assert "Your email address is confirmed" in client.get("/security/").get_data(as_text=True)


SIGNUP = {"password": PASSWORD, "confirm": PASSWORD, "full_name": "Rae Repeat"}


def test_sign_up_is_limited_per_email(app, client, mailbox):
    limit = int(app.config["SIGNUP_LIMIT_PER_EMAIL"].split()[0])
    for n in range(limit):
        address = f"198.51.100.{n + 1}"  # from different addresses
        response = client.post(
            "/signup/customer",
            data={"email": "repeat@example.com", **SIGNUP},
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == 200
    refused = client.post(
        "/signup/customer",
        data={"email": "REPEAT@example.com", **SIGNUP},
        environ_base={"REMOTE_ADDR": "198.51.100.99"},
    )
    assert refused.status_code == 429 and "Too many requests" in refused.get_data(as_text=True)
    assert len(mailbox.to("repeat@example.com")) == limit


def test_sign_up_and_reset_requests_are_limited_per_address(app, client):
    app.config["SIGNUP_LIMIT_PER_ADDRESS"] = "3 per hour"
    try:
        for n in range(2):
            data = {"email": f"many{n}@example.com", **SIGNUP}
            assert client.post("/signup/customer", data=data).status_code == 200
        assert client.post("/password/forgot", data={"email": "x@example.com"}).status_code == 200
        data = {"email": "many9@example.com", **SIGNUP}
        assert client.post("/signup/customer", data=data).status_code == 429
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignupRequest)) == 2
    finally:
        app.config["SIGNUP_LIMIT_PER_ADDRESS"] = "10 per hour"


def test_an_expired_or_unknown_sign_up_link_says_so(client, mailbox, app):
    client.post("/signup/customer", data={"email": "slow@example.com", **SIGNUP})
    link = path_of(links(mailbox.last_to("slow@example.com"))[0])
    hours = app.config["SIGNUP_LINK_HOURS"]
    with freeze_time(utcnow() + timedelta(hours=hours, minutes=1)):
        expired = client.post(link)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert client.get("/signup/finish/not-a-token").status_code == 404
    assert user_by_email("slow@example.com") is None


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password123", "most common"),
        ("qwertyuiop", "most common"),
        ("1234567890", "most common"),
        ("Policy@Example.com", "cannot be your email"),
        ("x" * 129, "at most 128"),
        ("short", "at least 10"),
    ],
)
def test_the_password_policy_refuses_weak_passwords(client, password, reason):
    data = {"email": "policy@example.com", "password": password, "confirm": password}
    response = client.post("/signup/customer", data={**data, "full_name": "Pat Policy"})
    assert response.status_code == 422 and reason in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignupRequest)) == 0


def test_the_password_policy_holds_for_reset_and_change(client, auth, mailbox):
    make_customer(email="keeper@example.com")
    link = _reset_link(client, mailbox, "keeper@example.com")
    weak = client.post(
        link, data={"password": "keeper@example.com", "confirm": "keeper@example.com"}
    )
    assert weak.status_code == 422 and "cannot be your email" in weak.get_data(as_text=True)
    auth.login("keeper@example.com")
    changed = client.post(
        "/security/password",
        data={"current": PASSWORD, "password": "password1234", "confirm": "password1234"},
    )
    assert changed.status_code == 422 and "most common" in changed.get_data(as_text=True)
    assert "keeper@example.com" not in body(mailbox.last_to("keeper@example.com")).split("\n")[0]
