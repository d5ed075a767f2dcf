"""Django's LoginRequiredMiddleware on, through the real CAS server: sign-in from a plain page,
Single Logout and the PGT callback all reach the CAS views."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
from django.contrib.sessions.models import Session
from django.core.handlers.base import BaseHandler

from django_cas_ng.models import ProxyGrantingTicket
from tests.integration.browser import Browser, query_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LOGIN_REQUIRED = "django.contrib.auth.middleware.LoginRequiredMiddleware"


def _reload_live_server_middleware(live_server: Any) -> None:
    """The live server built its middleware chain once; rebuild it from today's settings."""
    handler = live_server.thread.httpd.get_app()
    while handler is not None:
        if isinstance(handler, BaseHandler):
            handler.load_middleware()
        handler = getattr(handler, "application", None)


@pytest.fixture
def login_required_app(app: Any, live_server: Any) -> Iterator[Any]:
    """The app with LoginRequiredMiddleware last in MIDDLEWARE and LOGIN_URL the CAS view."""
    original = list(app.MIDDLEWARE)
    app.MIDDLEWARE = [*original, LOGIN_REQUIRED]
    app.LOGIN_URL = "cas_ng_login"
    _reload_live_server_middleware(live_server)
    yield app
    app.MIDDLEWARE = original
    _reload_live_server_middleware(live_server)


def follow(browser: Browser, path: str, limit: int = 10) -> list[Any]:
    """Follow redirects from ``path`` like a browser, signing in at CAS as alice when asked."""
    responses = [browser.get(path)]
    while responses[-1].status_code == 302 and len(responses) < limit:
        location = urljoin(responses[-1].url, responses[-1].headers["Location"])
        if location.startswith(browser.cas.url + "login"):
            service = query_of(location)["service"][0]
            responses.append(browser.cas.login(browser.session, service, "alice", "alice-password"))
        else:
            responses.append(browser.get(location))
    return responses


def test_sign_in_from_a_plain_page_ends_signed_in_on_that_page(
    login_required_app: Any, browser: Browser
) -> None:
    chain = follow(browser, "/")
    assert chain[-1].status_code == 200, [r.status_code for r in chain]
    assert chain[-1].text == "home alice"
    assert len(chain) <= 5


def test_single_logout_ends_the_session(login_required_app: Any, browser: Browser) -> None:
    assert follow(browser, "/")[-1].text == "home alice"
    session_key = browser.session_key

    cas_logout = browser.session.get(
        browser.cas.url + "logout", cookies=browser.cas_cookies(), allow_redirects=False, timeout=15
    )

    assert cas_logout.status_code == 200
    assert not Session.objects.filter(session_key=session_key).exists()
    assert browser.get("/").status_code == 302


def test_the_pgt_callback_is_answered(
    login_required_app: Any, live_server: Any, browser: Browser
) -> None:
    login_required_app.CAS_PROXY_CALLBACK = live_server.url + "/accounts/callback/"
    flow = browser.sign_in()
    assert flow.landing.status_code == 302
    pgt = ProxyGrantingTicket.objects.get(session_key=browser.session_key)
    assert pgt.pgt and pgt.pgt.startswith("PGT-")
