"""The recipes of docs/recipes.rst, run as written: a DRF API read with the session of a CAS
sign-in. This module is also the URLconf of its tests (the suite's URLs plus the recipe's)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.test import Client
from django.urls import path
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tests import urls as suite_urls
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

VALIDATE = CAS + "p3/serviceValidate"


class WhoAmI(APIView):
    # The classes the recipe names in REST_FRAMEWORK; DRF reads that setting when the class
    # is defined, so a test cannot change it afterwards.
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Any) -> Response:
        return Response(
            {
                "username": request.user.get_username(),
                "attributes": request.session.get("attributes", {}),
            }
        )


class PasswordLoginView(auth_views.LoginView):
    """Django's password form; CASMiddleware leaves subclasses alone."""

    template_name = "admin/login.html"
    extra_context = {"title": "Log in with a password"}


urlpatterns = [
    *suite_urls.urlpatterns,
    path("api/whoami/", WhoAmI.as_view()),
    path("password-login/", PasswordLoginView.as_view(), name="password_login"),
    path("django-login/", auth_views.LoginView.as_view()),
]


def test_the_api_answers_the_user_signed_in_through_cas(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", {"email": "alice@example.org"}))
    assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 302
    answer = client.get("/api/whoami/").json()
    assert answer == {"username": "alice", "attributes": {"email": "alice@example.org"}}


def test_the_api_refuses_a_visitor_who_has_not_signed_in(client: Client) -> None:
    assert client.get("/api/whoami/").status_code == 403


def test_cas_login_required_middleware_leaves_the_api_to_drf(client: Client, settings) -> None:
    """DRF marks its views login_not_required: the recipe's 403 comes from DRF, not a redirect."""
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django_cas_ng.middleware.CASLoginRequiredMiddleware",
    ]
    settings.LOGIN_URL = "cas_ng_login"
    assert client.get("/api/whoami/").status_code == 403


@pytest.fixture
def admin_app(settings) -> None:
    """The admin installed and routed next to this module's URLs."""
    settings.INSTALLED_APPS = ["django.contrib.admin", *settings.INSTALLED_APPS]

    class WithAdmin:
        urlpatterns = [*urlpatterns, path("admin/", admin.site.urls)]

    settings.ROOT_URLCONF = WithAdmin


def test_cas_middleware_puts_cas_in_place_of_djangos_own_login_view(client: Client) -> None:
    assert client.get("/django-login/").url.startswith(CAS + "login?")


def test_the_password_login_recipe_lets_a_break_glass_superuser_into_the_admin(
    client: Client, django_user_model, admin_app: None
) -> None:
    django_user_model.objects.create_superuser("root", password="local-secret")
    form = client.get("/password-login/?next=/admin/")
    assert form.status_code == 200

    response = client.post(
        "/password-login/?next=/admin/",
        {"username": "root", "password": "local-secret", "next": "/admin/"},
    )

    assert response.url == "/admin/"
    # The index lists recent actions from a table the suite does not create; a list page:
    assert client.get("/admin/django_cas_ng/sessionticket/").status_code == 200
