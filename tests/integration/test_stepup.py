"""Step-up sign-in through the real CAS server (django-cas-server honours ``renew`` and releases
``isFromNewLogin`` and ``authenticationDate`` at ``/p3/serviceValidate``). This module is also
the URLconf of its tests: the suite's URLs plus step-up protected pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.urls import path

from django_cas_ng.stepup import SESSION_KEY, stepup_required
from tests import urls as suite_urls
from tests.casserver import _LoginFormParser
from tests.integration.browser import HTTP_TIMEOUT, Browser, query_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]


@stepup_required(max_age=120)
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


@stepup_required
async def async_payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async payroll")


urlpatterns = [
    *suite_urls.urlpatterns,
    path("payroll/", payroll),
    path("async-payroll/", async_payroll),
]


def to_cas_for_stepup(browser: Browser, page: str) -> str:
    """Visit a protected page as a signed-in user; the CAS login URL the step-up sends us to."""
    to_stepup = browser.get(page)
    assert to_stepup.status_code == 302, to_stepup.text
    assert urlsplit(to_stepup.headers["Location"]).path == "/accounts/stepup/"
    to_cas = browser.get(to_stepup.headers["Location"])
    assert to_cas.status_code == 302, to_cas.text
    cas_login_url = to_cas.headers["Location"]
    assert cas_login_url.startswith(browser.cas.url + "login?")
    assert query_of(cas_login_url)["renew"] == ["true"]
    return cas_login_url


def enter_credentials_again(browser: Browser, cas_login_url: str, username: str) -> str:
    """At the CAS login page (which must ask, despite the SSO session), sign in; the ticket URL."""
    page = browser.session.get(cas_login_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, "CAS did not ask for credentials again despite renew=true"
    form = _LoginFormParser()
    form.feed(page.text)
    assert form.found
    fields = {**form.fields, "username": username, "password": f"{username}-password"}
    answer = browser.session.post(
        page.url, data=fields, allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    assert answer.status_code == 302, answer.text[:500]
    return str(answer.headers["Location"])


@pytest.mark.parametrize("page", ["/payroll/", "/async-payroll/"])
def test_stepup_asks_cas_for_credentials_again_then_shows_the_page(
    app: Any, browser: Browser, page: str
) -> None:
    assert browser.sign_in("alice", next_page="/private/").landing.status_code == 302

    cas_login_url = to_cas_for_stepup(browser, page)
    ticket_url = enter_credentials_again(browser, cas_login_url, "alice")
    back = browser.get(ticket_url)

    assert back.status_code == 302, back.text
    assert back.headers["Location"] == page
    shown = browser.get(page)
    assert shown.status_code == 200
    assert shown.text.endswith("payroll")
    record = SessionStore(session_key=browser.session_key)[SESSION_KEY]
    assert record["user"] == "alice"


def test_second_visit_within_max_age_passes_without_cas(app: Any, browser: Browser) -> None:
    browser.sign_in("alice", next_page="/private/")
    ticket_url = enter_credentials_again(browser, to_cas_for_stepup(browser, "/payroll/"), "alice")
    browser.get(ticket_url)
    assert browser.get("/payroll/").status_code == 200
    cas_log = browser.cas.log_path
    assert cas_log is not None
    before = cas_log.read_text(errors="replace")

    again = browser.get("/payroll/")

    assert again.status_code == 200
    assert again.text == "payroll"
    assert cas_log.read_text(errors="replace") == before


def test_sso_ticket_without_renewed_credentials_is_refused(app: Any, browser: Browser) -> None:
    browser.sign_in("alice", next_page="/private/")
    cas_login_url = to_cas_for_stepup(browser, "/payroll/")
    service = query_of(cas_login_url)["service"][0]
    # What a browser gets by dropping renew=true: a ticket from the existing SSO session.
    sso = browser.cas.login(browser.session, service, "alice", "unused")
    assert sso.status_code == 302 and "ticket=" in sso.headers["Location"]

    refused = browser.get(sso.headers["Location"])

    assert refused.status_code == 403
    assert "Fresh sign-in not confirmed" in refused.text
    assert browser.get("/payroll/").status_code == 302


def test_renewed_sign_in_as_another_user_is_refused(app: Any, browser: Browser) -> None:
    browser.sign_in("alice", next_page="/private/")
    ticket_url = enter_credentials_again(browser, to_cas_for_stepup(browser, "/payroll/"), "bob")

    refused = browser.get(ticket_url)

    assert refused.status_code == 403
    assert "different user" in refused.text
    assert browser.is_signed_in()


def test_anonymous_visitor_is_sent_to_login_first(app: Any, browser: Browser) -> None:
    response = browser.get("/payroll/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/?next=/payroll/"
