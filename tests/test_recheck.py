"""The silent re-check: SessionRecheckMiddleware, with the CAS server faked by ``responses``."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from django_cas_ng.recheck import CHECKED_KEY, MARK
from django_cas_ng.signals import cas_user_logout
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
MIDDLEWARE = "django_cas_ng.recheck.SessionRecheckMiddleware"
HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture(autouse=True)
def rechecking(settings) -> Any:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    settings.CAS_RECHECK_INTERVAL = 600
    return settings


@pytest.fixture
def alice(client: Client, cas_http) -> Client:
    """A browser signed in through CAS as alice, whose last check is due."""
    cas_http.get(VALIDATE, body=success_xml("alice"))
    response = client.get("/accounts/login/", {"ticket": "ST-1-signin", "next": "/private/"})
    assert response.status_code == 302
    make_due(client)
    return client


def make_due(client: Client) -> None:
    session = client.session
    session[CHECKED_KEY] = time.time() - 601
    session.save()


def to_cas(client: Client, path: str = "/private/?tab=2") -> str:
    """Navigate while a check is due; the CAS login URL the browser is sent to."""
    response = client.get(path, **HTML)
    assert response.status_code == 302
    assert response.url.startswith(CAS + "login?")
    return str(response.url)


def service_of(cas_login_url: str) -> str:
    return parse_qs(urlsplit(cas_login_url).query)["service"][0]


def back_from_cas(client: Client, service: str, ticket: str | None) -> Any:
    url = service + (f"&ticket={ticket}" if ticket else "")
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", **HTML)


def signed_in(client: Client) -> bool:
    return client.get("/private/").status_code == 200


def test_a_due_navigation_goes_to_cas_with_gateway_and_comes_back_to_the_page(alice) -> None:
    cas_login_url = to_cas(alice)
    query = parse_qs(urlsplit(cas_login_url).query)
    assert query["gateway"] == ["true"]
    assert "renew" not in query
    service = query["service"][0]
    assert service.startswith("http://testserver/private/?tab=2&" + MARK + "=")


def test_still_signed_in_at_cas_the_session_goes_on(alice, cas_http) -> None:
    service = service_of(to_cas(alice))
    response = back_from_cas(alice, service, "ST-2-recheck")
    assert response.status_code == 302
    assert response.url == "/private/?tab=2"
    assert signed_in(alice)
    assert parse_qs(urlsplit(cas_http.calls[-1].request.url).query)["service"] == [service]


def test_the_cas_session_gone_ends_the_session_with_the_recheck_sender(alice) -> None:
    senders: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        senders.append(sender)

    cas_user_logout.connect(receiver)
    try:
        response = back_from_cas(alice, service_of(to_cas(alice)), None)
    finally:
        cas_user_logout.disconnect(receiver)
    assert response.url == "/private/?tab=2"
    assert senders == ["recheck"]
    assert not signed_in(alice)


def test_signed_in_at_cas_as_another_user_ends_the_session(alice, cas_http) -> None:
    cas_http.replace("GET", VALIDATE, body=success_xml("mallory"))
    back_from_cas(alice, service_of(to_cas(alice)), "ST-3-other")
    assert not signed_in(alice)


def test_cas_unreachable_the_session_goes_on_with_a_log_line(alice, cas_http, caplog) -> None:
    caplog.set_level(logging.WARNING)
    cas_http.replace("GET", VALIDATE, body=requests.ConnectionError("CAS is down"))
    back_from_cas(alice, service_of(to_cas(alice)), "ST-4-down")
    assert signed_in(alice)
    assert "session goes on" in caplog.text


def test_a_check_under_way_is_not_started_again(alice) -> None:
    to_cas(alice)
    assert alice.get("/private/", **HTML).status_code == 200


def test_a_return_that_is_not_this_sessions_check_just_drops_the_mark(alice, cas_http) -> None:
    response = alice.get(f"/private/?{MARK}=forged&ticket=ST-5-x", **HTML)
    assert response.url == "/private/"
    assert not cas_http.calls[1:]


def test_before_the_interval_nothing_happens(alice) -> None:
    session = alice.session
    session[CHECKED_KEY] = time.time()
    session.save()
    assert alice.get("/private/", **HTML).status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_ACCEPT": "application/json"},
        {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", **HTML},
        {"HTTP_SEC_FETCH_MODE": "cors", **HTML},
        {"HTTP_ACCEPT": "image/png"},
    ],
)
def test_api_xhr_and_subresource_requests_are_never_sent_to_cas(alice, extra) -> None:
    assert alice.get("/private/", **extra).status_code == 200


def test_a_post_is_never_sent_to_cas(alice) -> None:
    assert alice.post("/").status_code != 302


def test_a_session_not_signed_in_through_cas_is_not_rechecked(client) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("bob"))
    assert client.get("/private/", **HTML).status_code == 200


def test_under_asgi_too(alice) -> None:
    async_client = AsyncClient()
    async_client.cookies = alice.cookies
    response = async_to_sync(async_client.get)("/private/", headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.url.startswith(CAS + "login?")


def test_the_interval_without_its_middleware_is_an_error(settings) -> None:
    from django_cas_ng.checks import check_session_life

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    assert "django_cas_ng.E051" in [message.id for message in check_session_life()]


def test_a_configuration_error_skips_the_check_with_an_error_line_not_a_500(
    alice, monkeypatch, caplog
) -> None:
    from django_cas_ng.exceptions import UnpinnedHost

    def unpinned(*args: Any, **kwargs: Any) -> Any:
        raise UnpinnedHost("no setting pins this host")

    monkeypatch.setattr("django_cas_ng.recheck.get_cas_client", unpinned)
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        response = alice.get("/private/", **HTML)
    assert response.status_code == 200
    assert "not the CAS server" in caplog.text
