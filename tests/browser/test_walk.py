"""Walk every page of every role at 1280 px and 390 px (see tests/browser/walk.py):

* axe-core finds no serious or critical WCAG 2.1 A/AA violation, and no page (or opened state)
  makes the browser report a Content Security Policy violation;
* no document is wider than its viewport.
"""

from __future__ import annotations

import pytest

from tests.browser import walk

pytestmark = pytest.mark.browser


def test_the_lists_name_real_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    stale = (set(walk.NOT_PAGES) | set(walk.SIGNED_IN_PAGES)) - endpoints
    assert not stale, f"no such routes any more, remove them from walk.py: {sorted(stale)}"


@pytest.mark.parametrize("size", ["1280", "390"])
def test_every_page_passes_axe_without_csp_violations(app, walker, size):
    failures = []
    visits = walk.all_visits(app, walker.world, size)
    assert len(visits) >= 15, [v.name for v in visits]  # the walk really reached the pages
    for visit in visits:
        page = walker.open(visit, size)
        problems = walk.axe_violations(page) + [f"CSP: {text}" for text in page.csp_reports]
        if problems:
            failures.append(f"{visit.role} {visit.name} {visit.path} at {size} px: {problems}")
    assert not failures, "\n".join(failures)


# Each role's main page is kept as a screenshot of both sizes, to be looked at (test-artifacts/).
MAIN_PAGES = {"admin.dashboard", "vendor.dashboard", "driver.dashboard", "customer.dashboard"}


@pytest.mark.parametrize("size", ["1280", "390"])
def test_no_page_is_wider_than_the_screen(app, walker, size):
    failures = []
    for visit in walk.all_visits(app, walker.world, size):
        page = walker.open(visit, size)
        if visit.name in MAIN_PAGES and not visit.open_with:
            page.screenshot(path=f"test-artifacts/main-{visit.role}-{size}.png", full_page=True)
        excess = walk.overflow(page, size)
        if excess > 0:
            failures.append(
                f"{visit.role} {visit.name} {visit.path}: {excess} px too wide at {size} px"
            )
    assert not failures, "\n".join(failures)
