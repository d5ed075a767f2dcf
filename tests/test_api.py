"""API and XHR clients: which requests count as API requests, and the 401/403 JSON answers they
get from the decorators, the admin takeover, LoginRequiredMiddleware and step-up, while
browsers keep their redirects. This module is also the URLconf of its tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import Permission
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, RequestFactory
from django.urls import path
from django.views import View

from django_cas_ng import api
from django_cas_ng._internal import responses
from django_cas_ng.decorators import login_required, permission_required
from django_cas_ng.stepup import StepUpRequiredMixin, stepup_required
from tests import async_views
from tests import urls as suite_urls
from tests.conftest import CAS, success_xml

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

User = get_user_model()
VALIDATE = CAS + "p3/serviceValidate"

JSON = {"HTTP_ACCEPT": "application/json"}
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@login_required
def items(request: HttpRequest) -> HttpResponse:
    return HttpResponse("items")


@permission_required("auth.add_user", raise_exception=True)
def strict_staff(request: HttpRequest) -> HttpResponse:
    return HttpResponse("strict staff")


@stepup_required
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


@stepup_required(max_age=60)
async def async_payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async payroll")


class AuditView(StepUpRequiredMixin, View):
    stepup_max_age = 120

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("audit")


def open_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("open")


def admin_index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("admin index")


admin_index.__module__ = "django.contrib.admin.sites"

urlpatterns = [
    *suite_urls.urlpatterns,
    *async_views.urlpatterns[:3],
    path("api/items/", items),
    path("api/strict/", strict_staff),
    path("payroll/", payroll),
    path("async-payroll/", async_payroll),
    path("audit/", AuditView.as_view()),
    path("open/", open_page),
    path("admin/", admin_index),
]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def service_of(login_url: str) -> str:
    return query(login_url)["service"][0]


def aget(url: str, **headers: Any) -> Any:
    return async_to_sync(AsyncClient().get)(url, **headers)


@pytest.fixture
def alice(client: Client) -> Client:
    client.force_login(User.objects.create(username="alice"))
    return client


def is_api(**headers: str) -> bool:
    return api.wants_json(RequestFactory().get("/", **headers))


# --- which requests are API requests -------------------------------------------------------


def test_accept_json_is_an_api_request() -> None:
    assert is_api(HTTP_ACCEPT="application/json")


def test_xhr_is_an_api_request_whatever_it_accepts() -> None:
    assert is_api(HTTP_X_REQUESTED_WITH="XMLHttpRequest", HTTP_ACCEPT="text/html")


def test_a_browsers_accept_header_is_not() -> None:
    assert not is_api(**BROWSER)


def test_no_accept_header_is_a_browser() -> None:
    assert not is_api()


def test_accept_anything_is_a_browser() -> None:
    assert not is_api(HTTP_ACCEPT="*/*")


@pytest.mark.parametrize(
    "accept",
    [
        "application/json, text/plain, */*",  # axios
        "text/html;q=0.5, application/json",
        "application/json;q=0.9, text/html;q=0.8",
        "application/*, text/*;q=0.2",
        "application/json, text/html;q=0",
    ],
)
def test_accept_ranking_json_above_html_is_an_api_request(accept: str) -> None:
    assert is_api(HTTP_ACCEPT=accept)


@pytest.mark.parametrize(
    "accept",
    [
        "text/html, application/json",  # same q, same specificity: the browser wins the tie
        "application/json;q=0.5, text/html",
        "application/json;q=0, */*",
        "text/html, */*;q=0.9",
        "application/json;q=banana, text/html;q=0.1",
        "application/json;q=2",
        "json, */*",
    ],
)
def test_accept_not_ranking_json_above_html_is_a_browser(accept: str) -> None:
    assert not is_api(HTTP_ACCEPT=accept)


def test_the_most_specific_range_decides_a_types_quality() -> None:
    ranges = responses._parse_accept("*/*;q=0.1, application/*;q=0.5, application/json;q=0.8")
    assert api.media_type_quality(ranges, "application/json") == (0.8, 2)
    assert api.media_type_quality(ranges, "application/xml") == (0.5, 1)
    assert api.media_type_quality(ranges, "text/html") == (0.1, 0)


def test_a_huge_accept_header_is_read_only_so_far() -> None:
    assert not is_api(HTTP_ACCEPT="text/plain, " * 1000 + "application/json")


def always(request: HttpRequest) -> bool:
    return True


def test_the_predicate_is_overridable_by_dotted_path(client: Client, settings) -> None:
    settings.CAS_API_REQUEST_PREDICATE = "tests.test_api.always"
    assert client.get("/api/items/", **BROWSER).status_code == 401


def test_the_predicate_may_be_the_callable_itself(client: Client, settings) -> None:
    settings.CAS_API_REQUEST_PREDICATE = lambda request: request.path.startswith("/api/")
    assert client.get("/api/items/").status_code == 401
    assert client.get("/private/", **JSON).status_code == 302


# --- the 401 contract -------------------------------------------------------------------------


def test_api_request_needing_login_gets_401_not_a_redirect(client: Client) -> None:
    response = client.get("/api/items/", **JSON)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_401_names_the_cas_login_url_with_the_login_views_service_url(client: Client) -> None:
    body = client.get("/api/items/?page=2", **JSON).json()
    assert body["login_url"].startswith(CAS + "login?")
    assert service_of(body["login_url"]) == (
        "http://testserver/accounts/login/?next=%2Fapi%2Fitems%2F%3Fpage%3D2"
    )
    assert body["next"] == "/api/items/?page=2"


def test_401_login_url_is_the_one_the_login_view_itself_sends_browsers_to(
    client: Client,
) -> None:
    body = client.get("/api/items/", **JSON).json()
    via_login_view = client.get("/accounts/login/?next=" + body["next"])
    assert body["login_url"] == via_login_view.url


def test_signing_in_at_the_401_login_url_comes_back_signed_in(client: Client, cas_http) -> None:
    service = service_of(client.get("/api/items/", **JSON).json()["login_url"])
    cas_http.get(VALIDATE, body=success_xml("alice"))
    back = client.get(urlsplit(service).path + "?" + urlsplit(service).query + "&ticket=ST-1")
    assert query(cas_http.calls[0].request.url)["service"] == [service]
    assert (back.status_code, back.url) == (302, "/api/items/")
    assert client.get("/api/items/", **JSON).content == b"items"


def test_xhr_comes_back_to_the_page_that_made_the_call(client: Client) -> None:
    body = client.get("/api/items/", HTTP_REFERER="http://testserver/app/?tab=2", **XHR).json()
    assert body["next"] == "/app/?tab=2"
    assert service_of(body["login_url"]).endswith("?next=%2Fapp%2F%3Ftab%3D2")


def test_a_referer_from_another_site_is_not_a_place_to_come_back_to(client: Client) -> None:
    body = client.get("/api/items/", HTTP_REFERER="https://evil.example/", **XHR).json()
    assert body["next"] == "/api/items/"


def test_ignore_referer_comes_back_to_the_api_url(client: Client, settings) -> None:
    settings.CAS_IGNORE_REFERER = True
    body = client.get("/api/items/", HTTP_REFERER="http://testserver/app/", **XHR).json()
    assert body["next"] == "/api/items/"


def test_a_post_without_referer_comes_back_to_the_default_landing(client: Client) -> None:
    assert client.post("/api/items/", **XHR).json()["next"] == "/"


def test_401_carries_a_cas_challenge_with_the_login_url(client: Client) -> None:
    response = client.get("/api/items/", **JSON)
    login_url = response.json()["login_url"]
    assert response["WWW-Authenticate"] == f'CAS realm="testserver", login_url="{login_url}"'


def test_401_is_not_stored_and_varies_on_the_request_headers(client: Client) -> None:
    response = client.get("/api/items/", **JSON)
    assert response["Cache-Control"] == "no-store"
    assert {"Accept", "X-Requested-With"} <= set(response["Vary"].split(", "))


def test_401_login_url_carries_renew_and_extra_params(client: Client, settings) -> None:
    settings.CAS_RENEW = True
    settings.CAS_EXTRA_LOGIN_PARAMS = {"locale": "fr"}
    login = query(client.get("/api/items/", **JSON).json()["login_url"])
    assert (login["renew"], login["locale"]) == (["true"], ["fr"])


def test_with_store_next_the_landing_page_waits_in_the_session(client: Client, settings) -> None:
    settings.CAS_STORE_NEXT = True
    body = client.get("/api/items/", **JSON).json()
    assert service_of(body["login_url"]) == "http://testserver/accounts/login/"
    assert client.session["CASNEXT"] == "/api/items/"


def test_challenge_quotes_its_parameters() -> None:
    request = RequestFactory().get("/")
    value = responses.challenge(request.get_host(), 'https://cas.example.com/login?x="y"\\')
    assert value.endswith('login_url="https://cas.example.com/login?x=\\"y\\"\\\\"')


# --- browsers keep the redirect -----------------------------------------------------------


def test_browsers_keep_the_redirect_to_the_login_view(client: Client) -> None:
    response = client.get("/api/items/", **BROWSER)
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/api/items/")
    assert {"Accept", "X-Requested-With"} <= set(response["Vary"].split(", "))


# --- the decorators, sync and async -------------------------------------------------------


def test_permission_required_gives_anonymous_api_clients_401(client: Client) -> None:
    assert client.get("/staff/", **JSON).status_code == 401


def test_permission_required_gives_signed_in_api_clients_json_403(alice: Client) -> None:
    response = alice.get("/staff/", **JSON)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_signed_in_browsers_still_get_the_403_page(alice: Client) -> None:
    response = alice.get("/staff/", **BROWSER)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_raise_exception_answers_api_clients_with_json_403(client: Client) -> None:
    response = client.get("/api/strict/", **XHR)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_async_login_required_gives_api_clients_401() -> None:
    response = aget("/async-private/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["next"] == "/async-private/"


def test_async_login_required_keeps_the_redirect_for_browsers() -> None:
    response = aget("/async-private/", headers={"Accept": BROWSER["HTTP_ACCEPT"]})
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/async-private/")


def test_async_permission_required_gives_signed_in_api_clients_json_403() -> None:
    client = AsyncClient()
    client.force_login(User.objects.create(username="bob"))
    response = async_to_sync(client.get)(
        "/async-staff/", headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_async_permission_required_lets_permitted_users_through() -> None:
    user = User.objects.create(username="carol")
    user.user_permissions.add(Permission.objects.get(codename="add_user"))
    client = AsyncClient()
    client.force_login(user)
    response = async_to_sync(client.get)("/async-staff/", headers={"Accept": "application/json"})
    assert response.content == b"async staff"


# --- the CASMiddleware admin takeover -------------------------------------------------------


def test_anonymous_api_request_to_the_admin_gets_401(client: Client) -> None:
    response = client.get("/admin/", **XHR)
    assert response.status_code == 401
    assert service_of(response.json()["login_url"]).endswith("?next=%2Fadmin%2F")


def test_non_staff_api_request_to_the_admin_gets_json_403(alice: Client) -> None:
    response = alice.get("/admin/", **JSON)
    assert response.status_code == 403
    assert response.json()["detail"] == "You do not have staff privileges."


def test_anonymous_browser_request_to_the_admin_still_redirects(client: Client) -> None:
    response = client.get("/admin/", **BROWSER)
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=%2Fadmin%2F")


def test_anonymous_api_request_to_the_admin_gets_401_under_asgi() -> None:
    assert aget("/admin/", headers={"Accept": "application/json"}).status_code == 401


# --- Django's LoginRequiredMiddleware -------------------------------------------------------


@pytest.fixture
def cas_login_required(settings) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django_cas_ng.middleware.CASLoginRequiredMiddleware",
    ]
    settings.LOGIN_URL = "cas_ng_login"


def test_login_required_middleware_gives_api_clients_401(client, cas_login_required) -> None:
    response = client.get("/open/", **JSON)
    assert response.status_code == 401
    assert response.json()["next"] == "/open/"


def test_login_required_middleware_redirects_browsers(client, cas_login_required) -> None:
    response = client.get("/open/", **BROWSER)
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/open/")


def test_login_required_middleware_lets_signed_in_users_through(alice, cas_login_required) -> None:
    assert alice.get("/open/", **JSON).content == b"open"


def test_login_required_middleware_leaves_the_cas_views_reachable(
    client, cas_login_required
) -> None:
    assert client.get("/accounts/login/", **JSON).url.startswith(CAS + "login?")


def test_login_required_middleware_gives_api_clients_401_under_asgi(cas_login_required) -> None:
    assert aget("/open/", headers={"Accept": "application/json"}).status_code == 401


def test_cas_login_required_middleware_is_a_login_required_middleware() -> None:
    from django_cas_ng.middleware import CASLoginRequiredMiddleware

    assert issubclass(CASLoginRequiredMiddleware, auth_middleware.LoginRequiredMiddleware)


# --- step-up ----------------------------------------------------------------------------------


def test_stepup_gives_anonymous_api_clients_401_with_the_cas_login_url(client: Client) -> None:
    response = client.get("/payroll/", **JSON)
    assert response.status_code == 401
    assert response.json()["login_url"].startswith(CAS + "login?")


def test_stepup_gives_signed_in_api_clients_401_naming_the_stepup_url(alice: Client) -> None:
    response = alice.get("/payroll/", HTTP_REFERER="http://testserver/app/", **XHR)
    body = response.json()
    assert response.status_code == 401
    assert body["error"] == "insufficient_user_authentication"
    assert body["max_age"] == 300
    assert body["login_url"].startswith("http://testserver/accounts/stepup/?")
    assert query(body["login_url"])["next"] == ["/app/"]
    assert 'error="insufficient_user_authentication"' in response["WWW-Authenticate"]


def test_the_stepup_url_in_the_401_leads_to_cas_with_renew(alice: Client) -> None:
    login_url = alice.get("/payroll/", **JSON).json()["login_url"]
    to_cas = alice.get(login_url)
    assert to_cas.url.startswith(CAS + "login?")
    assert query(to_cas.url)["renew"] == ["true"]


def test_stepup_keeps_the_redirect_for_browsers(alice: Client) -> None:
    response = alice.get("/payroll/", **BROWSER)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/stepup/?")


def test_stepup_mixin_gives_signed_in_api_clients_the_stepup_401(alice: Client) -> None:
    response = alice.get("/audit/", **JSON)
    assert (response.status_code, response.json()["max_age"]) == (401, 120)


def test_async_stepup_gives_signed_in_api_clients_the_stepup_401() -> None:
    client = AsyncClient()
    client.force_login(User.objects.create(username="dave"))
    response = async_to_sync(client.get)("/async-payroll/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"] == "insufficient_user_authentication"
