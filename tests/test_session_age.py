"""A maximum age from the CAS sign-in: the setting with its middleware, the decorator and the
mixin; the CAS server faked with ``responses``. This module is also the URLconf of its tests."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.views import View

from django_cas_ng.session_age import (
    SESSION_KEY,
    CASMaxAgeMixin,
    cas_max_age,
)
from tests import urls as suite_urls
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

VALIDATE = CAS + "p3/serviceValidate"
MIDDLEWARE = "django_cas_ng.session_age.SessionMaxAgeMiddleware"
HOUR = 3600


@cas_max_age(hours=8)
def staff_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("staff page")


@cas_max_age(hours=8)
async def async_staff_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async staff page")


class StaffView(CASMaxAgeMixin, View):
    cas_max_age = 8 * HOUR

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("staff view")


urlpatterns = [
    *suite_urls.urlpatterns,
    path("staff-page/", staff_page),
    path("async-staff-page/", async_staff_page),
    path("staff-view/", StaffView.as_view()),
]


def iso(seconds_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)).isoformat()


def sign_in(client: Client, cas_http, attributes: dict[str, Any] | None = None) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", attributes))
    ticket = f"ST-{time.monotonic_ns()}-age"
    response = client.get("/accounts/login/", {"ticket": ticket, "next": "/private/"})
    assert response.status_code == 302


def age_session(client: Client, seconds: float, dated: bool = False) -> None:
    """Move the session's CAS sign-in (and its validation) ``seconds`` into the past."""
    session = client.session
    past = time.time() - seconds
    session[SESSION_KEY] = {"at": past, "validated": past, "dated": dated}
    session.save()


def test_sign_in_records_the_released_authentication_date(client, cas_http) -> None:
    sign_in(client, cas_http, {"authenticationDate": iso(2 * HOUR)})
    record = client.session[SESSION_KEY]
    assert record["dated"] is True
    assert abs(time.time() - record["at"] - 2 * HOUR) < 5


def test_sign_in_without_a_date_records_the_validation_time(client, cas_http) -> None:
    sign_in(client, cas_http)
    record = client.session[SESSION_KEY]
    assert record["dated"] is False
    assert abs(time.time() - record["at"]) < 5


def test_a_young_session_passes(client, cas_http) -> None:
    sign_in(client, cas_http)
    assert client.get("/staff-page/").content == b"staff page"


def test_past_the_max_age_a_browser_goes_through_cas_again(client, cas_http) -> None:
    sign_in(client, cas_http)
    age_session(client, 9 * HOUR)
    response = client.get("/staff-page/?tab=2")
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/accounts/login/"
    assert parse_qs(urlsplit(response.url).query) == {"next": ["/staff-page/?tab=2"]}
    assert client.get("/private/").status_code == 302  # the session ended


def test_past_the_max_age_an_api_call_gets_the_401_with_the_login_url(client, cas_http) -> None:
    sign_in(client, cas_http)
    age_session(client, 9 * HOUR)
    response = client.get("/staff-page/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["login_url"].startswith(CAS + "login?")


def test_a_cas_session_older_than_the_max_age_is_asked_for_credentials_again(
    client, cas_http
) -> None:
    sign_in(client, cas_http, {"authenticationDate": iso(9 * HOUR)})
    session = client.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "validated": time.time() - 120}
    session.save()
    response = client.get("/staff-page/")
    assert parse_qs(urlsplit(response.url).query)["renew"] == ["true"]
    to_cas = client.get(response.url)
    assert parse_qs(urlsplit(to_cas.url).query)["renew"] == ["true"]


def test_a_just_validated_session_is_never_sent_round_again(client, cas_http) -> None:
    sign_in(client, cas_http, {"authenticationDate": iso(9 * HOUR)})
    assert client.get("/staff-page/").content == b"staff page"


def test_the_session_end_is_signalled_as_max_age(client, cas_http) -> None:
    from django_cas_ng.signals import cas_user_logout

    senders: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        senders.append(sender)

    cas_user_logout.connect(receiver)
    try:
        sign_in(client, cas_http)
        age_session(client, 9 * HOUR)
        client.get("/staff-page/")
    finally:
        cas_user_logout.disconnect(receiver)
    assert senders == ["max_age"]


def test_async_views_are_guarded_too(client, cas_http) -> None:
    sign_in(client, cas_http)
    assert client.get("/async-staff-page/").content == b"async staff page"
    age_session(client, 9 * HOUR)
    assert client.get("/async-staff-page/").status_code == 302


def test_the_mixin_guards_a_class_based_view(client, cas_http) -> None:
    sign_in(client, cas_http)
    assert client.get("/staff-view/").content == b"staff view"
    age_session(client, 9 * HOUR)
    assert client.get("/staff-view/").status_code == 302


def test_the_setting_with_its_middleware_bounds_every_page(client, cas_http, settings) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    settings.CAS_SESSION_MAX_AGE = HOUR
    sign_in(client, cas_http)
    assert client.get("/private/").status_code == 200
    age_session(client, 2 * HOUR)
    response = client.get("/private/")
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/accounts/login/"


def test_past_the_max_age_an_api_call_on_a_misconfigured_site_gets_the_503_not_a_500(
    client, cas_http, settings
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    settings.CAS_SESSION_MAX_AGE = HOUR
    sign_in(client, cas_http)
    age_session(client, 2 * HOUR)
    settings.ALLOWED_HOSTS = ["*"]  # no setting pins the Host any more: no service URL
    response = client.get("/private/", HTTP_ACCEPT="application/json")
    assert (response.status_code, response.json()["code"]) == (503, "SITE_MISCONFIGURED")


def test_the_middleware_leaves_the_login_view_alone(client, cas_http, settings) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    settings.CAS_SESSION_MAX_AGE = HOUR
    sign_in(client, cas_http)
    age_session(client, 2 * HOUR)
    assert client.get("/accounts/login/", {"next": "/private/"}).url == "/private/"


def test_a_session_without_a_cas_sign_in_is_not_bounded(client, settings) -> None:
    from django.contrib.auth import get_user_model

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    settings.CAS_SESSION_MAX_AGE = 1
    client.force_login(get_user_model().objects.create_user("bob"))
    assert client.get("/private/").status_code == 200


def test_a_max_age_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        cas_max_age(hours=0)


def test_the_setting_without_its_middleware_is_an_error(settings) -> None:
    from django_cas_ng.checks import check_session_life

    settings.CAS_SESSION_MAX_AGE = HOUR
    assert "django_cas_ng.E050" in [message.id for message in check_session_life()]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    assert check_session_life() == []


def test_the_middleware_works_under_asgi(client, cas_http, settings) -> None:
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    settings.CAS_SESSION_MAX_AGE = HOUR
    sign_in(client, cas_http)
    age_session(client, 2 * HOUR)
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    response = async_to_sync(async_client.get)("/private/")
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/accounts/login/"
