"""Every page of every role from the keyboard, walking the page list of tests/browser/walk.py:

* the first Tab reaches the skip link, which Enter follows to the main content, and the next Tab
  lands on the main content's first control;
* every element Tab focuses shows a visible focus indicator (a computed outline or box-shadow):
  the page's first ``PAGE_STOPS`` controls, and the shell's from the top on each role's first page;
* on a phone, the menu button opens the menu with Enter, Tab and Shift+Tab stay inside the open
  menu, and Escape closes it with the focus back on the button; the account menu opens with
  Enter and closes with Escape.

Laptop only for the page walk (the phone shows the same controls, fewer of them: the sidebar is
behind the menu button, tested on its own); one pass per page keeps the CI time small.
"""

from __future__ import annotations

import pytest

from tests.browser import walk

pytestmark = pytest.mark.browser

PAGE_STOPS = 20  # Tab presses after the main content's first control
SHELL_STOPS = 20  # from the top of the page: the skip link, the sidebar, the account menu

# Records, for every element that gets the focus, whether it shows it; read once per page.
FOCUS_LOG = """() => {
  window.focusLog = [];
  document.addEventListener("focusin", (event) => {
    const el = event.target;
    if (el.getAttribute("tabindex") === "-1") return;  // a programmatic target (the main region)
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const name = el.getAttribute("aria-label") || el.innerText || el.value || el.name || "";
    window.focusLog.push({
      visible: outline || style.boxShadow !== "none",
      what: `${el.tagName.toLowerCase()} "${name.trim().slice(0, 30)}"`,
    });
  });
}"""

# The main content's first control in tab order (document order: no page sets a positive
# tabindex), marked so the test can tell whether Tab reached it.
MARK_FIRST_CONTROL = """() => {
  const selector = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]),'
    + ' select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  const first = [...document.getElementById("content").querySelectorAll(selector)]
    .find((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden");
  if (!first) return null;
  first.dataset.firstControl = "1";
  return first.outerHTML.slice(0, 80);
}"""

ACTIVE = """() => {
  const el = document.activeElement;
  return {
    id: el.id,
    first: el.dataset.firstControl === "1",
    skip: el.classList.contains("skip-link"),
    top: el.getBoundingClientRect().top,
    inSidebar: !!el.closest("#sidebar"),
    menuButton: el.matches("[data-menu-toggle]"),
    html: el.outerHTML.slice(0, 80),
  };
}"""


def active(page) -> dict:
    return page.evaluate(ACTIVE)


def test_every_page_is_usable_from_the_keyboard_with_a_visible_focus(app, walker):
    failures, shell_checked = [], set()
    visits = walk.page_visits(app, walker.world)
    assert len(visits) >= 15, [v.name for v in visits]
    for visit in visits:
        where = f"{visit.role} {visit.name} {visit.path}"
        page = walker.open(visit, "1280")
        page.evaluate(FOCUS_LOG)
        first_control = page.evaluate(MARK_FIRST_CONTROL)

        page.keyboard.press("Tab")
        focused = active(page)
        if not (focused["skip"] and focused["top"] >= 0):
            failures.append(
                f"{where}: the first Tab reached {focused['html']}, not a visible skip link"
            )
            continue
        page.keyboard.press("Enter")
        if active(page)["id"] != "content":
            failures.append(f"{where}: the skip link did not move the focus to the main content")
            continue
        if first_control is not None:
            page.keyboard.press("Tab")
            if not active(page)["first"]:
                failures.append(
                    f"{where}: Tab after the skip link reached {active(page)['html']}, "
                    f"not the main content's first control {first_control}"
                )

        for _ in range(PAGE_STOPS):
            page.keyboard.press("Tab")
        if visit.role not in shell_checked:  # the shell's controls, from the top, once a role
            shell_checked.add(visit.role)
            page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
            page.focus("body")
            for _ in range(SHELL_STOPS):
                page.keyboard.press("Tab")
        hidden = [
            entry["what"] for entry in page.evaluate("window.focusLog") if not entry["visible"]
        ]
        if hidden:
            failures.append(f"{where}: no visible focus on {sorted(set(hidden))}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["vendor", "admin"])
def test_the_phone_menu_opens_keeps_the_focus_and_closes_from_the_keyboard(walker, role):
    page = walker.open(walk.Visit(role, "dashboard", f"/{role}/"), "390")
    button = page.locator("[data-menu-toggle]")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    assert active(page)["menuButton"], active(page)["html"]

    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    assert page.locator("#sidebar").is_visible()
    links = page.locator("#sidebar a[href]").count()
    assert links >= 4
    for _ in range(links + 2):  # once round the menu and on
        page.keyboard.press("Tab")
        focused = active(page)
        assert focused["inSidebar"] or focused["menuButton"], focused["html"]
    page.keyboard.press("Shift+Tab")
    assert active(page)["inSidebar"] or active(page)["menuButton"]

    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert not page.locator("#sidebar").is_visible()
    assert active(page)["menuButton"]  # the focus is back on the button that opened it


def test_the_account_menu_opens_with_enter_and_closes_with_escape(walker):
    page = walker.open(walk.Visit("admin", "overview", "/admin/"), "1280")
    page.focus(".user-menu summary")
    page.keyboard.press("Enter")
    assert page.locator(".user-menu[open]").count() == 1
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('.user-menu .menu-panel')")
    page.keyboard.press("Escape")
    assert page.locator(".user-menu[open]").count() == 0
    assert page.evaluate("document.activeElement.matches('.user-menu summary')")


@pytest.mark.parametrize("role", ["driver", "customer"])
def test_the_phone_tab_bar_is_reached_and_shows_its_focus(walker, role):
    path = {"driver": "/driver/", "customer": "/account/"}[role]
    page = walker.open(walk.Visit(role, "dashboard", path), "390")
    page.evaluate(FOCUS_LOG)
    for _ in range(SHELL_STOPS):
        page.keyboard.press("Tab")
    log = page.evaluate("window.focusLog")
    tabs = page.locator(".tabbar .nav-link").count()
    assert tabs >= 1 and sum(entry["what"].startswith("a ") for entry in log) >= tabs
    assert [entry for entry in log if not entry["visible"]] == []
