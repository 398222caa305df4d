"""Sessions end on the server: a copied cookie stops working once its session is ended."""

import pytest

from tests.factories import MAKERS, PASSWORD, make_customer

NEW_PASSWORD = "a brand new passphrase"


def _second_browser(app, client):
    """Another client carrying a copy of ``client``'s session cookie (as a thief would)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _signed_in_browser(app, email):
    browser = app.test_client()
    assert browser.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return browser


def test_a_cookie_copied_before_sign_out_signs_nobody_in(app, client, auth):
    make_customer(email="copy@example.com")
    auth.login("copy@example.com")
    copy = _second_browser(app, client)
    assert copy.get("/account/").status_code == 200  # the copy works while the session lives

    auth.logout()
    response = copy.get("/account/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_signing_out_ends_only_this_devices_session(app, client, auth):
    make_customer(email="two@example.com")
    auth.login("two@example.com")
    laptop = _signed_in_browser(app, "two@example.com")
    auth.logout()
    assert client.get("/account/").status_code == 302
    assert laptop.get("/account/").status_code == 200


def test_sign_out_everywhere_ends_every_session(app, client, auth):
    make_customer(email="all@example.com")
    auth.login("all@example.com")
    laptop = _signed_in_browser(app, "all@example.com")
    page = client.get("/security/").get_data(as_text=True)
    assert "signed in on 2 devices" in page and "Sign out everywhere" in page

    response = client.post("/security/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/account/").status_code == 302
    assert laptop.get("/account/").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, auth):
    make_customer(email="change@example.com")
    auth.login("change@example.com")
    laptop = _signed_in_browser(app, "change@example.com")
    stolen = _second_browser(app, client)

    response = client.post(
        "/security/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "1 other session(s) were signed out" in client.get("/security/").get_data(as_text=True)
    assert client.get("/account/").status_code == 200
    assert laptop.get("/account/").status_code == 302
    assert stolen.get("/account/").status_code == 302  # the old cookie of this browser too
    assert auth.logout().status_code == 302
    assert auth.login("change@example.com", PASSWORD).status_code == 422
    assert auth.login("change@example.com", NEW_PASSWORD).status_code == 302


def test_a_password_change_needs_the_current_password(client, auth):
    make_customer(email="guard@example.com")
    auth.login("guard@example.com")
    response = client.post(
        "/security/password",
        data={"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "current password is not that one" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", MAKERS)
def test_every_role_reaches_the_security_page_from_its_menu(client, auth, role):
    user = MAKERS[role]()
    auth.login(user.email)
    dashboard = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/security/"' in dashboard
    page = client.get("/security/")
    assert page.status_code == 200 and "Sign out everywhere" in page.get_data(as_text=True)


def test_a_session_older_than_the_lifetime_is_refused(app, client, auth, db_session):
    import sqlalchemy as sa

    from portal.auth.models import UserSession

    make_customer(email="old@example.com")
    auth.login("old@example.com")
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    db_session.execute(
        sa.update(UserSession).values(created_at=UserSession.created_at - lifetime * 2)
    )
    assert client.get("/account/").status_code == 302
