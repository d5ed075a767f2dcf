"""CASMiddleware: admin pages go through CAS, and Django's own login/logout views are replaced.

django.contrib.admin is not installed in the test project, so this module is its own URLconf:
an admin-like area under ``/backoffice/`` (found with ``CAS_ADMIN_PREFIX``) and views that
claim to live in ``django.contrib.admin`` (found by module when no prefix is set).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from django_cas_ng import views
from django_cas_ng.middleware import CASMiddleware
from tests.conftest import CAS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_middleware")]

User = get_user_model()


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("page")


def logout(request: HttpRequest) -> HttpResponse:
    return HttpResponse("admin logout")


def admin_index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("admin index")


def admin_logout(request: HttpRequest) -> HttpResponse:
    return HttpResponse("admin logout")


# What AdminSite's views look like to the middleware: module django.contrib.admin.sites.
admin_index.__module__ = admin_logout.__module__ = "django.contrib.admin.sites"
admin_logout.__name__ = "logout"

urlpatterns = [
    path("backoffice/", page, name="backoffice"),
    path("backoffice/logout/", logout, name="backoffice_logout"),
    path("elsewhere/", page, name="elsewhere"),
    path("admin/", admin_index, name="admin_index"),
    path("admin/logout/", admin_logout, name="admin_logout"),
    path("django-login/", auth_views.LoginView.as_view(), name="django_login"),
    path("django-logout/", auth_views.LogoutView.as_view(), name="django_logout"),
    path("accounts/login/", views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="cas_ng_logout"),
    path("sso/login/", views.LoginView.as_view(), name="sso_login"),
]


@pytest.fixture
def backoffice(settings) -> None:
    settings.CAS_ADMIN_PREFIX = "/backoffice/"


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(User.objects.create(username="root", is_staff=True))
    return client


@pytest.fixture
def member(client: Client) -> Client:
    client.force_login(User.objects.create(username="alice"))
    return client


# --- the admin area, by CAS_ADMIN_PREFIX -----------------------------------------------------


def test_anonymous_admin_request_goes_to_cas_login_with_next(client, backoffice) -> None:
    response = client.get("/backoffice/?tab=users")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=%2Fbackoffice%2F%3Ftab%3Dusers"


def test_signed_in_non_staff_gets_403_on_admin_pages(member, backoffice) -> None:
    assert member.get("/backoffice/").status_code == 403


def test_staff_reach_admin_pages(staff, backoffice) -> None:
    assert staff.get("/backoffice/").content == b"page"


def test_admin_logout_goes_to_cas_logout(staff, backoffice) -> None:
    response = staff.get("/backoffice/logout/")
    assert (response.status_code, response.url) == (302, "/accounts/logout/")


def test_pages_outside_the_admin_prefix_are_left_alone(client, backoffice) -> None:
    assert client.get("/elsewhere/").content == b"page"


def test_login_url_name_names_the_login_view(client, backoffice, settings) -> None:
    settings.CAS_LOGIN_URL_NAME = "sso_login"
    assert client.get("/backoffice/").url.startswith("/sso/login/?next=")


def test_admin_redirect_off_leaves_admin_pages_alone(client, backoffice, settings) -> None:
    settings.CAS_ADMIN_REDIRECT = False
    assert client.get("/backoffice/").content == b"page"


# --- the admin area, by module (no CAS_ADMIN_PREFIX) -----------------------------------------


def test_admin_views_are_found_by_module_without_a_prefix(client) -> None:
    response = client.get("/admin/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=%2Fadmin%2F")


def test_admin_view_by_module_gives_403_to_non_staff(member) -> None:
    assert member.get("/admin/").status_code == 403


def test_admin_view_by_module_lets_staff_through(staff) -> None:
    assert staff.get("/admin/").content == b"admin index"


def test_admin_logout_by_module_goes_to_cas_logout(staff) -> None:
    assert staff.get("/admin/logout/").url == "/accounts/logout/"


def test_other_views_are_not_admin_without_a_prefix(client) -> None:
    assert client.get("/backoffice/").content == b"page"


# --- Django's own login and logout views -----------------------------------------------------


def test_djangos_login_view_is_replaced_by_cas_login(client) -> None:
    response = client.get("/django-login/")
    assert response.status_code == 302
    assert response.url.startswith(CAS + "login?")


def test_djangos_logout_view_is_replaced_by_cas_logout(staff) -> None:
    response = staff.get("/django-logout/")
    assert response.status_code == 302
    assert response.url.startswith(CAS + "logout")
    assert "_auth_user_id" not in staff.session


def test_cas_login_view_itself_is_not_intercepted(client, settings) -> None:
    """Even when the login URL lies under the admin prefix, the login page is reachable."""
    settings.CAS_ADMIN_PREFIX = "/accounts/"
    response = client.get("/accounts/login/?next=/backoffice/")
    service = parse_qs(urlsplit(response.url).query)["service"][0]
    assert service == "http://testserver/accounts/login/?next=%2Fbackoffice%2F"


# --- wiring ----------------------------------------------------------------------------------


def test_middleware_without_authentication_middleware_is_improperly_configured(
    rf: RequestFactory,
) -> None:
    middleware = CASMiddleware(lambda request: HttpResponse())
    with pytest.raises(ImproperlyConfigured, match="AuthenticationMiddleware"):
        middleware(rf.get("/"))


def test_middleware_is_a_new_style_middleware(rf: RequestFactory) -> None:
    def get_response(request: Any) -> HttpResponse:
        return HttpResponse("from the view")

    request = rf.get("/elsewhere/")
    request.user = User(username="alice")
    assert CASMiddleware(get_response)(request).content == b"from the view"


def test_middleware_runs_in_an_async_stack(rf: RequestFactory) -> None:
    async def get_response(request: Any) -> HttpResponse:
        return HttpResponse("from the async view")

    middleware = CASMiddleware(get_response)
    request = rf.get("/elsewhere/")
    request.user = User(username="alice")
    assert iscoroutinefunction(middleware)
    assert async_to_sync(middleware)(request).content == b"from the async view"


@pytest.mark.parametrize("view_class", [views.LoginView, views.LogoutView])
@pytest.mark.parametrize("prefix", [None, "/"])
def test_process_view_passes_the_view_classes_themselves_through(
    rf: RequestFactory, settings, view_class: type, prefix: str | None
) -> None:
    settings.CAS_ADMIN_PREFIX = prefix
    request = rf.get("/accounts/login/")
    request.user = AnonymousUser()
    middleware = CASMiddleware(lambda request: HttpResponse())
    assert middleware.process_view(request, view_class, (), {}) is None


def test_login_view_is_never_redirected_to_itself(client, settings) -> None:
    settings.CAS_ADMIN_PREFIX = "/"
    response = client.get("/sso/login/?next=/backoffice/")
    assert response.url.startswith(CAS + "login?")
