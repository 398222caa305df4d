"""The sign-in, sign-up and mailed-link pages on a phone: one card, every tap target at least
44 by 44 px (WCAG 2.5.5), walked from the page list of tests/browser/walk.py."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException

from tests.browser import walk

pytestmark = pytest.mark.browser

# Every control a thumb can reach, with its box; the skip link is off screen until focused.
SMALL_TARGETS = """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]),'
    + ' select, textarea, summary, label:has(input[type=checkbox])')]
  .filter((el) => el.getClientRects().length > 0 && !el.classList.contains("skip-link"))
  .map((el) => ({el, box: el.getBoundingClientRect()}))
  .filter(({box}) => box.height < 44 || box.width < 44)
  .map(({el, box}) => `${el.tagName.toLowerCase()} "${(el.innerText || el.name || "").trim()}"`
       + ` ${Math.round(box.width)}x${Math.round(box.height)}`)"""


def auth_visits(app, world) -> list[walk.Visit]:
    pages = [
        visit
        for visit in walk.page_visits(app, world)
        if visit.role == "guest" and visit.name.startswith(("auth.", "invitations."))
    ]
    # The guests' opened states on these pages (or on none: the error pages), not on the other
    # public pages (a customer's tracking page is no sign-in card).
    adapter = app.url_map.bind("localhost")

    def on_auth_page(visit: walk.Visit) -> bool:
        try:
            endpoint, _ = adapter.match(visit.path.split("?")[0])
        except HTTPException:
            return True
        return endpoint.startswith(("auth.", "invitations."))

    states = [v for v in walk.opened_states(world) if v.role == "guest" and on_auth_page(v)]
    return pages + states


def test_every_auth_page_is_one_card_with_full_size_tap_targets(app, walker):
    visits = auth_visits(app, walker.world)
    names = {visit.name for visit in visits}
    assert {"auth.login", "auth.signup", "auth.reset_password", "auth.verify_email"} <= names
    failures = []
    for visit in visits:
        page = walker.open(visit, "390")
        if visit.name != "a page that does not exist":
            assert page.locator(".auth-card").count() == 1, visit.name
            assert page.locator("#sidebar").count() == 0, visit.name
        small = page.evaluate(SMALL_TARGETS)
        if small:
            failures.append(f"{visit.name} {visit.path}: {small}")
    assert not failures, "\n".join(failures)
