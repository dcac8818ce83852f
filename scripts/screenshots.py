"""Screenshots of the agent workspace on the demo data, for the README: the inbox and a conversation
with the customer sidebar. Run against a running `make run` (default http://127.0.0.1:8000):

    .venv/bin/python scripts/screenshots.py [BASE_URL]
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{BASE}/login/")
        page.get_by_label("Email").fill("demo@happydesk.test")
        page.get_by_label("Password").fill("demo-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/inbox/**")
        page.screenshot(path=str(SHOTS / "inbox.png"))
        # A waiting conversation of a customer who has rated us before: the sidebar shows it all.
        page.goto(f"{BASE}/ratings/?comments=1")
        rated = page.locator(".ratings-feed li a").first.get_attribute("href")
        number = int(re.search(r"/c/(\d+)/", rated).group(1))
        page.goto(f"{BASE}/c/{number}/")
        others = page.locator(".others a").all()
        if others:
            others[0].click()
            page.wait_for_load_state()
        page.screenshot(path=str(SHOTS / "conversation.png"))
        browser.close()


if __name__ == "__main__":
    main()
