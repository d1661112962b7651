"""The fixed cast every test can use, and helpers for real services.

Personas live in 武陟县 (410823) under 焦作市 (410800), with an outsider in 温县 (410825)
and another city (吕梁 141100) for cross-city checks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.models import Organisation, Role

# Playwright's sync API runs an event loop in this thread; Django's async-safety check must be
# relaxed for the test thread's ORM calls in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "pw-Test-2026"  # every persona's password
REALDATA = Path(
    os.environ.get("SJSJ_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata")
)


def realdata(path: str) -> Path:
    """A file of ../shared/realdata, or skip the test with a clear reason when it is absent."""
    target = REALDATA / path
    if not target.exists():
        pytest.skip(f"real data not available: {target} (tests read ../shared/realdata)")
    return target


@pytest.fixture
def orgs(db) -> dict[str, Organisation]:
    from core.demo import seed_organisations

    return seed_organisations()


def _make_user(username: str, role: str, org: Organisation | None, **extra):
    from core.services import user_create

    return user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        role=role,
        organisation=org,
        display_name=extra.get("display_name", username),
    )


@pytest.fixture
def county(orgs) -> Organisation:
    return orgs["county:410823"]


@pytest.fixture
def other_county(orgs) -> Organisation:
    return orgs["county:410825"]


@pytest.fixture
def county_clerk(county):
    return _make_user("clerk", Role.CLERK, county)


@pytest.fixture
def county_leader(county):
    return _make_user("leader", Role.LEADER, county)


@pytest.fixture
def inspector_a(county):
    return _make_user("inspector_a", Role.INSPECTOR, county)


@pytest.fixture
def inspector_b(county):
    return _make_user("inspector_b", Role.INSPECTOR, county)


@pytest.fixture
def city_reviewer(orgs):
    return _make_user("reviewer", Role.CITY_REVIEWER, orgs["city_team:410800"])


@pytest.fixture
def outsider_clerk(other_county):
    return _make_user("outsider", Role.CLERK, other_county)


@pytest.fixture
def province_viewer(orgs):
    return _make_user("province", Role.PROVINCE_VIEWER, orgs["province:410000"])


@pytest.fixture
def sysadmin(orgs):
    return _make_user("sysadmin", Role.ADMIN, None)


@pytest.fixture
def calendar_loaded(db):
    """The official 2024-2026 schedules, from the chinesecalendar package."""
    from core.services import calendar_seed_from_library

    calendar_seed_from_library(years=[2024, 2025, 2026])


@pytest.fixture
def client_for(client):
    """Log a persona in: ``client_for(county_clerk)``."""

    def login(user):
        client.force_login(user)
        return client

    return login


# --- a real Chromium through Playwright, for pages people click through ----------------
# Debian's chromium is used through ``executable_path`` (Playwright cannot download
# browsers here). One browser per test session, shared by every package.

CHROMIUM = os.environ.get("SJSJ_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.DEBUG = True  # serve static files from the finders (Bootstrap, htmx from npm)
    context = browser.new_context(
        locale="zh-CN",
        base_url=live_server.url,
        accept_downloads=True,
        viewport={"width": 1400, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page):
    def do_login(user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_selector('[data-testid="whoami"]')
        return page

    return do_login


@pytest.fixture
def worker():
    """A real Celery worker (solo pool, in this process) consuming the Redis broker; tests
    that use it need ``django_db(transaction=True)`` so the worker sees their rows."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from config.celery_app import app

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the worker round trip runs on Redis")
    app.loader.import_default_modules()
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        yield
