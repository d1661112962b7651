"""Browser fixtures for the ceremony test, shared with tests/browser.

``page`` and ``login`` are re-exported from tests/browser/conftest.py. ``browser`` cannot be:
a second copy of that session fixture would start a second Playwright in this thread, which
the sync API refuses ("using Playwright Sync API inside the asyncio loop") when
tests/browser ran first in the same session. So this one reuses tests/browser's Chromium when
it is already running, and otherwise starts its own for this package only (closed before any
later package needs Playwright). Moving ``browser``/``page``/``login`` to tests/conftest.py
would make this file unnecessary.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, login, page  # noqa: F401


def _running_browser(request):
    """tests/browser's session Chromium, if it was started in this session."""
    manager = getattr(request, "_fixturemanager", None)
    for fixturedef in getattr(manager, "_arg2fixturedefs", {}).get("browser", ()):
        cached = getattr(fixturedef, "cached_result", None)
        if fixturedef.baseid.startswith("tests/browser") and cached and cached[2] is None:
            return cached[0]
    return None


@pytest.fixture(scope="package")
def browser(request):
    running = _running_browser(request)
    if running is not None and running.is_connected():
        yield running
        return
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
