"""The life of a signed-in session through the real CAS server: a maximum age from the CAS
sign-in (django-cas-server releases ``authenticationDate`` at ``/p3/serviceValidate`` and
honours ``renew``) and the silent re-check. This module is also the URLconf of its tests."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.urls import path

from django_cas_ng import session_age
from django_cas_ng.recheck import CHECKED_KEY
from django_cas_ng.session_age import cas_max_age
from tests import urls as suite_urls
from tests.integration.browser import CAS_COOKIES, Browser, query_of
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


# --- The silent re-check -------------------------------------------------------------------

RECHECK_MIDDLEWARE = "django_cas_ng.recheck.SessionRecheckMiddleware"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def recheck_round_trip(browser: Browser) -> requests.Response:
    """Make the check due, navigate, go to CAS with gateway=true; our answer to the return."""
    session = SessionStore(session_key=browser.session_key)
    session[CHECKED_KEY] = time.time() - 601
    session.save()
    to_cas = browser.get("/private/", headers=HTML)
    assert to_cas.status_code == 302, to_cas.text
    assert query_of(to_cas.headers["Location"])["gateway"] == ["true"]
    back = browser.get(to_cas.headers["Location"])
    assert back.status_code == 302 and back.headers["Location"].startswith(browser.live)
    return browser.get(back.headers["Location"], headers=HTML)


def test_recheck_with_the_cas_session_alive_keeps_the_session(rechecking, browser) -> None:
    browser.sign_in("alice")
    landing = recheck_round_trip(browser)
    assert landing.headers["Location"] == "/private/"
    assert browser.is_signed_in()


def test_recheck_with_the_cas_session_gone_signs_the_user_out(
    rechecking, browser, logout_signals
) -> None:
    browser.sign_in("alice")
    for name in CAS_COOKIES:
        browser.session.cookies.pop(name, None)
    landing = recheck_round_trip(browser)
    assert landing.headers["Location"] == "/private/"
    assert not browser.is_signed_in()
    assert logout_signals.senders() == ["recheck"]
