"""Signing in and Single Logout through a second real CAS server, django-mama-cas 2.5.0.

Skipped unless mama-cas's own virtualenv exists (``make mamacas-venv``, or ``MAMA_CAS_PYTHON``);
see tests/mamacas. SAML 1.1 and proxy tickets need ``https`` services at mama-cas, so they
are not run here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.sessions.models import Session

from django_cas_ng._internal.http import reset_http_sessions
from django_cas_ng.models import SessionTicket
from tests.integration.browser import Browser
from tests.integration.conftest import ATTRIBUTES, USERS, SignalRecorder
from tests.mamacas import MamaCASServer, mama_cas_python

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

VERSIONS = ["1", "2", "3"]


@pytest.fixture(scope="module")
def mama_server() -> Iterator[MamaCASServer]:
    python = mama_cas_python()
    if python is None:
        pytest.skip("no django-mama-cas virtualenv: run `make mamacas-venv` or set MAMA_CAS_PYTHON")
    with MamaCASServer(python, USERS, ATTRIBUTES) as server:
        yield server


@pytest.fixture
def mama(live_server: Any, mama_server: MamaCASServer, settings: Any) -> Any:
    """Our app on the live server, signing in through mama-cas; the ``settings`` fixture."""
    settings.CAS_SERVER_URL = mama_server.url
    settings.CAS_VERSION = "3"
    reset_http_sessions()
    return settings


@pytest.fixture
def browser(mama: Any, live_server: Any, mama_server: MamaCASServer) -> Iterator[Browser]:
    made = Browser(live=live_server.url, cas=mama_server)  # type: ignore[arg-type]
    yield made
    made.session.close()


def signed_in(browser: Browser) -> str:
    flow = browser.sign_in("alice")
    assert flow.landing.status_code == 302, flow.landing.text
    assert browser.is_signed_in()
    return flow.ticket


@pytest.mark.parametrize("version", VERSIONS)
def test_mama_cas_signs_in_with_each_protocol_version(
    mama: Any, browser: Browser, authenticated_signals: SignalRecorder, version: str
) -> None:
    mama.CAS_VERSION = version
    signed_in(browser)

    [sent] = authenticated_signals.calls
    assert sent["user"].username == "alice"
    if version == "1":
        assert not sent["attributes"]
    else:
        # mama-cas releases attributes at /serviceValidate too.
        assert sent["attributes"]["email"] == "alice@example.org"
        assert sent["attributes"]["affiliation"] == ["staff", "member"]


@pytest.mark.parametrize("version", VERSIONS)
def test_single_logout_from_mama_cas_ends_the_django_session(
    mama: Any, browser: Browser, logout_signals: SignalRecorder, version: str
) -> None:
    mama.CAS_VERSION = version
    ticket = signed_in(browser)
    session_key = browser.session_key

    # Sign out at CAS only: mama-cas POSTs logoutRequest to the service URL before answering.
    browser.session.get(browser.cas.url + "logout", allow_redirects=False, timeout=15)

    assert not SessionTicket.objects.filter(session_key=session_key).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not browser.is_signed_in()
    [sent] = logout_signals.calls
    assert sent["sender"] == "slo" and sent["ticket"] == ticket


def test_logout_completely_ends_the_mama_cas_sso_session(
    mama: Any, browser: Browser, mama_server: MamaCASServer
) -> None:
    mama.CAS_LOGOUT_COMPLETELY = True
    signed_in(browser)

    logout = browser.get("/accounts/logout/")
    browser.session.get(logout.headers["Location"], timeout=15)

    assert not browser.is_signed_in()
    again = mama_server.login(browser.session, browser.live + "/", "nobody", "wrong")
    assert again.status_code == 200  # the login form: no SSO session left


def test_renew_makes_mama_cas_ask_for_the_password_again(
    mama: Any, browser: Browser, mama_server: MamaCASServer
) -> None:
    signed_in(browser)
    browser.get("/accounts/logout/")  # our session only; the SSO session stays
    mama.CAS_RENEW = True

    cas_login_url = browser.start_login().headers["Location"]
    assert "renew=true" in cas_login_url
    page = browser.session.get(cas_login_url, allow_redirects=False, timeout=15)
    assert page.status_code == 200  # the form, despite the SSO session
    answer = mama_server.submit_form(browser.session, page, "alice", USERS["alice"])
    landing = browser.get(answer.headers["Location"])

    assert landing.status_code == 302, landing.text
    assert browser.is_signed_in()


def test_gateway_without_an_sso_session_comes_back_anonymous(mama: Any, browser: Browser) -> None:
    mama.CAS_GATEWAY = True

    to_cas = browser.start_login("/")
    back = browser.session.get(to_cas.headers["Location"], allow_redirects=False, timeout=15)

    assert back.status_code == 302
    assert "ticket=" not in back.headers["Location"]
    landing = browser.get(back.headers["Location"])
    assert landing.status_code == 302
    assert not browser.is_signed_in()
