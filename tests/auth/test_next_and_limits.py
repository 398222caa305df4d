"""?next= after sign-in, the sign-in limits, and sign-in timing, over HTTP."""

import time

import pytest
import redis

from tests.factories import PASSWORD, make_customer

# Each one a browser reads as another host (tabs and newlines dropped, "\" read as "/", control
# characters and spaces trimmed), or a scheme.
HOSTILE_NEXT = [
    "//evil.example/x",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/\t/evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "%20//evil.example",
    "%01//evil.example",
    "https:evil.example",
    "https://evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "//%09evil.example",
    "evil.example",
    "/%5Cevil.example/%2e%2e",  # decoded: "/\\evil.example/.."
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_redirects_to_another_site(client, target):
    make_customer(email="next@example.com")
    response = client.post(
        f"/login?next={target}", data={"email": "next@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"


def test_a_nul_byte_in_next_is_refused_before_sign_in(client):
    # Every NUL byte in a request is a 400 (portal/inputs.py): no sign-in, no redirect.
    make_customer(email="next@example.com")
    response = client.post(
        "/login?next=%00//evil.example", data={"email": "next@example.com", "password": PASSWORD}
    )
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("target", ["/account/", "/account/?tab=orders", "/security/"])
def test_sign_in_follows_a_local_next(client, target):
    make_customer(email="local@example.com")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "local@example.com", "password": PASSWORD},
    )
    assert response.headers["Location"] == target


def _login_from(client, address, email, password="wrong password!"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failures_from_one_address_do_not_lock_the_account_elsewhere(client):
    make_customer(email="victim@example.com")
    for _ in range(5):
        assert _login_from(client, "203.0.113.9", "victim@example.com").status_code == 422
    assert _login_from(client, "203.0.113.9", "victim@example.com", PASSWORD).status_code == 429
    # The owner, from their own address, signs in as usual.
    assert _login_from(client, "198.51.100.7", "victim@example.com", PASSWORD).status_code == 302


def test_the_wider_per_address_limit_covers_many_accounts(app, client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 5 minutes"
    try:
        for n in range(3):
            assert _login_from(client, "203.0.113.5", f"guess{n}@example.com").status_code == 422
        assert _login_from(client, "203.0.113.5", "guess9@example.com").status_code == 429
        assert _login_from(client, "198.51.100.1", "guess9@example.com").status_code == 422
    finally:
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = "20 per 5 minutes"


def test_the_limiter_key_stays_small_whatever_the_email(app, client):
    huge = "a" * 200_000 + "@example.com"
    assert _login_from(client, "203.0.113.77", huge).status_code == 422
    store = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
    keys = list(store.scan_iter(f"*{app.config['RATELIMIT_KEY_PREFIX']}/login:*"))
    assert keys and max(len(key) for key in keys) < 200


def _refusal_seconds(client, email) -> float:
    started = time.perf_counter()
    response = client.post("/login", data={"email": email, "password": "wrong password!"})
    assert response.status_code == 422
    return time.perf_counter() - started


def _fastest_refusals(client, known_email, unknown_email, rounds=7) -> tuple[float, float]:
    """The fastest of several refusals of each, taken in turns: the minimum is the cost of the
    work itself, and alternating spreads the machine's other load over both alike."""
    known, unknown = [], []
    for _ in range(rounds):
        known.append(_refusal_seconds(client, known_email))
        unknown.append(_refusal_seconds(client, unknown_email))
    return min(known), min(unknown)


def test_unknown_emails_take_as_long_to_refuse_as_known_ones(app, client):
    # With the cheap test hash the difference would vanish in noise: use a costly one here.
    saved_method = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:300000"
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "100 per 5 minutes"
    app.config["LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"] = "100 per 5 minutes"
    try:
        make_customer(email="timed@example.com")
        known, unknown = _fastest_refusals(client, "timed@example.com", "nobody-here@example.com")
    finally:
        app.config["PASSWORD_HASH_METHOD"] = saved_method
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = "20 per 5 minutes"
        app.config["LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"] = "5 per 5 minutes"
    assert known > 0.05  # the costly hash really ran
    assert unknown > known * 0.7, (known, unknown)


def test_every_rate_limit_is_on_a_form_post(app):
    # The limiter skips reads (portal/extensions.py): a limit on a read would never count.
    from flask_limiter.util import get_qualified_name

    from portal.extensions import limiter

    limited = {}
    with app.app_context():  # a limit's value is read from the app's config
        for endpoint, view in app.view_functions.items():
            for limit in limiter.limit_manager.decorated_limits(get_qualified_name(view)):
                limited[endpoint] = set(limit.methods or ())
    assert {"auth.login", "auth.signup", "auth.forgot_password"} <= set(limited)
    assert all(methods == {"post"} for methods in limited.values()), limited
