"""Django's LoginRequiredMiddleware: the CAS views stay reachable anonymously, and check
W005 warns when LOGIN_URL would send anonymous users round in a loop."""

from __future__ import annotations

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.test import Client

from django_cas_ng import views
from django_cas_ng.checks import check_settings
from django_cas_ng.decorators import proxy_ticket_required
from tests.cas_answers import logout_request
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

LOGIN_REQUIRED = "django.contrib.auth.middleware.LoginRequiredMiddleware"


@pytest.fixture
def login_required_site(settings) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, LOGIN_REQUIRED]
    settings.LOGIN_URL = "cas_ng_login"


def w005(settings) -> list[str]:
    return [m.id for m in check_settings() if m.id == "django_cas_ng.W005"]


@pytest.mark.usefixtures("login_required_site")
class TestWithTheMiddlewareOn:
    def test_a_plain_page_sends_anonymous_users_to_the_cas_login_view(self, client: Client) -> None:
        response = client.get("/")
        assert (response.status_code, response.url) == (302, "/accounts/login/?next=/")

    def test_the_login_view_goes_to_cas_not_to_itself(self, client: Client) -> None:
        response = client.get("/accounts/login/?next=/")
        assert response.url.startswith(CAS + "login?")

    def test_the_logout_view_is_reachable_anonymously(self, client: Client) -> None:
        assert client.get("/accounts/logout/").url.startswith(CAS + "logout")

    def test_back_channel_single_logout_is_answered(self, client: Client) -> None:
        response = client.post("/accounts/login/", {"logoutRequest": logout_request("ST-1")})
        assert response.status_code == 200

    def test_the_pgt_callback_is_answered(self, client: Client) -> None:
        assert client.get("/accounts/callback/").status_code == 200

    def test_the_callback_accepts_single_logout(self, client: Client) -> None:
        response = client.post("/accounts/callback/", {"logoutRequest": logout_request("ST-1")})
        assert response.status_code == 200


@pytest.mark.parametrize("view", [views.LoginView, views.LogoutView, views.CallbackView])
def test_cas_views_are_exempt(view: type) -> None:
    assert view.as_view().login_required is False  # type: ignore[attr-defined]


def test_views_authenticated_by_proxy_ticket_are_exempt() -> None:
    @proxy_ticket_required
    def api(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    assert api.login_required is False  # type: ignore[attr-defined]


def test_login_not_required_is_djangos_marker() -> None:
    def page(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    assert login_not_required(page).login_required is False  # type: ignore[attr-defined]


def test_w005_is_silent_when_login_url_is_the_cas_login_view(login_required_site, settings) -> None:
    assert w005(settings) == []


@pytest.mark.parametrize("login_url", ["/private/", "/nowhere/", "home"])
def test_w005_warns_when_login_url_is_not_exempt(
    login_required_site, settings, login_url: str
) -> None:
    settings.LOGIN_URL = login_url
    assert w005(settings) == ["django_cas_ng.W005"]


def test_w005_is_silent_without_the_middleware(settings) -> None:
    settings.LOGIN_URL = "/nowhere/"
    assert w005(settings) == []


def test_w005_is_silent_for_a_login_page_on_another_site(login_required_site, settings) -> None:
    settings.LOGIN_URL = "https://sso.example.org/login"
    assert w005(settings) == []
