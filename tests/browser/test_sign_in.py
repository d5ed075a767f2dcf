"""Signing in and out through the real CAS server's login form, in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_cas_ng._internal.http import reset_http_sessions
from tests.browser.chromium import Chromium
from tests.casserver import CASServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def cas_server() -> Iterator[CASServer]:
    with CASServer(users={"alice": "alice-password"}) as server:
        yield server


@pytest.fixture
def site(live_server: Any, cas_server: CASServer, settings: Any) -> str:
    """Our test app on the live server, signing in through the CAS server; its base URL."""
    settings.CAS_SERVER_URL = cas_server.url
    settings.CAS_VERSION = "3"
    reset_http_sessions()
    return str(live_server.url)


def sign_in(browser: Chromium, site: str, cas_server: CASServer) -> None:
    """Open the protected page, get sent to the CAS login form, sign in there."""
    assert browser.open(site + "/private/").startswith(cas_server.url + "login?service=")
    assert browser.shows_cas_login_form()
    assert browser.sign_in_at_cas("alice", "alice-password") == site + "/private/"


def test_signing_in_through_the_cas_login_form_shows_the_protected_page(
    browser: Chromium, site: str, cas_server: CASServer
) -> None:
    sign_in(browser, site, cas_server)

    assert browser.text() == "private"
    browser.open(site + "/")
    assert browser.text() == "home alice"


def test_a_wrong_password_stays_on_the_cas_login_form(
    browser: Chromium, site: str, cas_server: CASServer
) -> None:
    browser.open(site + "/private/")

    browser.call(lambda page: page.fill("#login_form input[name=username]", "alice"))
    browser.call(lambda page: page.fill("#login_form input[name=password]", "wrong"))
    browser.call(lambda page: page.click("#login_form [type=submit]"))

    assert browser.url.startswith(cas_server.url + "login")
    assert browser.shows_cas_login_form()
    assert browser.open(site + "/").endswith("/") and browser.text() == "home"


def test_signing_out_ends_the_session_here_and_at_cas(
    browser: Chromium, site: str, cas_server: CASServer
) -> None:
    sign_in(browser, site, cas_server)

    assert browser.open(site + "/accounts/logout/") == site + "/"
    assert browser.text() == "home"

    # Signed out at CAS too: the protected page asks for the password again.
    assert browser.open(site + "/private/").startswith(cas_server.url + "login")
    assert browser.shows_cas_login_form()


def test_a_logout_at_cas_ends_the_django_session_by_single_logout(
    browser: Chromium, site: str, cas_server: CASServer
) -> None:
    sign_in(browser, site, cas_server)
    assert browser.open(site + "/private/") == site + "/private/"

    # Only at CAS: it ends our session by a back-channel logoutRequest before answering.
    browser.open(cas_server.url + "logout")

    assert browser.open(site + "/private/").startswith(cas_server.url + "login")
    assert browser.shows_cas_login_form()
    assert browser.open(site + "/") == site + "/" and browser.text() == "home"
