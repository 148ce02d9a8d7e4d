"""Re-take the README's screenshots: a fresh system with demo data, photographed in Debian's Chromium.

.venv/bin/python -m tests.browser.screenshots      # writes docs/screenshots/*.png
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.ui import sign_in
from tests.e2e.conftest import start_stack, stop_stack

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


def _lead_with_history(page: Page) -> str:
    """A lead in brokering with an overdue partner request: the richest page."""
    page.goto("/ui/werkvoorraad?fase=brokering&verlopen=1")
    return str(page.locator("tbody a").first.get_attribute("href"))


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        stack = start_stack(folder, f"sqlite+aiosqlite:///{folder / 'groeiruimte.db'}")
        try:
            demo = [sys.executable, "-m", "services.cli", "demo", "--api-url", stack.api_url]
            subprocess.run(demo, check=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = sign_in(browser, stack.api_url, "coordinator")
                page.set_viewport_size(VIEWPORT)
                page.goto("/ui/dashboard")
                page.screenshot(path=FOLDER / "dashboard.png", full_page=True)
                page.goto(_lead_with_history(page))
                page.screenshot(path=FOLDER / "lead.png", full_page=True)
                page.goto("/ui/werkvoorraad")
                page.screenshot(path=FOLDER / "werkvoorraad.png")
                browser.close()
        finally:
            stop_stack(stack)
    print(f"screenshots in {FOLDER}")


if __name__ == "__main__":
    main()
