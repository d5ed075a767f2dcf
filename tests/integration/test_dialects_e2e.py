"""Through the real CAS server: non-ASCII user names reach one account over every protocol, and
a front-channel logout encoded the way Apereo CAS encodes it ends a session signed in there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model

from django_cas_ng.models import SessionTicket
from tests.cas_answers import front_channel, logout_request
from tests.casserver import CASServer
from tests.integration.browser import Browser

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NAMES = ["zoë", "山田太郎"]
VERSIONS = ["1", "2", "3", "CAS_2_SAML_1_0"]


@pytest.fixture(scope="module")
def cas_server() -> Iterator[CASServer]:
    """A CAS server whose users have non-ASCII names (replaces the session-wide one here)."""
    users = {name: f"{name}-password" for name in NAMES}
    attributes = {name: {"email": "someone@example.org"} for name in NAMES}
    with CASServer(users=users, attributes=attributes) as server:
        yield server


class _NoCharset(requests.adapters.HTTPAdapter):
    """The real server's answers with the charset dropped from their Content-Type, as older
    CAS servers send them (``text/plain`` alone), which HTTP libraries read as ISO-8859-1."""

    def build_response(self, req: Any, resp: Any) -> requests.Response:
        response = super().build_response(req, resp)
        response.headers["Content-Type"] = response.headers.get("Content-Type", "").split(";")[0]
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response


def charset_less_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", _NoCharset())
    return session


@pytest.mark.parametrize("charset", [True, False], ids=["with-charset", "no-charset"])
@pytest.mark.parametrize("name", NAMES)
def test_a_non_ascii_user_is_one_account_over_every_protocol(
    app: Any, browser_factory: Callable[[], Browser], name: str, charset: bool
) -> None:
    if not charset:
        app.CAS_SESSION_FACTORY = charset_less_session
    for version in VERSIONS:
        app.CAS_VERSION = version
        browser = browser_factory()
        flow = browser.sign_in(name)
        assert flow.landing.status_code == 302, (version, flow.landing.text[:300])
        assert browser.is_signed_in(), version
    assert list(get_user_model().objects.values_list("username", flat=True)) == [name]


def _signed_in(app: Any, browser: Browser) -> str:
    app.CAS_VERSION = "3"
    flow = browser.sign_in(NAMES[0])
    assert flow.landing.status_code == 302, flow.landing.text[:300]
    assert browser.is_signed_in()
    return SessionTicket.objects.get(session_key=browser.session_key).ticket


def test_an_apereo_encoded_front_channel_logout_ends_the_session(
    app: Any, browser: Browser, live_server: Any
) -> None:
    ticket = _signed_in(app, browser)
    encoded = front_channel(logout_request(ticket))
    # The CAS server's logout page makes the browser send it; a bare client does the same.
    answer = requests.get(
        live_server.url + "/accounts/login/", params={"logoutRequest": encoded}, timeout=10
    )
    assert answer.status_code == 200
    assert not browser.is_signed_in()


def test_a_cas4_saml_request_ends_the_session_and_returns_to_the_server(
    app: Any, browser: Browser, cas_server: CASServer, live_server: Any
) -> None:
    ticket = _signed_in(app, browser)
    params = {"SAMLRequest": front_channel(logout_request(ticket)), "RelayState": "e2s1"}
    answer = browser.get("/accounts/login/", params=params)
    assert answer.status_code == 302
    assert answer.headers["Location"] == cas_server.url + "logout?_eventId=next&RelayState=e2s1"
    assert not browser.is_signed_in()
