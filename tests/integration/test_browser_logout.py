"""Signing out: our logout view, and Single Logout sent by the real CAS server (back channel)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session

from django_cas_ng.models import SessionTicket
from tests.integration.browser import Browser, query_of
from tests.integration.conftest import SignalRecorder

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ALL_VERSIONS = ["1", "2", "3", "CAS_2_SAML_1_0"]


def signed_in(browser: Browser, username: str = "alice") -> str:
    """Sign ``username`` in through CAS; return the service ticket of the session."""
    flow = browser.sign_in(username)
    assert flow.landing.status_code == 302, flow.landing.text
    assert browser.is_signed_in()
    return flow.ticket


@pytest.mark.parametrize(
    ("version", "return_param"),
    [("1", "url"), ("2", "url"), ("3", "service"), ("CAS_2_SAML_1_0", "url")],
)
def test_logout_redirects_to_cas_logout_with_the_return_url(
    app: Any, browser: Browser, version: str, return_param: str
) -> None:
    app.CAS_VERSION = version
    signed_in(browser)

    response = browser.get("/accounts/logout/")

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(browser.cas.url + "logout?")
    assert query_of(location) == {return_param: [browser.live + "/"]}


def test_logout_deletes_the_session_ticket_mapping(
    app: Any, browser: Browser, logout_signals: SignalRecorder
) -> None:
    ticket = signed_in(browser)
    session_key = browser.session_key

    browser.get("/accounts/logout/")

    assert not SessionTicket.objects.filter(session_key=session_key).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not browser.is_signed_in()
    [sent] = logout_signals.calls
    assert sent["sender"] == "manual" and sent["ticket"] == ticket


def test_following_the_logout_redirect_ends_the_cas_sso_session(app: Any, browser: Browser) -> None:
    signed_in(browser)
    assert browser.has_cas_sso_session()

    logout = browser.get("/accounts/logout/")
    back_home = browser.session.get(logout.headers["Location"], timeout=15)

    assert back_home.status_code == 200 and back_home.text == "home "
    assert urlsplit(back_home.url).path == "/"
    assert not browser.has_cas_sso_session()
    assert not browser.is_signed_in()


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_single_logout_from_cas_ends_the_django_session(
    app: Any, browser: Browser, logout_signals: SignalRecorder, version: str
) -> None:
    app.CAS_VERSION = version
    ticket = signed_in(browser)
    session_key = browser.session_key
    assert SessionTicket.objects.filter(session_key=session_key, ticket=ticket).exists()

    # Sign out at CAS only; it POSTs logoutRequest to our login URL before it answers.
    cas_logout = browser.session.get(
        browser.cas.url + "logout", cookies=browser.cas_cookies(), allow_redirects=False, timeout=15
    )

    assert cas_logout.status_code == 200
    assert not SessionTicket.objects.filter(session_key=session_key).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not browser.is_signed_in()
    [sent] = logout_signals.calls
    assert sent["sender"] == "slo"
    assert sent["ticket"] == ticket
    assert sent["user"].username == "alice"
    assert sent["session"].session_key == session_key


def test_single_logout_of_one_user_leaves_another_signed_in(
    app: Any, browser_factory: Any, logout_signals: SignalRecorder
) -> None:
    alice, bob = browser_factory(), browser_factory()
    signed_in(alice, "alice")
    bob_ticket = signed_in(bob, "bob")

    alice.session.get(alice.cas.url + "logout", allow_redirects=False, timeout=15)

    assert not alice.is_signed_in()
    assert bob.is_signed_in()
    assert SessionTicket.objects.filter(session_key=bob.session_key, ticket=bob_ticket).exists()
    assert bob.get("/").text == "home bob"
    assert [call["user"].username for call in logout_signals.calls] == ["alice"]
