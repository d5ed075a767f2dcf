"""``CASMiddleware``: sends admin sign-ins (and Django's own login/logout views) through CAS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView as DjangoLoginView
from django.contrib.auth.views import LogoutView as DjangoLogoutView
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from .conf import cas_settings
from .sessions import follow_session_key
from .views import CallbackView, LoginView, LogoutView

__all__ = ["CASMiddleware"]


class CASMiddleware(MiddlewareMixin):
    """Redirects unauthenticated admin requests to CAS and replaces Django's login/logout views."""

    def process_request(self, request: HttpRequest) -> None:
        if not hasattr(request, "user"):
            raise ImproperlyConfigured(
                "CASMiddleware needs django.contrib.auth.middleware.AuthenticationMiddleware "
                "before it in MIDDLEWARE."
            )

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        view_class = (
            view_func if isinstance(view_func, type) else getattr(view_func, "view_class", None)
        )
        if isinstance(view_class, type):
            if issubclass(view_class, (LoginView, LogoutView, CallbackView)):
                return None
            if view_class is DjangoLoginView:
                return LoginView.as_view()(request)
            if view_class is DjangoLogoutView:
                return LogoutView.as_view()(request)
        if not cas_settings.admin_redirect:
            return None
        prefix = cas_settings.admin_prefix
        if prefix:
            if not request.path.startswith(prefix):
                return None
        elif not view_func.__module__.startswith("django.contrib.admin."):
            return None
        if view_func.__name__ == "logout":
            return HttpResponseRedirect(reverse(cas_settings.logout_url_name))
        if request.user.is_authenticated:
            if request.user.is_staff:
                return None
            raise PermissionDenied(_("You do not have staff privileges."))
        login_path = reverse(cas_settings.login_url_name)
        if request.path == login_path:
            return None
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(f"{login_path}?{query}")

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """Keep the Single Logout mapping on the session's current key (after ``cycle_key``)."""
        follow_session_key(request)
        return response
