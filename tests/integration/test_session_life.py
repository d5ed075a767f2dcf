"""The life of a signed-in session through the real CAS server: a maximum age from the CAS
sign-in (django-cas-server releases ``authenticationDate`` at ``/p3/serviceValidate`` and
honours ``renew``) and the silent re-check. This module is also the URLconf of its tests."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path

from django_cas_ng import session_age
from django_cas_ng.session_age import cas_max_age
from tests import urls as suite_urls
from tests.integration.browser import Browser, query_of
from tests.integration.test_stepup import enter_credentials_again

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]


@cas_max_age(seconds=2)
def aged(request: HttpRequest) -> HttpResponse:
    return HttpResponse("aged")


urlpatterns = [*suite_urls.urlpatterns, path("aged/", aged)]


@pytest.fixture
def bounded(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``/aged/`` is bounded to 2 seconds after the CAS sign-in, even just after validation."""
    monkeypatch.setattr(session_age, "GRACE", 0)
    return app


def back_to_login(browser: Browser) -> str:
    """Past the age, the page sends the browser to our login view; its URL."""
    assert browser.get("/aged/").status_code == 200
    time.sleep(2.5)
    response = browser.get("/aged/")
    assert response.status_code == 302, response.text
    assert urlsplit(response.headers["Location"]).path == "/accounts/login/"
    return str(response.headers["Location"])


def test_past_the_max_age_sso_signs_the_browser_straight_back_in(bounded, browser) -> None:
    bounded.CAS_VERSION = "1"  # no attributes: the age counts from validation
    assert browser.sign_in("alice").landing.status_code == 302
    login = back_to_login(browser)
    assert "renew" not in query_of(login)
    to_cas = browser.get(login).headers["Location"]
    with_ticket = browser.get(to_cas)  # the CAS SSO session answers at once
    assert with_ticket.status_code == 302 and "ticket=" in with_ticket.headers["Location"]
    assert browser.get(with_ticket.headers["Location"]).headers["Location"] == "/aged/"
    assert browser.is_signed_in()


def test_past_the_max_age_of_the_cas_sign_in_credentials_are_asked_again(bounded, browser) -> None:
    assert browser.sign_in("alice").landing.status_code == 302
    login = back_to_login(browser)
    assert query_of(login)["renew"] == ["true"]
    to_cas = browser.get(login).headers["Location"]
    assert query_of(to_cas)["renew"] == ["true"]
    ticket_url = enter_credentials_again(browser, to_cas, "alice")
    assert browser.get(ticket_url).headers["Location"] == "/aged/"
    assert browser.is_signed_in()
