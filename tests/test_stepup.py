"""Step-up sign-in: the decorator, the mixin and StepUpView, with the CAS server faked by
``responses``. This module is also the URLconf of its tests (the suite's URLs plus protected
views)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.views import View

from django_cas_ng import stepup
from django_cas_ng.models import CASIdentity
from django_cas_ng.stepup import (
    PENDING_SESSION_KEY,
    SESSION_KEY,
    StepUpPolicy,
    StepUpRequiredMixin,
    StepUpView,
    parse_cas_datetime,
    stepup_required,
)
from tests import urls as suite_urls
from tests.conftest import CAS, failure_xml, success_xml

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

VALIDATE = CAS + "p3/serviceValidate"
BACKEND = "django_cas_ng.backends.CASBackend"


@stepup_required
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


@stepup_required(max_age=60, extra_params={"authn_method": "mfa-duo"})
def wire_transfer(request: HttpRequest) -> HttpResponse:
    return HttpResponse("wire")


@stepup_required(required_attributes={"authnContextClass": ["mfa-duo", "mfa-webauthn"]})
def keys(request: HttpRequest) -> HttpResponse:
    return HttpResponse("keys")


@stepup_required
async def async_payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async payroll")


class AuditView(StepUpRequiredMixin, View):
    stepup_max_age = 120
    stepup_required_attributes = {"successfulAuthenticationHandlers": "DuoSecurityHandler"}

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("audit")


class AsyncAuditView(StepUpRequiredMixin, View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("async audit")


urlpatterns = [
    *suite_urls.urlpatterns,
    path("payroll/", payroll),
    path("wire/", wire_transfer),
    path("keys/", keys),
    path("async-payroll/", async_payroll),
    path("audit/", AuditView.as_view()),
    path("async-audit/", AsyncAuditView.as_view()),
]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def iso(seconds_ago: float = 0) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)).isoformat()


def stepup_answer(
    user: str = "alice", new_login: str = "true", date: str | None = None, **attributes: Any
) -> str:
    released: dict[str, Any] = {"isFromNewLogin": new_login}
    released["authenticationDate"] = iso() if date is None else date
    released.update(attributes)
    return success_xml(user, released)


@pytest.fixture
def alice(client: Client) -> Client:
    """A browser signed in (through CAS earlier) as alice."""
    user = get_user_model().objects.create_user("alice")
    client.force_login(user, backend=BACKEND)
    return client


def step_up(client: Client, protected: str) -> str:
    """Follow the protected page to the step-up view; the step-up view's URL with a ticket."""
    to_stepup = client.get(protected)
    assert to_stepup.status_code == 302
    return to_stepup.url + "&ticket=ST-42-stepupticket"


# --- The decorator: who gets through, who is sent where -----------------------------------


def test_anonymous_user_is_sent_to_login_first(client: Client) -> None:
    response = client.get("/payroll/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/payroll/"


def test_signed_in_user_without_stepup_is_sent_to_the_stepup_view(alice: Client) -> None:
    response = alice.get("/payroll/?month=5")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/stepup/?")
    params = query(response.url)
    assert params["next"] == ["/payroll/?month=5"]
    assert params["stepup"][0] in alice.session[PENDING_SESSION_KEY]


def test_stepup_view_sends_the_browser_to_cas_with_renew_and_service_back_to_itself(
    alice: Client,
) -> None:
    to_stepup = alice.get("/payroll/")
    response = alice.get(to_stepup.url)
    assert response.status_code == 302
    assert response.url.startswith(CAS + "login?")
    params = query(response.url)
    assert params["renew"] == ["true"]
    service = params["service"][0]
    assert service.startswith("http://testserver/accounts/stepup/?")
    assert query(service)["next"] == ["/payroll/"]
    assert query(service)["stepup"] == query(to_stepup.url)["stepup"]


def test_extra_params_are_forwarded_to_cas_login(alice: Client) -> None:
    response = alice.get(alice.get("/wire/").url)
    params = query(response.url)
    assert params["authn_method"] == ["mfa-duo"]
    assert params["renew"] == ["true"]


def test_fresh_stepup_lets_the_request_through(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer())
    back = alice.get(step_up(alice, "/payroll/"))
    assert back.status_code == 302
    assert back.url == "/payroll/"
    assert alice.get("/payroll/").content == b"payroll"


def test_later_requests_within_max_age_pass_without_cas(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer())
    alice.get(step_up(alice, "/payroll/"))
    calls = len(cas_http.calls)
    for _ in range(3):
        assert alice.get("/payroll/").status_code == 200
    assert len(cas_http.calls) == calls


def test_validation_asks_cas3_endpoint_with_renew_and_no_proxy_callback(
    alice: Client, cas_http, settings
) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    cas_http.get(VALIDATE, body=stepup_answer())
    url = step_up(alice, "/payroll/")
    alice.get(url)
    sent = query(cas_http.calls[0].request.url)
    assert cas_http.calls[0].request.url.startswith(VALIDATE + "?")
    assert sent["renew"] == ["true"]
    assert "pgtUrl" not in sent
    assert sent["ticket"] == ["ST-42-stepupticket"]
    assert "ticket" not in query(sent["service"][0])


def test_stale_stepup_prompts_again(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer())
    alice.get(step_up(alice, "/payroll/"))
    session = alice.session
    session[SESSION_KEY]["at"] = time.time() - 301
    session.save()
    response = alice.get("/payroll/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/stepup/?")


def test_stepup_for_another_user_does_not_count(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer())
    alice.get(step_up(alice, "/payroll/"))
    session = alice.session
    session[SESSION_KEY]["user"] = "mallory"
    session.save()
    assert alice.get("/payroll/").status_code == 302


def test_lenient_stepup_does_not_satisfy_a_view_asking_for_more(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer())
    alice.get(step_up(alice, "/payroll/"))
    assert alice.get("/payroll/").status_code == 200
    assert alice.get("/wire/").status_code == 302
    assert alice.get("/keys/").status_code == 302


def test_stepup_used_up_its_pending_entry(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer())
    url = step_up(alice, "/payroll/")
    alice.get(url)
    assert query(url)["stepup"][0] not in alice.session[PENDING_SESSION_KEY]


def test_at_most_a_few_stepups_are_pending_per_session(alice: Client) -> None:
    for _ in range(stepup.MAX_PENDING + 3):
        alice.get("/payroll/")
    assert len(alice.session[PENDING_SESSION_KEY]) == stepup.MAX_PENDING


# --- StepUpView refusals: a 403 page that says why ----------------------------------------


def test_answer_not_from_a_new_login_is_refused(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(new_login="false"))
    response = alice.get(step_up(alice, "/payroll/"))
    assert response.status_code == 403
    assert b"reused an earlier sign-in" in response.content
    assert SESSION_KEY not in alice.session
    assert alice.get("/payroll/").status_code == 302


def test_answer_without_is_from_new_login_is_refused(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", {"authenticationDate": iso()}))
    assert alice.get(step_up(alice, "/payroll/")).status_code == 403


def test_old_authentication_date_is_refused(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(date=iso(seconds_ago=400)))
    response = alice.get(step_up(alice, "/payroll/"))
    assert response.status_code == 403
    assert b"older than the 300 seconds" in response.content


def test_authentication_date_in_the_future_is_refused(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(date=iso(seconds_ago=-600)))
    response = alice.get(step_up(alice, "/payroll/"))
    assert response.status_code == 403
    assert b"in the future" in response.content


def test_missing_or_unreadable_authentication_date_is_refused(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(date="yesterday"))
    response = alice.get(step_up(alice, "/payroll/"))
    assert response.status_code == 403
    assert b"did not say when you signed in" in response.content


def test_wrong_user_is_refused(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(user="bob"))
    response = alice.get(step_up(alice, "/payroll/"))
    assert response.status_code == 403
    assert b"different user" in response.content
    assert alice.session["_auth_user_id"]


def test_username_is_compared_after_the_backends_clean_username(
    alice: Client, cas_http, settings
) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "lower"
    cas_http.get(VALIDATE, body=stepup_answer(user="ALICE"))
    assert alice.get(step_up(alice, "/payroll/")).url == "/payroll/"


def test_local_name_field_is_what_the_cas_user_must_match(
    alice: Client, cas_http, settings
) -> None:
    settings.CAS_LOCAL_NAME_FIELD = "email"
    get_user_model().objects.filter(username="alice").update(email="alice@example.org")
    cas_http.get(VALIDATE, body=stepup_answer(user="alice@example.org"))
    assert alice.get(step_up(alice, "/payroll/")).url == "/payroll/"
    assert alice.get("/payroll/").status_code == 200


def test_missing_required_attribute_is_refused(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(authnContextClass="password"))
    response = alice.get(step_up(alice, "/keys/"))
    assert response.status_code == 403
    assert b"authnContextClass" in response.content


def test_any_accepted_value_of_a_multi_valued_attribute_satisfies(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(authnContextClass=["password", "mfa-webauthn"]))
    assert alice.get(step_up(alice, "/keys/")).url == "/keys/"
    assert alice.get("/keys/").content == b"keys"


def test_refused_ticket_gives_403(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    response = alice.get(step_up(alice, "/payroll/"))
    assert response.status_code == 403
    assert b"did not accept the sign-in ticket" in response.content


def test_a_refused_stepup_answers_an_api_request_with_the_json_403(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(new_login="false"))
    response = alice.get(step_up(alice, "/payroll/"), HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "STEPUP_REFUSED"
    assert "reused an earlier sign-in" in response.json()["detail"]


def test_the_stepup_refusal_page_varies_on_the_api_headers(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(new_login="false"))
    response = alice.get(step_up(alice, "/payroll/"))
    assert "X-Requested-With" in response["Vary"]


def test_malformed_ticket_is_refused_without_asking_cas(alice: Client, cas_http) -> None:
    url = alice.get("/payroll/").url + "&ticket=%3Cx%3E"
    assert alice.get(url).status_code == 403
    assert not cas_http.calls


def test_refusal_page_offers_to_try_again_with_the_same_stepup(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(new_login="false"))
    url = step_up(alice, "/wire/")
    response = alice.get(url)
    retry = response.context["retry_url"]
    assert query(retry)["stepup"] == query(url)["stepup"]
    assert "ticket" not in query(retry)
    assert query(alice.get(retry).url)["authn_method"] == ["mfa-duo"]


def test_cas_unavailable_gives_503(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    response = alice.get(step_up(alice, "/payroll/"))
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content


def test_ticket_never_reaches_the_log(alice: Client, cas_http, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    cas_http.get(VALIDATE, body=failure_xml())
    alice.get(step_up(alice, "/payroll/"))
    cas_http.replace(responses.GET, VALIDATE, body=stepup_answer())
    alice.get(step_up(alice, "/payroll/"))
    assert "ST-42-stepupticket" not in caplog.text


def test_hostile_next_lands_on_the_default_page(alice: Client, cas_http) -> None:
    to_cas = alice.get("/accounts/stepup/?next=https://evil.example/")
    assert query(query(to_cas.url)["service"][0])["next"] == ["/"]
    cas_http.get(VALIDATE, body=stepup_answer())
    back = alice.get("/accounts/stepup/?next=https://evil.example/&ticket=ST-42-stepupticket")
    assert back.status_code == 302
    assert back.url == "/"


def test_stepup_view_sends_anonymous_users_to_login(client: Client) -> None:
    response = client.get("/accounts/stepup/?next=/payroll/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


def test_stepup_view_sends_anonymous_users_to_login_then_to_next(client: Client) -> None:
    response = client.get("/accounts/stepup/?next=/payroll/")
    assert query(response.url)["next"] == ["/payroll/"]


def test_a_ticket_brought_to_the_stepup_view_signed_out_is_not_carried_into_next(
    client: Client,
) -> None:
    response = client.get("/accounts/stepup/?next=/payroll/&ticket=ST-4-forgotten-cas")
    assert "ST-4" not in response.url


def test_stepup_view_is_exempt_from_login_required_middleware() -> None:
    assert StepUpView.as_view().login_required is False  # type: ignore[attr-defined]


# --- Async views and the mixin ------------------------------------------------------------


def signed_in_request(path: str, user: Any, session: SessionStore) -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = user
    request.session = session
    return request


def test_async_view_stays_a_coroutine_function() -> None:
    assert iscoroutinefunction(async_payroll)
    assert not iscoroutinefunction(payroll)


def test_async_view_redirects_then_passes_after_a_fresh_stepup(alice: Client, cas_http) -> None:
    user = get_user_model().objects.get(username="alice")
    session = SessionStore(alice.session.session_key)
    first = async_to_sync(async_payroll)(signed_in_request("/async-payroll/", user, session))
    assert first.status_code == 302
    assert first.url.startswith("/accounts/stepup/?")
    session.save()
    cas_http.get(VALIDATE, body=stepup_answer())
    alice.get(first.url + "&ticket=ST-42-stepupticket")
    session = SessionStore(alice.session.session_key)
    second = async_to_sync(async_payroll)(signed_in_request("/async-payroll/", user, session))
    assert second.content == b"async payroll"


def test_async_view_through_the_test_client(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer())
    alice.get(step_up(alice, "/async-payroll/"))
    assert alice.get("/async-payroll/").content == b"async payroll"


def test_mixin_applies_its_policy(alice: Client, cas_http) -> None:
    to_cas = alice.get(alice.get("/audit/").url)
    assert query(to_cas.url)["renew"] == ["true"]
    cas_http.get(
        VALIDATE,
        body=stepup_answer(successfulAuthenticationHandlers=["LdapHandler", "DuoSecurityHandler"]),
    )
    assert alice.get(step_up(alice, "/audit/")).url == "/audit/"
    assert alice.get("/audit/").content == b"audit"


def test_mixin_refuses_an_answer_without_its_attribute(alice: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=stepup_answer(successfulAuthenticationHandlers="LdapHandler"))
    assert alice.get(step_up(alice, "/audit/")).status_code == 403


def test_mixin_on_an_async_view(alice: Client, cas_http) -> None:
    assert alice.get("/async-audit/").status_code == 302
    cas_http.get(VALIDATE, body=stepup_answer())
    alice.get(step_up(alice, "/async-audit/"))
    assert alice.get("/async-audit/").content == b"async audit"


def test_mixin_sends_anonymous_users_to_login(client: Client) -> None:
    assert client.get("/audit/").url == "/accounts/login/?next=/audit/"


# --- Configuration ----------------------------------------------------------------------


def test_stepup_refuses_to_run_without_cas_3(alice: Client, settings) -> None:
    settings.CAS_VERSION = "2"
    with pytest.raises(ImproperlyConfigured, match="CAS_VERSION = '3'"):
        alice.get("/payroll/")
    with pytest.raises(ImproperlyConfigured):
        alice.get("/accounts/stepup/")


def test_deploy_check_reports_a_routed_stepup_view_without_cas_3(settings) -> None:
    settings.CAS_VERSION = "2"
    assert "django_cas_ng.E101" in [m.id for m in run_checks(include_deployment_checks=True)]
    settings.CAS_VERSION = "3"
    assert "django_cas_ng.E101" not in [m.id for m in run_checks(include_deployment_checks=True)]


def test_plain_check_reports_a_routed_stepup_view_without_cas_3(settings) -> None:
    settings.CAS_VERSION = "2"
    assert "django_cas_ng.E101" in [m.id for m in run_checks()]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_age": 0},
        {"max_age": "300"},
        {"extra_params": {"renew": "false"}},
        {"extra_params": {"service": "https://evil.example/"}},
        {"extra_params": {"authn_method": 1}},
        {"required_attributes": {"authnContextClass": []}},
    ],
)
def test_bad_policy_arguments_fail_at_decoration(kwargs: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        stepup_required(**kwargs)


def test_policy_survives_the_session_round_trip() -> None:
    policy = StepUpPolicy(60, {"authn_method": "mfa"}, {"amr": ["otp", "hwk"], "acr": "gold"})
    assert StepUpPolicy.from_session(policy.to_session()) == policy
    assert StepUpPolicy.from_session({"max_age": -1}) is None


# --- Dates as CAS servers send them -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-02T10:00:00Z",
        "2026-12-02T10:00:00+00:00",
        "2026-12-02T12:00:00+02:00",
        "2026-12-02T12:00:00+0200",
        "2026-12-02T05:00:00-05",
        "2026-12-02T10:00:00",
        "2026-12-02T10:00:00.000Z",
        "2026-12-02T10:00:00.000000000Z[UTC]",
        " 2026-12-02T10:00:00.123Z ",
    ],
)
def test_authentication_dates_parse_in_every_form_cas_servers_send(text: str) -> None:
    parsed = parse_cas_datetime(text)
    assert parsed.replace(microsecond=0) == datetime(2026, 12, 2, 10, tzinfo=timezone.utc)


def test_fractional_seconds_are_kept() -> None:
    assert parse_cas_datetime("2026-12-02T10:00:00.123456789Z").microsecond == 123456


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-02T10:00:00Z", "1765000000"])
def test_unreadable_dates_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cas_datetime(text)


# --- Several CAS servers ---------------------------------------------------------------------


def test_stepup_goes_to_the_tenants_server_and_reads_its_cas_version(
    alice: Client, settings, cas_http
) -> None:
    tenant_server = "https://cas-b.example.org/cas/"
    settings.CAS_VERSION = "2"
    settings.CAS_CONFIG_RESOLVER = lambda request: {
        "CAS_SERVER_URL": tenant_server,
        "CAS_VERSION": "3",
    }
    # Signed in at the tenant's server: the session and the identity say so.
    session = alice.session
    session["_cas_ng_server"] = tenant_server
    session.save()
    user = get_user_model().objects.get(username="alice")
    CASIdentity.objects.create(server_url=tenant_server, uid="alice", name="alice", user=user)
    to_cas = alice.get(alice.get("/payroll/").url)
    assert to_cas.url.startswith(tenant_server + "login?")
    cas_http.get(tenant_server + "p3/serviceValidate", body=stepup_answer())
    back = alice.get(step_up(alice, "/payroll/"))
    assert back.status_code == 302
    assert alice.get("/payroll/").content == b"payroll"
