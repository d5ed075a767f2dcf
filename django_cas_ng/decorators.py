"""View decorators that answer 403 to signed-in users who fail a test, instead of sending them
back to the login page (which, with CAS single sign-on, would loop)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url

__all__ = ["login_required", "permission_required", "proxy_ticket_required", "user_passes_test"]

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def user_passes_test(
    test_func: Callable[[Any], bool],
    login_url: str | None = None,
    redirect_field_name: str = REDIRECT_FIELD_NAME,
) -> Callable[[View], View]:
    """Run the view when ``test_func(user)``; else 403 if signed in, else redirect to login."""

    def decorator(view_func: View) -> View:
        @wraps(view_func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if test_func(request.user):
                return view_func(request, *args, **kwargs)
            if request.user.is_authenticated:
                raise PermissionDenied
            target = resolve_url(login_url or settings.LOGIN_URL)
            query = f"{redirect_field_name}={quote(request.get_full_path())}"
            separator = "&" if "?" in target else "?"
            return HttpResponseRedirect(f"{target}{separator}{query}")

        return wrapper  # type: ignore[return-value]

    return decorator


def login_required(
    function: View | None = None,
    redirect_field_name: str = REDIRECT_FIELD_NAME,
    login_url: str | None = None,
) -> Any:
    """Like Django's ``login_required``: redirect anonymous users to the login page."""
    decorator = user_passes_test(
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


def proxy_ticket_required(
    view: View | None = None, *, service: str | None = None, realm: str = "api"
) -> Any:
    """Accept only requests presenting a CAS ticket whose proxy chain is trusted (else 401).

    See :func:`django_cas_ng.proxy_auth.proxy_ticket_required`.
    """
    from .proxy_auth import proxy_ticket_required as decorate

    return decorate(view, service=service, realm=realm)
