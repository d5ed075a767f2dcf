"""Every "not allowed" answer (login redirect or 401, 403, 503, 429) is built by
``django_cas_ng._internal.responses``: a page for a browser, one JSON body shape for an API
request, for sync and async views alike. Configuration errors are 503s of their own, never a
500 and never an outage. This module is also the URLconf of its tests."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, RequestFactory
from django.urls import path

from django_cas_ng import views
from django_cas_ng._internal import observe, responses
from django_cas_ng._internal.presented import proxy_ticket_required
from django_cas_ng.backends import CASBackend
from django_cas_ng.decorators import login_required, permission_required
from django_cas_ng.exceptions import (
    CASConfigurationError,
    CASUnavailable,
    MissingMigrations,
    RateLimited,
    SiteMisconfigured,
    TenantConfigurationError,
    UnpinnedHost,
)
from django_cas_ng.signals import cas_ticket_validated
from django_cas_ng.stepup import stepup_required
from tests import urls as suite_urls
from tests.cas_answers import failure_xml
from tests.conftest import CAS

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

VALIDATE = CAS + "p3/serviceValidate"
JSON = {"HTTP_ACCEPT": "application/json"}
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}
LOCAL_CAUSE = "CAS_SERVER_URL for host 'testserver' is broken"
PACKAGE = Path(__file__).resolve().parent.parent / "django_cas_ng"


class MisconfiguredView(views.CallbackView):
    def get(self, request: HttpRequest) -> HttpResponse:
        raise TenantConfigurationError(LOCAL_CAUSE)


class AsyncMisconfiguredView(views.CallbackView):
    async def get(self, request: HttpRequest) -> HttpResponse:
        raise UnpinnedHost("the Host header is not pinned by CAS_SERVICE_HOSTS")

    async def post(self, request: HttpRequest) -> HttpResponse:
        raise UnpinnedHost("the Host header is not pinned by CAS_SERVICE_HOSTS")


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse("private")


@login_required
async def async_private(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async private")


@permission_required("auth.add_user")
def staff(request: HttpRequest) -> HttpResponse:
    return HttpResponse("staff")


@permission_required("auth.add_user")
async def async_staff(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async staff")


@stepup_required
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


@proxy_ticket_required
async def async_api(request: HttpRequest) -> HttpResponse:
    return HttpResponse("api")


urlpatterns = [
    *suite_urls.urlpatterns,
    path("misconfigured/", MisconfiguredView.as_view()),
    path("async-misconfigured/", AsyncMisconfiguredView.as_view()),
    path("r/private/", private),
    path("r/async-private/", async_private),
    path("r/staff/", staff),
    path("r/async-staff/", async_staff),
    path("r/payroll/", payroll),
]

SIGN_IN_PAGES = ["/r/private/", "/r/async-private/"]
STAFF_PAGES = ["/r/staff/", "/r/async-staff/"]


@pytest.fixture
def broken_tenant(settings) -> Any:
    """A callable ``CAS_SERVER_URL`` that answers something that is not a URL."""
    settings.CAS_SERVER_URL = lambda request: "not a url"
    return settings


@pytest.fixture
def alice(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_user("alice"))
    return client


def aget(url: str, **headers: str) -> Any:
    return async_to_sync(AsyncClient().get)(url, headers=headers)


# Configuration errors: their own kind, their own outcome, a 503 that blames this site.


@pytest.mark.parametrize(
    "error", [SiteMisconfigured, UnpinnedHost, MissingMigrations, TenantConfigurationError]
)
def test_a_configuration_error_is_not_a_kind_of_cas_unavailable(error: type) -> None:
    assert issubclass(error, CASConfigurationError)
    assert not issubclass(error, CASUnavailable)


def test_the_metrics_hook_counts_a_configuration_error_as_misconfigured(monkeypatch) -> None:
    sent: list[str] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TenantConfigurationError(LOCAL_CAUSE)

    def receiver(sender: Any, outcome: str, **kwargs: Any) -> None:
        sent.append(outcome)

    monkeypatch.setattr("django_cas_ng.backends.get_cas_client", broken)
    cas_ticket_validated.connect(receiver, weak=False)
    try:
        with pytest.raises(TenantConfigurationError):
            CASBackend().validate(None, "ST-1-abcdef", "https://app.example.org/")
    finally:
        cas_ticket_validated.disconnect(receiver)
    assert sent == [observe.MISCONFIGURED]


def test_a_configuration_error_is_a_503_page_naming_this_site(client: Client) -> None:
    response = client.get("/misconfigured/", **BROWSER)
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content
    assert b"not set up correctly" in response.content


def test_a_configuration_error_is_a_json_503_for_an_api_request(client: Client) -> None:
    response = client.get("/misconfigured/", **JSON)
    assert response.status_code == 503
    assert response.json()["code"] == responses.SITE_MISCONFIGURED
    assert response.json()["detail"]


def test_a_configuration_error_in_an_async_view_is_a_503_page() -> None:
    response = aget("/async-misconfigured/", Accept=BROWSER["HTTP_ACCEPT"])
    assert response.status_code == 503
    assert b"not set up correctly" in response.content


def test_a_configuration_error_in_an_async_view_is_a_json_503_for_an_api_request() -> None:
    response = aget("/async-misconfigured/", Accept="application/json")
    assert (response.status_code, response.json()["code"]) == (503, responses.SITE_MISCONFIGURED)


def test_a_configuration_error_logs_an_error_that_blames_this_site(client: Client, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        client.get("/misconfigured/")
    assert "not the CAS server" in caplog.text
    assert LOCAL_CAUSE in caplog.text


def test_the_stepup_view_answers_a_broken_tenant_with_503(broken_tenant, client: Client) -> None:
    assert client.get("/accounts/stepup/?next=/").status_code == 503


def test_a_stepup_guarded_view_answers_a_broken_tenant_with_503(broken_tenant, alice) -> None:
    assert alice.get("/r/payroll/").status_code == 503


def test_a_proxy_ticket_api_answers_a_broken_tenant_with_a_json_503(broken_tenant) -> None:
    request = RequestFactory().get("/api/", HTTP_AUTHORIZATION="CAS PT-1-abcdef")
    response = async_to_sync(async_api)(request)
    assert response.status_code == 503
    assert b'"code": "SITE_MISCONFIGURED"' in response.content


def test_the_drf_class_answers_a_broken_tenant_with_a_503(broken_tenant) -> None:
    from tests.test_proxy_drf import call

    response = call()
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == responses.SITE_MISCONFIGURED


# Not signed in: a redirect for a browser, the 401 for an API request.


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_an_anonymous_browser_is_sent_to_sign_in(client: Client, page: str) -> None:
    response = client.get(page, **BROWSER)
    assert response.status_code == 302
    assert {"Accept", "X-Requested-With"} <= set(response["Vary"].split(", "))


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_an_anonymous_api_request_gets_the_401_naming_the_cas_login_url(
    client: Client, page: str
) -> None:
    response = client.get(page, **JSON)
    assert response.status_code == 401
    assert response.json()["code"] == responses.NOT_AUTHENTICATED
    assert response.json()["login_url"].startswith(CAS + "login?")
    assert response["WWW-Authenticate"].startswith('CAS realm="testserver", login_url=')


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_an_anonymous_api_request_on_a_broken_tenant_gets_a_503_not_a_500(
    broken_tenant, client: Client, page: str
) -> None:
    response = client.get(page, **JSON)
    assert (response.status_code, response.json()["code"]) == (503, responses.SITE_MISCONFIGURED)


def test_the_sign_in_401_and_the_proxy_ticket_401_share_one_body_shape(client: Client) -> None:
    sign_in = client.get("/r/private/", **JSON)
    presented = async_to_sync(async_api)(RequestFactory().get("/api/"))
    assert {"detail", "code"} <= set(sign_in.json())
    assert {"detail", "code"} <= set(json.loads(presented.content))
    assert presented["WWW-Authenticate"] == 'CAS realm="api"'


def test_the_drf_401_for_a_refused_ticket_has_the_same_body_shape(cas_http) -> None:
    from tests.test_proxy_drf import call

    cas_http.get(VALIDATE, body=failure_xml("INVALID_TICKET"))
    response = call()
    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "INVALID_TICKET"
    assert json.loads(response.content)["detail"]


# Signed in, not allowed: Django's 403 for a browser, the JSON 403 for an API request.


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_a_signed_in_browser_that_may_not_see_the_page_gets_403(alice, page: str) -> None:
    assert alice.get(page, **BROWSER).status_code == 403


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_a_signed_in_api_request_that_may_not_see_it_gets_the_json_403(alice, page: str) -> None:
    response = alice.get(page, **JSON)
    assert response.status_code == 403
    assert response.json()["code"] == responses.PERMISSION_DENIED
    assert response.json()["detail"]


# Errors at sign-in: the page for a browser, JSON for an API request.


def test_a_refused_ticket_is_a_json_403_for_an_api_request(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml("INVALID_TICKET"))
    response = client.get("/accounts/login/?ticket=ST-1-abcdef", **JSON)
    assert (response.status_code, response.json()["code"]) == (403, responses.TICKET_REFUSED)


def test_an_unreachable_cas_server_is_a_json_503_for_an_api_request(
    client: Client, cas_http
) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    response = client.get("/accounts/login/?ticket=ST-1-abcdef", **JSON)
    assert (response.status_code, response.json()["code"]) == (503, responses.CAS_UNAVAILABLE)


def test_an_error_answered_by_the_predicate_varies_on_its_headers(client: Client) -> None:
    response = client.get("/misconfigured/", **BROWSER)
    assert {"Accept", "X-Requested-With"} <= set(response["Vary"].split(", "))


@pytest.mark.parametrize(("headers", "as_json"), [(JSON, True), (BROWSER, False)])
def test_a_rate_limited_request_gets_a_429_with_retry_after(headers: dict, as_json: bool) -> None:
    request = RequestFactory().get("/accounts/login/", **headers)
    response = responses.for_error(request, RateLimited("slow down", 7))
    assert (response.status_code, response["Retry-After"]) == (429, "7")
    assert (b'"code": "RATE_LIMITED"' in response.content) is as_json


# No module but responses.py builds one.

#: What building a 401/403/429/503 looks like in the source.
REFUSAL = re.compile(
    r"status=(401|403|429|503)\b|status_code\s*=\s*(401|403|429|503)\b"
    r"|HttpResponseForbidden|JsonResponse\("
)
#: Deliberate exceptions: the logout confirmation asks a question (it refuses nothing), and
#: DRF's exception handler, which a site may replace, builds the DRF answers from these classes.
ALLOWED = {
    "views.py": ["status=403"],
    "contrib/drf.py": ["status_code = 503", "status_code = 503"],
}


def test_no_module_but_responses_builds_a_refusal() -> None:
    found = {
        str(source.relative_to(PACKAGE)): [match.group(0) for match in REFUSAL.finditer(text)]
        for source in sorted(PACKAGE.rglob("*.py"))
        if source.name != "responses.py" and (text := source.read_text())
    }
    assert {name: hits for name, hits in found.items() if hits} == ALLOWED


def test_signing_out_on_a_broken_tenant_still_ends_the_session_here(broken_tenant, alice) -> None:
    response = alice.post("/accounts/logout/")
    assert response.status_code == 503
    assert "_auth_user_id" not in alice.session
