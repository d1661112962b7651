"""Browser fixtures for the ceremony test, shared with tests/browser.

``page`` and ``login`` are re-exported from tests/browser/conftest.py. ``browser`` cannot
simply be re-exported as well: that would be a second session fixture, and starting a second
Playwright in this thread while tests/browser's is still running fails ("using Playwright
Sync API inside the asyncio loop"). So this one reuses the Chromium tests/browser started
when there is one, and otherwise starts its own for this package only (closed before a later
package needs Playwright). Moving ``browser``/``page``/``login`` into tests/conftest.py would
make this file unnecessary.
"""

from __future__ import annotations

import gc
import os

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, login, page  # noqa: F401


def _running_browser():
    """A connected Playwright Browser already running in this process, if any."""
    from playwright.sync_api import Browser

    for obj in gc.get_objects():
        try:
            if isinstance(obj, Browser) and obj.is_connected():
                return obj
        except ReferenceError:  # a dead weak proxy: isinstance cannot even look at it
            continue
    return None


@pytest.fixture(scope="package")
def browser():
    running = _running_browser()
    if running is not None:
        yield running
        return
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
