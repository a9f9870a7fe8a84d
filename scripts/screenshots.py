"""Take the README's screenshots from a running demo (`make demo`) in Debian's Chromium.

.venv/bin/python scripts/screenshots.py http://127.0.0.1:8000
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        ctx = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        )
        page = ctx.new_page()
        page.goto(f"{base}/")
        page.screenshot(path=str(OUT / "home.png"))
        page.goto(f"{base}/entries/gallery/yunjiangshu-live/")
        page.screenshot(path=str(OUT / "campaign-gallery.png"))
        page.click("[data-testid=gallery-entry]")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUT / "campaign-watch.png"))
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_phone", "13900000002")
        page.fill("#id_password", "Saidao-2026")
        page.click("button[type=submit]")
        page.goto(f"{base}/officer/")
        page.screenshot(path=str(OUT / "officer-dashboard.png"), full_page=True)
        page.click("[data-testid=root-org]")
        page.screenshot(path=str(OUT / "officer-organization.png"))
        worker = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        ).new_page()
        worker.goto(f"{base}/accounts/login/")
        worker.fill("#id_phone", "13900000001")
        worker.fill("#id_password", "Saidao-2026")
        worker.click("button[type=submit]")
        worker.goto(f"{base}/accounts/me/")
        worker.screenshot(path=str(OUT / "me-invitations.png"))
        worker.goto(f"{base}/accounts/security/")
        worker.screenshot(path=str(OUT / "account-security.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
