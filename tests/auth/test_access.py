"""Every role's pages refuse every other role, and anonymous users are sent to sign in."""

import pytest

from portal.auth import services as accounts
from tests.factories import MAKERS

DASHBOARDS = {
    "customer": "/account/",
    "vendor": "/vendor/",
    "driver": "/driver/",
    "admin": "/admin/",
}
PUBLIC_ENDPOINTS = {
    "main.index",
    "main.health",
    "main.dashboard",
    "auth.login",
    "auth.signup_choice",
    "auth.signup",
    # Links from account mails open for someone who is not signed in (or has no account yet).
    "auth.finish_signup",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.claim_account",
    "auth.verify_email",
    "auth.dev_mail",  # development only: a 404 elsewhere (tests/auth/test_mail_pages.py)
    "static",
    "media.file",  # shop logos and product photos are public
    "invitations.accept",  # a staff invitation link opens for someone without an account yet
    # A delivery's tracking link opens by its unguessable token, without signing in.
    "tracking.page",
    "tracking.status",
    "tracking.rate",  # a POST: its customer rates the delivery from the tracking page
    "referrals.visit",  # a shop's referral link /r/<code>: anyone follows it
    "shops.page",  # a shop's public page
    # Guests shop too: the cart is the session's until they sign in.
    "cart.show",
    "cart.badge",
    "cart.add_item",
    "cart.update_item",
    "cart.remove_item",
    "catalog_public.page",  # a master product's public page
    "storefront.index",  # the catalog: anyone browses and searches it
}


@pytest.mark.parametrize("role", DASHBOARDS)
def test_each_role_opens_its_own_dashboard(client, auth, role):
    user = MAKERS[role]()
    auth.login(user.email)
    assert client.get(DASHBOARDS[role]).status_code == 200
    assert client.get("/").headers["Location"] == DASHBOARDS[role]


@pytest.mark.parametrize(
    ("role", "other"),
    [(role, other) for role in DASHBOARDS for other in DASHBOARDS if other != role],
)
def test_other_roles_dashboards_are_refused(client, auth, role, other):
    user = MAKERS[role]()
    auth.login(user.email)
    response = client.get(DASHBOARDS[other])
    assert response.status_code == 403
    assert "Your account cannot open this page." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", DASHBOARDS.values())
def test_anonymous_users_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_every_route_outside_the_public_ones_requires_sign_in(app, client):
    """Guards against a new route that forgets its role check."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in rule.methods:
            continue
        path = rule.build(dict.fromkeys(rule.arguments, "00000000-0000-0000-0000-000000000000"))[1]
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], rule.rule


def test_create_admin_command(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "Root@Example.com", "--password", "long enough pw"]
    )
    assert result.exit_code == 0, result.output
    admin = accounts.find_user_by_email("root@example.com")
    assert admin.role == "admin" and admin.check_password("long enough pw")

    again = runner.invoke(
        args=["users", "create-admin", "root@example.com", "--password", "long enough pw"]
    )
    assert again.exit_code != 0 and "exists already" in again.output
    short = runner.invoke(args=["users", "create-admin", "x@example.com", "--password", "short"])
    assert short.exit_code != 0 and "at least" in short.output
    common = runner.invoke(
        args=["users", "create-admin", "y@example.com", "--password", "1234567890"]
    )
    assert common.exit_code != 0 and "most common" in common.output
