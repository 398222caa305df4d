"""Screenshots of each role's main page at 1280x800 and 390x844, for a person to look at.

    DATABASE_URL=... .venv/bin/python scripts/screenshots.py      # writes var/screenshots/*.png

Serves the portal in-process on a free loopback port, on the database ``DATABASE_URL`` names (one
``flask seed demo`` filled), signs in as the demo accounts in Debian's headless Chromium and takes
full-page screenshots. Nothing is written to the database but the sign-ins.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.seed.demo import DEMO_PASSWORD  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LAPTOP, PHONE  # noqa: E402

MAIN_PAGES = {
    "vendor": ("rose-city-books@demo.example.com", "/vendor/"),
    "admin": ("admin@demo.example.com", "/admin/"),
    "driver": ("dana-rivers@demo.example.com", "/driver/"),
    "customer": ("ana-lopez@demo.example.com", "/account/"),
}
SIZES = {"1280": LAPTOP, "390": PHONE}


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per screenshot, not per asset
    app = create_app({"SESSION_COOKIE_SECURE": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    out = ROOT / "var" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        for role, (email, path) in MAIN_PAGES.items():
            for size, device in SIZES.items():
                context = browser.new_context(**device)
                page = context.new_page()
                page.goto(base + "/login")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                target = out / f"{role}-{size}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
                context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
