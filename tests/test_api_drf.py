"""The DRF recipe of docs/api.rst: SessionAuthentication after a CAS sign-in, with an exception
handler that answers a missing sign-in with the CAS 401 contract (and proxy tickets beside)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import path
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from django_cas_ng import api
from tests import urls as suite_urls
from tests.conftest import CAS

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def cas_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's handler, except that a missing sign-in answers with the CAS 401."""
    if isinstance(exc, NotAuthenticated):
        return api.unauthorized(context["request"]._request)
    return exception_handler(exc, context)


class Items(APIView):
    renderer_classes = [JSONRenderer]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()})

    def post(self, request: Request) -> Response:
        return Response({"created": True}, status=201)


urlpatterns = [*suite_urls.urlpatterns, path("api/items/", Items.as_view())]


@pytest.fixture(autouse=True)
def drf_settings(settings) -> None:
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "django_cas_ng.contrib.drf.CASProxyTicketAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "EXCEPTION_HANDLER": "tests.test_api_drf.cas_exception_handler",
    }


def test_anonymous_call_gets_the_cas_401_with_the_login_url(client: Client) -> None:
    response = client.get("/api/items/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["login_url"].startswith(CAS + "login?")
    assert response["WWW-Authenticate"].startswith('CAS realm="testserver", login_url=')


def test_anonymous_call_on_a_broken_tenant_gets_the_503_not_a_500(client: Client, settings) -> None:
    settings.CAS_SERVER_URL = lambda request: "not a url"
    response = client.get("/api/items/", HTTP_ACCEPT="application/json")
    assert (response.status_code, response.json()["code"]) == (503, "SITE_MISCONFIGURED")


def test_the_session_of_a_cas_sign_in_authenticates_the_call(client: Client) -> None:
    client.force_login(get_user_model().objects.create(username="alice"))
    assert client.get("/api/items/").json() == {"user": "alice"}


def test_unsafe_calls_need_the_csrf_header(client: Client) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(get_user_model().objects.create(username="alice"))
    assert csrf_client.post("/api/items/").status_code == 403
    token = "a" * 32
    csrf_client.cookies["csrftoken"] = token
    response = csrf_client.post("/api/items/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
