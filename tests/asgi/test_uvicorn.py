"""The site served by uvicorn (ASGI), signing in at a real CAS server (django-cas-server).

Every request below goes over HTTP to a uvicorn subprocess running Django's ASGI handler; the
CAS server calls back into it (proxy callback, Single Logout) while it serves other requests.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.asgi.conftest import UvicornSite
from tests.asgi.receivers import GROUP_PREFIX
from tests.integration.browser import Browser, query_of

pytestmark = pytest.mark.integration
pytest.importorskip("uvicorn", reason="the ASGI tests need uvicorn (the test extra has it)")


def signed_in(browser: Browser, site: UvicornSite, username: str = "alice") -> Browser:
    flow = browser.sign_in(username)
    assert flow.landing.status_code == 302, site.log_tail()
    return browser


def test_sign_in_through_cas_lands_on_the_protected_page(browser: Browser, site) -> None:
    flow = browser.sign_in("alice", next_page="/private/")

    assert flow.landing.status_code == 302, site.log_tail()
    assert flow.landing.headers["Location"] == "/private/"
    assert browser.is_signed_in()
    assert browser.get("/whoami/").json()["user"] == "alice"


def test_async_signal_receiver_runs_on_the_event_loop_at_sign_in(browser: Browser, site) -> None:
    signed_in(browser, site, "bob")

    groups = browser.get("/whoami/").json()["groups"]

    assert groups == [f"{GROUP_PREFIX}:main-thread"], site.log_tail()


def test_single_logout_from_cas_ends_the_session_on_the_site(browser: Browser, site) -> None:
    signed_in(browser, site)

    # CAS POSTs logoutRequest to the service URL on uvicorn before it answers.
    answer = browser.get(browser.cas.url + "logout")

    assert answer.status_code in (200, 302)
    assert not browser.is_signed_in(), site.log_tail()


def test_single_logout_ends_only_the_sessions_of_that_cas_session(browser_factory, site) -> None:
    alice, bob = browser_factory(), browser_factory()
    signed_in(alice, site, "alice")
    signed_in(bob, site, "bob")

    alice.get(alice.cas.url + "logout")

    assert not alice.is_signed_in()
    assert bob.is_signed_in()


def test_logout_ends_the_session_here_and_at_cas(browser: Browser, site) -> None:
    signed_in(browser, site)

    to_cas = browser.get("/accounts/logout/")

    assert to_cas.status_code == 302
    location = to_cas.headers["Location"]
    assert location.startswith(browser.cas.url + "logout?")
    assert query_of(location) == {"service": [browser.live + "/"]}
    assert not browser.is_signed_in()
    browser.get(location)
    assert not browser.has_cas_sso_session()


def test_proxy_ticket_obtained_under_uvicorn_is_accepted_by_its_api(browser: Browser, site) -> None:
    signed_in(browser, site)

    report = browser.get("/proxy/call-api/", timeout=30)

    assert report.status_code == 200, site.log_tail()
    body = report.json()
    assert body["ticket_prefix"] == "PT-"
    assert body["status"] == 200, site.log_tail()
    assert body["body"] == {"user": "alice", "proxies": [site.url + "accounts/callback/"]}


def test_api_refuses_a_request_without_proxy_ticket(browser: Browser) -> None:
    answer = browser.get("/api/whoami/")

    assert answer.status_code == 401
    assert "WWW-Authenticate" in answer.headers


def test_async_view_with_login_required_sends_anonymous_users_to_login(
    browser: Browser,
) -> None:
    answer = browser.get("/async-private/")

    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert target.path == "/accounts/login/"
    assert query_of(answer.headers["Location"]) == {"next": ["/async-private/"]}


def test_async_view_with_login_required_serves_signed_in_users(browser: Browser, site) -> None:
    signed_in(browser, site)

    answer = browser.get("/async-private/")

    assert answer.status_code == 200, site.log_tail()
    assert answer.text == "async private alice"
