"""CASMiddleware under ASGI: it runs in async mode without a thread hop of its own, and answers
exactly as it does under WSGI. Uses the URLconf of tests.test_middleware."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref import sync
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, RequestFactory

from django_cas_ng.middleware import CASMiddleware
from tests.conftest import CAS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_middleware")]

User = get_user_model()


def sync_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse("through")


async def async_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse("through")


@pytest.fixture
def thread_hops(monkeypatch) -> Iterator[list[Any]]:
    """Every callable handed to ``sync_to_async`` while the test runs."""
    hops: list[Any] = []
    original = sync.SyncToAsync.__init__

    def counting(self: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        hops.append(func)
        original(self, func, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__init__", counting)
    yield hops


def hops_into_cas_middleware(hops: list[Any]) -> list[Any]:
    return [
        func
        for func in hops
        if isinstance(func, CASMiddleware)
        or isinstance(getattr(func, "__self__", None), CASMiddleware)
    ]


def aget(path: str, user: Any = None, **headers: Any) -> Any:
    client = AsyncClient()
    if user is not None:
        client.force_login(user)
    return async_to_sync(client.get)(path, **headers)


# --- the mode ---------------------------------------------------------------------------------


def test_middleware_declares_both_modes() -> None:
    assert CASMiddleware.sync_capable and CASMiddleware.async_capable


def test_built_on_an_async_handler_it_is_a_coroutine_function() -> None:
    middleware = CASMiddleware(async_response)
    assert iscoroutinefunction(middleware)
    assert iscoroutinefunction(middleware.process_view)


def test_built_on_a_sync_handler_it_stays_sync() -> None:
    middleware = CASMiddleware(sync_response)
    assert not iscoroutinefunction(middleware)
    assert not iscoroutinefunction(middleware.process_view)


def test_async_call_passes_the_request_through(rf: RequestFactory) -> None:
    request = rf.get("/")
    request.user = AnonymousUser()
    response = async_to_sync(CASMiddleware(async_response))(request)
    assert response.content == b"through"


def test_no_thread_hop_for_the_middleware_under_asgi(thread_hops, settings) -> None:
    settings.CAS_ADMIN_PREFIX = "/backoffice/"
    assert aget("/elsewhere/").content == b"page"
    assert hops_into_cas_middleware(thread_hops) == []


def test_no_thread_hop_for_the_middleware_on_admin_pages_for_staff(thread_hops, settings) -> None:
    settings.CAS_ADMIN_PREFIX = "/backoffice/"
    staff = User.objects.create(username="root", is_staff=True)
    assert aget("/backoffice/", staff).content == b"page"
    assert hops_into_cas_middleware(thread_hops) == []


# --- the same answers as under WSGI -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "prefix", "who"),
    [
        ("/backoffice/?tab=users", "/backoffice/", None),
        ("/backoffice/", "/backoffice/", "member"),
        ("/backoffice/", "/backoffice/", "staff"),
        ("/backoffice/logout/", "/backoffice/", "staff"),
        ("/elsewhere/", "/backoffice/", None),
        ("/admin/", None, None),
        ("/admin/", None, "member"),
        ("/admin/logout/", None, "staff"),
        ("/accounts/login/?next=/backoffice/", "/accounts/", None),
    ],
)
def test_async_answers_match_sync_answers(
    settings, path: str, prefix: str | None, who: Any
) -> None:
    settings.CAS_ADMIN_PREFIX = prefix
    user = None
    if who is not None:
        user = User.objects.create(username=who, is_staff=who == "staff")
    client = Client()
    if user is not None:
        client.force_login(user)
    sync_answer = client.get(path)
    async_answer = aget(path, user)
    assert async_answer.status_code == sync_answer.status_code
    assert async_answer.get("Location") == sync_answer.get("Location")
    assert async_answer.content == sync_answer.content


def test_djangos_login_view_is_replaced_under_asgi() -> None:
    response = aget("/django-login/")
    assert response.status_code == 302
    assert response.url.startswith(CAS + "login?")


def test_djangos_logout_view_is_replaced_under_asgi() -> None:
    client = AsyncClient()
    client.force_login(User.objects.create(username="root"))
    response = async_to_sync(client.get)(
        "/django-logout/", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.url.startswith(CAS + "logout")


# --- subclasses ---------------------------------------------------------------------------------


class Counting(CASMiddleware):
    seen: list[str] = []

    def process_request(self, request: HttpRequest) -> None:
        self.seen.append("request")
        return super().process_request(request)

    def process_view(self, request: HttpRequest, *args: Any) -> Any:
        self.seen.append("view")
        return super().process_view(request, *args)

    def process_response(self, request: HttpRequest, response: Any) -> Any:
        self.seen.append("response")
        response["X-Seen"] = "yes"
        return response


def test_an_overridden_process_view_is_left_sync_for_django_to_adapt() -> None:
    assert not iscoroutinefunction(Counting(async_response).process_view)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_overridden_hooks_run_in_both_modes(settings, mode: str) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:-1],
        "tests.test_middleware_async.Counting",
    ]
    Counting.seen = []
    response = Client().get("/elsewhere/") if mode == "sync" else aget("/elsewhere/")
    assert response["X-Seen"] == "yes"
    assert Counting.seen == ["request", "view", "response"]
