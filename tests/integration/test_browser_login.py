"""Signing in through the real CAS server with a browser-like client against the live app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore

from django_cas_ng.backends import CASBackend
from django_cas_ng.models import SessionTicket
from tests.integration.browser import Browser, query_of
from tests.integration.conftest import SignalRecorder

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ALL_VERSIONS = ["1", "2", "3", "CAS_2_SAML_1_0"]
ATTRIBUTE_VERSIONS = ["3", "CAS_2_SAML_1_0"]


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_login_through_cas_signs_the_user_in(app: Any, browser: Browser, version: str) -> None:
    app.CAS_VERSION = version

    flow = browser.sign_in("alice", next_page="/private/")

    assert flow.landing.status_code == 302, flow.landing.text
    assert flow.landing.headers["Location"] == "/private/"
    assert browser.is_signed_in()
    user = get_user_model().objects.get(username="alice")
    assert SessionTicket.objects.get(session_key=browser.session_key).ticket == flow.ticket
    assert SessionStore(session_key=browser.session_key)["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("version", ATTRIBUTE_VERSIONS)
def test_released_attributes_reach_session_and_signal(
    app: Any, browser: Browser, authenticated_signals: SignalRecorder, version: str
) -> None:
    app.CAS_VERSION = version

    flow = browser.sign_in("alice")

    assert flow.landing.status_code == 302, flow.landing.text
    stored = SessionStore(session_key=browser.session_key)["attributes"]
    [sent] = authenticated_signals.calls
    for attributes in (stored, sent["attributes"]):
        assert attributes["email"] == "alice@example.org"
        assert attributes["first_name"] == "Alice"
        assert attributes["last_name"] == "Liddell"
        assert attributes["affiliation"] == ["staff", "member"]
    assert isinstance(sent["sender"], CASBackend)
    assert sent["user"].username == "alice"
    assert sent["username"] == "alice"
    assert sent["created"] is True
    assert sent["ticket"] == flow.ticket
    assert sent["service"] == flow.service


def test_login_lands_on_the_requested_next_page(app: Any, browser: Browser) -> None:
    flow = browser.sign_in("alice", next_page="/staff/?tab=1")

    assert query_of(flow.service)["next"] == ["/staff/?tab=1"]
    assert flow.landing.headers["Location"] == "/staff/?tab=1"


def test_login_with_hostile_next_lands_on_the_site_root(app: Any, browser: Browser) -> None:
    flow = browser.sign_in("alice", next_page="//evil.example/")

    assert flow.landing.status_code == 302, flow.landing.text
    assert flow.landing.headers["Location"] == "/"
    assert "evil.example" not in flow.service
    assert browser.get("/").text == "home alice"


def test_browser_never_lands_on_a_url_carrying_the_ticket(app: Any, browser: Browser) -> None:
    # Follow every redirect like a real browser, from our login view to the private page.
    cas_page = browser.session.get(
        browser.live + "/accounts/login/", params={"next": "/private/"}, timeout=15
    )
    assert cas_page.status_code == 200 and 'id="login_form"' in cas_page.text
    service = query_of(cas_page.url)["service"][0]
    answer = browser.cas.login(browser.session, service, "alice", "alice-password")
    final = browser.session.get(answer.headers["Location"], timeout=15)

    visited: list[requests.Response] = [answer, *final.history, final]
    assert final.status_code == 200 and final.text == "private"
    assert urlsplit(final.url).path == "/private/"
    for response in visited:
        if response.is_redirect:
            # Only the CAS server's redirect to the service may carry the ticket.
            location = response.headers["Location"]
            if response is not answer:
                assert "ticket=" not in location, location
        else:
            assert "ticket=" not in response.url, response.url
    assert sum("ticket=" in r.url for r in final.history) == 1
