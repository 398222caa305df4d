import re

from portal import htmx
from tests.factories import make_customer


def test_post_without_csrf_token_is_refused(client):
    make_customer(email="csrf@example.com")
    response = client.post(
        "/login", data={"email": "csrf@example.com", "password": "x" * 12}, csrf=False
    )
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_htmx_post_without_token_gets_an_error_fragment_in_the_alert_region(client):
    response = client.post("/login", data={}, headers={"HX-Request": "true"}, csrf=False)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#alerts"
    body = response.get_data(as_text=True)
    assert body.startswith('<p class="alert alert-error"') and "<html" not in body


def test_pages_carry_the_csrf_header_for_htmx_and_a_csp(client):
    response = client.get("/login")
    body = response.get_data(as_text=True)
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", body)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_lax(client, auth):
    make_customer(email="cookie@example.com")
    response = auth.login("cookie@example.com")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_outside_development():
    from portal.config import Config

    assert Config.SESSION_COOKIE_HTTPONLY is True
    assert Config.SESSION_COOKIE_SAMESITE == "Lax"


def test_failed_sign_ins_are_limited_per_account(client, auth):
    make_customer(email="target@example.com")
    for _ in range(5):
        assert auth.login("target@example.com", "wrong password!").status_code == 422
    blocked = auth.login("target@example.com")  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.get_data(as_text=True)
    # Another account from the same address is not blocked by this account's limit.
    make_customer(email="other@example.com")
    assert auth.login("other@example.com").status_code == 302


def test_failed_sign_ins_are_limited_per_address(app, client, auth):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 5 minutes"
    try:
        for n in range(3):
            auth.login(f"someone{n}@example.com", "wrong password!")
        assert auth.login("someone9@example.com", "wrong password!").status_code == 429
    finally:
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = "20 per 5 minutes"


def test_successful_sign_ins_do_not_count(client, auth):
    make_customer(email="often@example.com")
    for _ in range(7):
        assert auth.login("often@example.com").status_code == 302
        auth.logout()


def test_missing_page_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_render_gives_fragment_to_htmx_and_page_otherwise(app):
    with app.test_request_context("/", headers={"HX-Request": "true"}):
        response = htmx.render("errors/error.html", "errors/_alert.html", status=200, message="hi")
        assert "<html" not in response.get_data(as_text=True)
        assert "HX-Request" in response.headers["Vary"]
    with app.test_request_context("/", headers={"HX-Request": "true", "HX-Boosted": "true"}):
        response = htmx.render("errors/error.html", "errors/_alert.html", status=200, message="hi")
        assert "<html" in response.get_data(as_text=True)


def test_unexpected_error_shows_the_500_page_and_rolls_back():
    """Outside tests an unexpected exception becomes a 500 page (or alert), never a traceback."""
    from portal import create_app
    from portal.config import TestConfig

    class ServerConfig(TestConfig):
        TESTING = False  # the error handlers a real server has

    app = create_app(ServerConfig)

    @app.route("/boom")
    def boom():
        raise RuntimeError("broken on purpose")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    fragment = client.get("/boom", headers={"HX-Request": "true"})
    assert fragment.status_code == 500 and fragment.headers["HX-Retarget"] == "#alerts"
