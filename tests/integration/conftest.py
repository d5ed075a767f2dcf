"""Fixtures for tests that sign in through the real CAS server of tests.casserver."""

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.dispatch import Signal

from django_cas_ng._internal.http import reset_http_sessions
from django_cas_ng.signals import cas_user_authenticated, cas_user_logout
from tests.casserver import CASServer
from tests.integration.browser import Browser

USERS = {"alice": "alice-password", "bob": "bob-password"}
ATTRIBUTES = {
    "alice": {
        "email": "alice@example.org",
        "first_name": "Alice",
        "last_name": "Liddell",
        "affiliation": ["staff", "member"],
    },
    "bob": {"email": "bob@example.org"},
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs a real CAS server (django-cas-server) on 127.0.0.1"
    )


@pytest.fixture(scope="session")
def cas_server() -> Iterator[CASServer]:
    """A started CAS server knowing alice (full attributes) and bob (email only)."""
    with CASServer(users=USERS, attributes=ATTRIBUTES) as server:
        yield server


# --- Fixtures for the browser-flow tests (our app on pytest-django's live_server) ----------


class SignalRecorder:
    """Records every sending of one signal; receivers run in the live server's threads."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        with self._lock:
            self.calls.append({"sender": sender, **kwargs})

    def senders(self) -> list[Any]:
        with self._lock:
            return [call["sender"] for call in self.calls]


def _record(signal: Signal) -> Iterator[SignalRecorder]:
    recorder = SignalRecorder()
    signal.connect(recorder, weak=False)
    try:
        yield recorder
    finally:
        signal.disconnect(recorder)


@pytest.fixture
def authenticated_signals() -> Iterator[SignalRecorder]:
    """Every ``cas_user_authenticated`` sent during the test."""
    yield from _record(cas_user_authenticated)


@pytest.fixture
def logout_signals() -> Iterator[SignalRecorder]:
    """Every ``cas_user_logout`` sent during the test."""
    yield from _record(cas_user_logout)


@pytest.fixture
def app(live_server: Any, cas_server: CASServer, settings: Any) -> Any:
    """Our app (tests.settings) on the live server, signing in through the harness CAS server.

    Returns the ``settings`` fixture, so a test can change ``CAS_*`` settings before the flow.
    """
    settings.CAS_SERVER_URL = cas_server.url
    settings.CAS_VERSION = "3"
    reset_http_sessions()
    return settings


@pytest.fixture
def browser_factory(live_server: Any, cas_server: CASServer) -> Iterator[Callable[[], Browser]]:
    """Make fresh browsers (each its own cookie jar) on our app and the CAS server."""
    made: list[Browser] = []

    def make() -> Browser:
        browser = Browser(live=live_server.url, cas=cas_server)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.session.close()


@pytest.fixture
def browser(app: Any, browser_factory: Callable[[], Browser]) -> Browser:
    """One fresh browser, with the app wired to the CAS server."""
    return browser_factory()


@pytest.fixture
def rechecking(app: Any, live_server: Any) -> Iterator[Any]:
    """The live server with SessionRecheckMiddleware (its handler loads MIDDLEWARE once)."""
    from tests.integration.test_browser_login_required import _reload_live_server_middleware

    original = list(app.MIDDLEWARE)
    app.MIDDLEWARE = [*original, "django_cas_ng.recheck.SessionRecheckMiddleware"]
    app.CAS_RECHECK_INTERVAL = 600
    _reload_live_server_middleware(live_server)
    yield app
    app.MIDDLEWARE = original
    _reload_live_server_middleware(live_server)
