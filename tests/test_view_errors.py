"""Errors become responses in one overridable place, ``CASErrorsMixin.handle_exception``,
whether the view's handlers are sync or async."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client
from django.urls import path

from django_cas_ng import views
from django_cas_ng.exceptions import CASNGError, CASUnavailable, TicketValidationError

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_view_errors")]


class TeapotLoginView(views.LoginView):
    """A site's own answer to an unreachable CAS server."""

    def handle_exception(self, request: HttpRequest, exc: CASNGError) -> HttpResponse:
        if isinstance(exc, CASUnavailable):
            return HttpResponse("try later", status=418)
        return super().handle_exception(request, exc)

    def login(self, request: HttpRequest) -> HttpResponse:
        raise CASUnavailable("down")


class AsyncCallbackView(views.CallbackView):
    """A subclass whose handlers are coroutines."""

    async def get(self, request: HttpRequest) -> HttpResponse:
        raise CASUnavailable("down")

    async def post(self, request: HttpRequest) -> HttpResponse:
        raise TicketValidationError("refused")


class AsyncLogoutView(views.LogoutView):
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("bye")

    async def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("bye")


class BrokenView(views.CallbackView):
    def get(self, request: HttpRequest) -> HttpResponse:
        raise ValueError("not ours")


urlpatterns = [
    path("teapot/", TeapotLoginView.as_view()),
    path("async-callback/", AsyncCallbackView.as_view()),
    path("async-logout/", AsyncLogoutView.as_view()),
    path("broken/", BrokenView.as_view()),
]


def test_handle_exception_is_the_override_point(client: Client) -> None:
    response = client.get("/teapot/")
    assert (response.status_code, response.content) == (418, b"try later")


def test_async_handler_errors_become_the_same_responses(client: Client) -> None:
    assert client.get("/async-callback/").status_code == 503
    assert client.post("/async-callback/").status_code == 403


def test_async_handler_errors_under_an_async_client() -> None:
    response = async_to_sync(AsyncClient().get)("/async-callback/")
    assert response.status_code == 503


def test_async_logout_handler_keeps_never_cache() -> None:
    response = async_to_sync(AsyncClient().get)(
        "/async-logout/", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.content == b"bye"
    assert "no-cache" in response["Cache-Control"]


def test_async_logout_view_asks_to_confirm_a_get_from_elsewhere() -> None:
    response = async_to_sync(AsyncClient().get)(
        "/async-logout/", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert "no-cache" in response["Cache-Control"]


def test_login_and_logout_responses_are_never_cached(client: Client) -> None:
    assert "no-cache" in client.get("/teapot/")["Cache-Control"]


def test_errors_that_are_not_ours_propagate(client: Client) -> None:
    with pytest.raises(ValueError, match="not ours"):
        client.get("/broken/")


def _fixed_clock(monkeypatch) -> None:
    monkeypatch.setattr("time.time", lambda: 1_767_225_600.0)


@pytest.mark.parametrize(
    "preset",
    [{}, {"Cache-Control": "public, max-age=60"}, {"Expires": "Thu, 01 Jan 2026 00:00:00 GMT"}],
    ids=["fresh", "cache-control-set", "expires-set"],
)
def test_never_cache_headers_are_the_ones_django_sets(monkeypatch, preset) -> None:
    from django.utils.cache import add_never_cache_headers

    from django_cas_ng._internal.responses import mark_never_cache

    _fixed_clock(monkeypatch)
    ours, django_s = HttpResponse("x", headers=preset), HttpResponse("x", headers=preset)
    mark_never_cache(ours)
    add_never_cache_headers(django_s)
    assert list(ours.headers.items()) == list(django_s.headers.items())


def test_a_login_response_carries_djangos_never_cache_headers(client: Client, monkeypatch) -> None:
    from django.utils.cache import add_never_cache_headers

    _fixed_clock(monkeypatch)
    expected = HttpResponse()
    add_never_cache_headers(expected)
    response = client.get("/teapot/")
    assert response["Cache-Control"] == expected["Cache-Control"]
    assert response["Expires"] == expected["Expires"]
