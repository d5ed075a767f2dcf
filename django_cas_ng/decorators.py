"""View decorators that answer 403 to signed-in users who fail a test, instead of sending them
back to the login page (which, with CAS single sign-on, would loop). Sync and async views; API
clients get JSON (401 naming the CAS login URL, or 403) instead of a redirect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast, overload
from urllib.parse import quote

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url

from ._internal import responses

__all__ = [
    "login_required",
    "permission_required",
    "proxy_ticket_required",
    "user_passes_test",
]

View = TypeVar("View", bound=Callable[..., Any])
#: ``test_func(user)``: plain or ``async``, truthy when the user may see the view.
UserTest = Callable[[Any], "bool | Awaitable[bool]"]
SyncUserTest = Callable[[Any], bool]
AsyncUserTest = Callable[[Any], Awaitable[bool]]


def _refuse(
    request: HttpRequest, user: Any, login_url: str | None, redirect_field_name: str
) -> HttpResponseBase:
    """403 for a signed-in user; for an anonymous one, the login page with ``next``.

    API clients (:func:`django_cas_ng.api.is_api_request`) get a JSON 403, or a 401 naming the
    CAS login URL, instead.
    """
    if user.is_authenticated:
        return responses.permission_denied(request)
    target = resolve_url(login_url or settings.LOGIN_URL)
    query = f"{redirect_field_name}={quote(request.get_full_path())}"
    separator = "&" if "?" in target else "?"
    return responses.sign_in_required(request, f"{target}{separator}{query}")


def _denied(request: HttpRequest, error: PermissionDenied) -> HttpResponseBase:
    """A test function refused with PermissionDenied: JSON 403 for API clients, else re-raise."""
    if responses.is_api_request(request):
        return responses.forbidden(request, str(error) or None)
    raise error


def user_passes_test(
    test_func: UserTest,
    login_url: str | None = None,
    redirect_field_name: str = REDIRECT_FIELD_NAME,
) -> Callable[[View], View]:
    """Run the view when ``test_func(user)``; else 403 if signed in, else redirect to login."""

    def decorator(view_func: View) -> View:
        if iscoroutinefunction(view_func):
            return _async_guard(view_func, test_func, login_url, redirect_field_name)
        return _sync_guard(view_func, test_func, login_url, redirect_field_name)

    return decorator


def _async_guard(
    view_func: View, test_func: UserTest, login_url: str | None, redirect_field_name: str
) -> View:
    """``view_func`` (async) behind ``test_func``, the user loaded without blocking the loop."""

    async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        user = await request.auser()
        try:
            if iscoroutinefunction(test_func):
                passed = await cast(AsyncUserTest, test_func)(user)
            else:
                passed = await sync_to_async(cast(SyncUserTest, test_func))(user)
        except PermissionDenied as error:
            return await sync_to_async(_denied)(request, error)
        if passed:
            return await view_func(request, *args, **kwargs)
        # Off the event loop: the 401 may write the session (CAS_STORE_NEXT).
        return await sync_to_async(_refuse)(request, user, login_url, redirect_field_name)

    return cast(View, wraps(view_func)(async_wrapper))


def _sync_guard(
    view_func: View, test_func: UserTest, login_url: str | None, redirect_field_name: str
) -> View:
    """``view_func`` (sync) behind ``test_func``; an async test runs through ``async_to_sync``."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        try:
            if iscoroutinefunction(test_func):
                user.is_authenticated  # noqa: B018 -- load the lazy user here, not in the loop
                passed = async_to_sync(cast(AsyncUserTest, test_func))(user)
            else:
                passed = cast(SyncUserTest, test_func)(user)
        except PermissionDenied as error:
            return _denied(request, error)
        if passed:
            return cast(HttpResponseBase, view_func(request, *args, **kwargs))
        return _refuse(request, user, login_url, redirect_field_name)

    return cast(View, wraps(view_func)(wrapper))


@overload
def login_required(
    function: View, redirect_field_name: str = ..., login_url: str | None = ...
) -> View: ...


@overload
def login_required(
    function: None = None, redirect_field_name: str = ..., login_url: str | None = ...
) -> Callable[[View], View]: ...


def login_required(
    function: View | None = None,
    redirect_field_name: str = REDIRECT_FIELD_NAME,
    login_url: str | None = None,
) -> View | Callable[[View], View]:
    """Like Django's ``login_required``: redirect anonymous users to the login page."""
    decorator: Callable[[View], View] = user_passes_test(
        lambda user: bool(user.is_authenticated),
        login_url=login_url,
        redirect_field_name=redirect_field_name,
    )
    return decorator(function) if function is not None else decorator


def permission_required(
    perm: str | list[str] | tuple[str, ...],
    login_url: str | None = None,
    raise_exception: bool = False,
) -> Callable[[View], View]:
    """Require permission(s): 403 for signed-in users without them, login for anonymous ones
    (or 403 for them too with ``raise_exception``, as in Django)."""
    perms = (perm,) if isinstance(perm, str) else tuple(perm)

    def check_perms(user: Any) -> bool:
        if user.has_perms(perms):
            return True
        if raise_exception:
            raise PermissionDenied
        return False

    return user_passes_test(check_perms, login_url=login_url)


@overload
def proxy_ticket_required(view: View, *, service: str | None = ..., realm: str = ...) -> View: ...


@overload
def proxy_ticket_required(
    view: None = None, *, service: str | None = ..., realm: str = ...
) -> Callable[[View], View]: ...


def proxy_ticket_required(
    view: View | None = None, *, service: str | None = None, realm: str = "api"
) -> View | Callable[[View], View]:
    """Accept only requests presenting a CAS ticket whose proxy chain is trusted (else 401).

    See :func:`django_cas_ng._internal.presented.proxy_ticket_required`.
    """
    from ._internal.presented import proxy_ticket_required as decorate

    return cast("View | Callable[[View], View]", decorate(view, service=service, realm=realm))
