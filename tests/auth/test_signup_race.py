"""Two sign-ups with one email at once get clean answers, never a 500 (real sockets, real
concurrent requests, and the unique index deciding a race)."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from portal.auth.models import User
from tests.factories import PASSWORD
from tests.mailbox import links, path_of

FORM = {"password": PASSWORD, "confirm": PASSWORD, "full_name": "Rita Race"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar and the CSRF token of the last page, like a browser tab."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.token = None

    def get(self, path: str) -> tuple[int, str]:
        status, page = self._open(urllib.request.Request(self.base + path))
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        self.token = found.group(1) if found else self.token
        return status, page

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def _at_once(*calls):
    """Run the calls in threads released together; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n, call):
        barrier.wait()
        results[n] = call()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _users(committed, email):
    committed.rollback()  # see what the server committed
    return committed.scalars(sa.select(User).where(User.email == email)).all()


def test_two_sign_ups_and_two_finishes_at_once_get_clean_answers(live_server, committed, mailbox):
    one, two = Browser(live_server), Browser(live_server)
    for browser in (one, two):
        assert browser.get("/signup/customer")[0] == 200
    results = _at_once(
        lambda: one.post("/signup/customer", {"email": "twice@example.com", **FORM}),
        lambda: two.post("/signup/customer", {"email": "twice@example.com", **FORM}),
    )
    assert [status for status, _ in results] == [200, 200]
    assert all("Check your email" in page for _, page in results)

    finish = [path_of(links(m)[0]) for m in mailbox.to("twice@example.com")]
    assert len(finish) == 2
    for browser, path in zip((one, two), finish, strict=True):
        assert browser.get(path)[0] == 200
    outcomes = _at_once(lambda: one.post(finish[0], {}), lambda: two.post(finish[1], {}))
    assert sorted(status for status, _ in outcomes) == [302, 409]
    refused = next(page for status, page in outcomes if status == 409)
    assert "An account with this email exists now" in refused
    assert len(_users(committed, "twice@example.com")) == 1


def _admin_dsn(app) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def test_losing_the_race_on_the_unique_index_is_a_clean_409(app, live_server, committed, mailbox):
    browser = Browser(live_server)
    browser.get("/signup/customer")
    assert browser.post("/signup/customer", {"email": "race@example.com", **FORM})[0] == 200
    path = path_of(links(mailbox.last_to("race@example.com"))[0])
    assert browser.get(path)[0] == 200

    # Another transaction inserts the address first and holds it uncommitted: the request's
    # INSERT waits on the unique index, then fails when that transaction commits.
    with psycopg.connect(_admin_dsn(app)) as rival:
        rival.execute(
            "INSERT INTO users (email, password_hash, role) "
            "VALUES ('race@example.com', '!', 'customer')"
        )
        outcome = {}
        request = threading.Thread(target=lambda: outcome.update(r=browser.post(path, {})))
        request.start()
        _wait_for_a_lock_wait(rival)
        rival.commit()
        request.join(timeout=30)
    status, page = outcome["r"]
    assert status == 409 and "An account with this email exists now" in page
    users = _users(committed, "race@example.com")
    assert len(users) == 1 and users[0].password_hash == "!"


def _wait_for_a_lock_wait(connection, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the request never waited on the unique index")
