"""Playwright driving Debian's Chromium against a live server, with a real SMTP sink."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from pytest_django.live_server_helper import LiveServer

CHROMIUM = "/usr/bin/chromium"
# Chromium as root in a container, with its phone-home traffic off (the network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


# Package scope: Playwright runs only while browser tests do, and stops before any other test.
@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        message = f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)."
        if os.environ.get("MACHIPLUS_REQUIRE_BROWSER"):
            pytest.fail(message + " MACHIPLUS_REQUIRE_BROWSER is set, so this is a failure.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    user_data_dir = tempfile.mkdtemp(prefix="machiplus-chromium-")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API marks an event loop as running in this thread while it runs,
        # so Django would refuse the ORM calls made by the test itself, which are still
        # synchronous and safe. Allowed for these tests only; Django checks everywhere else.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
    shutil.rmtree(user_data_dir, ignore_errors=True)


class _StaticFilesLeftToTheSite(StaticFilesHandler):
    def _should_handle(self, path: str) -> bool:
        return False


@pytest.fixture(autouse=True)
def home_banner_still(settings) -> None:
    """An open home page asks for its warnings banner every HOME_URGENT_POLL_SECONDS, and each
    answer writes the data-use log: a request landing while the test database is flushed after
    a test deadlocks with the flush. The one test of the refresh sets its own interval."""
    settings.HOME_URGENT_POLL_SECONDS = 3600


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, collected_static: None) -> Iterator[LiveServer]:
    """pytest-django's live server, serving static files as production does.

    pytest-django serves /static/ through Django's finders, which know only the files' own
    names, not the hashed names that the manifest storage writes into pages: every stylesheet
    and script would be a 404, and pages would be tested without htmx or their scripts. Here
    the site's WhiteNoise middleware serves them from STATIC_ROOT instead.
    """
    address = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(address, start=False)
    server.thread.static_handler = _StaticFilesLeftToTheSite
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, locale="ja-JP")
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    missing_static: list[str] = []
    new_page.on(
        "response",
        lambda response: (
            missing_static.append(response.url)
            if "/static/" in response.url and response.status >= 400
            else None
        ),
    )
    yield new_page
    context.close()
    assert missing_static == [], "pages name static files that the server does not serve"
