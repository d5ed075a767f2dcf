"""``CASMiddleware``: sends admin sign-ins (and Django's own login/logout views) through CAS.

It runs in the server's mode, sync under WSGI and async under ASGI, so no request pays a
thread hop for it; ``CASLoginRequiredMiddleware`` is Django's ``LoginRequiredMiddleware`` that
answers API clients with a 401 instead of a redirect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, cast
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import LoginView as DjangoLoginView
from django.contrib.auth.views import LogoutView as DjangoLogoutView
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _

from ._internal import identities, responses
from ._internal.sessions import follow_session_key, session_key_moved
from .conf import cas_settings
from .views import CallbackView, LoginView, LogoutView

__all__ = ["CASLoginRequiredMiddleware", "CASMiddleware", "Route", "follow_session_key"]

Response = HttpResponseBase
ViewFunc = Callable[..., Any]


class Route(Enum):
    """What :meth:`CASMiddleware.process_view` does with a view."""

    #: Answer with the response that comes with it, or let the view run when that is None.
    ANSWER = "answer"
    #: Run our view (that comes with it) instead: Django's own login or logout view.
    REPLACE = "replace"
    #: An admin page: staff pass, others are refused.
    GUARD = "guard"


class CASMiddleware:
    """Redirects unauthenticated admin requests to CAS and replaces Django's login/logout views.

    Sync and async capable: Django builds it in the server's mode. Each hook is a plain method
    (``process_request``, ``process_view``, ``process_response``) with an async twin
    (``aprocess_request``, ``aprocess_view``, ``aprocess_response``) used under ASGI. The
    built-in hooks never block, so their twins run them on the event loop; a hook a subclass
    overrides runs in a worker thread under ASGI, since it may block. A built-in hook that
    needs the database must come with its own async twin.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        self._custom_request_hook = self._overrides("process_request")
        self._custom_response_hook = self._overrides("process_response")
        if self.is_async:
            markcoroutinefunction(self)
            # Django adapts process_view to the handler's mode: give it a coroutine, unless a
            # subclass overrides it (Django then runs the override in a thread).
            if type(self).process_view is CASMiddleware.process_view:
                self.process_view = self.aprocess_view  # type: ignore[method-assign,assignment]

    # --- the request/response cycle -------------------------------------------------------

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        response = self.process_request(request)
        if response is None:
            response = self.get_response(request)
        return self.process_response(request, response)

    async def __acall__(self, request: HttpRequest) -> Response:
        response = await self.aprocess_request(request)
        if response is None:
            response = await cast(Awaitable[Response], self.get_response(request))
        return await self.aprocess_response(request, response)

    def _overrides(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(CASMiddleware, name)

    # --- the hooks ----------------------------------------------------------------------------

    def process_request(self, request: HttpRequest) -> Response | None:
        """Refuse to run without ``AuthenticationMiddleware`` before this one."""
        if not hasattr(request, "user"):
            raise ImproperlyConfigured(
                "CASMiddleware needs django.contrib.auth.middleware.AuthenticationMiddleware "
                "before it in MIDDLEWARE."
            )
        identities.bind_request_user(request)
        return None

    def process_view(
        self,
        request: HttpRequest,
        view_func: ViewFunc,
        view_args: Any,
        view_kwargs: Any,
    ) -> Response | None:
        """Take over Django's login/logout views and guard the admin (sync mode)."""
        step, target = self.route(request, view_func)
        if step is Route.REPLACE:
            return cast(Response, target(request))
        if step is Route.GUARD:
            user = request.user
            return (
                None
                if user.is_authenticated and user.is_staff
                else self.refuse_admin(request, user)
            )
        return cast("Response | None", target)

    async def aprocess_view(
        self,
        request: HttpRequest,
        view_func: ViewFunc,
        view_args: Any,
        view_kwargs: Any,
    ) -> Response | None:
        """:meth:`process_view` under ASGI: the user from ``auser()``, blocking work in a thread."""
        step, target = self.route(request, view_func)
        if step is Route.REPLACE:
            return await sync_to_async(target)(request)
        if step is Route.GUARD:
            user = await request.auser()
            if user.is_authenticated and user.is_staff:
                return None
            return await sync_to_async(self.refuse_admin)(request, user)
        return cast("Response | None", target)

    def route(self, request: HttpRequest, view_func: ViewFunc) -> tuple[Route, Any]:
        """What ``process_view`` does (a :class:`Route` and what comes with it), decided without
        the user or blocking work, for both modes."""
        view_class = _view_class(view_func)
        if view_class is not None:
            if issubclass(view_class, _CAS_VIEWS):
                return Route.ANSWER, None
            replacement = self.replacement_view(view_class)
            if replacement is not None:
                return Route.REPLACE, replacement
        if not self.is_admin_view(request, view_func):
            return Route.ANSWER, None
        if view_func.__name__ == "logout":
            return Route.ANSWER, HttpResponseRedirect(reverse(cas_settings.logout_url_name))
        return Route.GUARD, None

    def process_response(self, request: HttpRequest, response: Response) -> Response:
        """Keep the Single Logout mapping on the session's current key (after ``cycle_key``)."""
        if session_key_moved(request):
            follow_session_key(request)
        return response

    async def aprocess_request(self, request: HttpRequest) -> Response | None:
        """:meth:`process_request` under ASGI."""
        if self._custom_request_hook:
            return await sync_to_async(self.process_request)(request)
        return self.process_request(request)

    async def aprocess_response(self, request: HttpRequest, response: Response) -> Response:
        """:meth:`process_response` under ASGI."""
        if self._custom_response_hook:
            return await sync_to_async(self.process_response)(request, response)
        if session_key_moved(request):
            await sync_to_async(follow_session_key)(request)
        return response

    # --- the decisions --------------------------------------------------------------------

    def replacement_view(self, view_class: type) -> ViewFunc | None:
        """Our view in place of Django's own login/logout view class; None for other classes
        (our own login, logout and callback views are never intercepted)."""
        if view_class is DjangoLoginView:
            return LoginView.as_view()
        if view_class is DjangoLogoutView:
            return LogoutView.as_view()
        return None

    def is_admin_view(self, request: HttpRequest, view_func: ViewFunc) -> bool:
        """Is this an admin page: under ``CAS_ADMIN_PREFIX``, else a ``django.contrib.admin``
        view; never the CAS login view itself."""
        if not cas_settings.admin_redirect:
            return False
        prefix = cas_settings.admin_prefix
        if prefix:
            if not request.path.startswith(prefix):
                return False
        elif not view_func.__module__.startswith("django.contrib.admin."):
            return False
        return True

    def refuse_admin(self, request: HttpRequest, user: Any) -> Response | None:
        """A non-staff user gets 403; an anonymous one goes to sign in (API clients: 401)."""
        if user.is_authenticated:
            return responses.permission_denied(request, _("You do not have staff privileges."))
        login_path = reverse(cas_settings.login_url_name)
        if request.path == login_path:
            return None
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return responses.sign_in_required(request, f"{login_path}?{query}")


_CAS_VIEWS = (LoginView, LogoutView, CallbackView)


def _view_class(view_func: ViewFunc) -> type | None:
    """The class behind a view function made by ``as_view()`` (or the class itself)."""
    if isinstance(view_func, type):
        return view_func
    view_class = getattr(view_func, "view_class", None)
    return view_class if isinstance(view_class, type) else None


class CASLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's ``LoginRequiredMiddleware`` that answers API clients with a 401 and the CAS
    login URL, and browsers with the usual redirect."""

    # django-stubs says a redirect; an API client gets the 401 JSON answer instead.
    def handle_no_permission(  # type: ignore[override]
        self, request: HttpRequest, view_func: ViewFunc
    ) -> Response:
        redirect = super().handle_no_permission(request, view_func)
        return responses.sign_in_required(request, redirect["Location"])
