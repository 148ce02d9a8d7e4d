"""Browser tests: the real system (`groeiruimte run`) driven through Debian's Chromium with Playwright.

Never a downloaded browser: Chromium comes from `apt-get install chromium`. Without it these tests skip
with a hint; with GROEIRUIMTE_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.conftest import Stack, start_stack, stop_stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_BROWSER = os.environ.get("GROEIRUIMTE_REQUIRE_BROWSER") == "1"
HOW_TO_ENABLE = (
    "install Debian's Chromium to run them: sudo apt-get install chromium (never `playwright install`)"
)


def _require_chromium() -> None:
    if CHROMIUM.exists() and shutil.which(str(CHROMIUM)):
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"GROEIRUIMTE_REQUIRE_BROWSER=1 but {CHROMIUM} is missing; {HOW_TO_ENABLE}")
    pytest.skip(f"browser tests skipped: {CHROMIUM} not found; {HOW_TO_ENABLE}")


# Package scope: the sync Playwright API keeps an event loop running until it stops, which must happen
# before the asyncio tests of other packages run.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    _require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def ui_stack(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Stack]:
    """One running system for the whole browser suite (on a SQLite file: the UI is what is tested)."""
    folder = tmp_path_factory.mktemp("ui-stack")
    stack = start_stack(folder, f"sqlite+aiosqlite:///{folder / 'groeiruimte.db'}")
    yield stack
    stop_stack(stack)
