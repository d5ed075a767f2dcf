"""Bench-only prototype of an async-capable CASMiddleware, to measure what that change saves.

Under ASGI Django runs each hook of a sync-only middleware (``MiddlewareMixin``) through
``sync_to_async``: two thread hops per request for CASMiddleware (process_request and
process_view). This subclass decides on the event loop whether the view is one the middleware
acts on (Django's or our login/logout view, or an admin view); only then does it hop to a thread
and run the real ``process_view``. It mirrors the package's checks for the measurement only; the
package itself is to get the real change (see docs/asgi.rst).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth.views import LoginView as DjangoLoginView
from django.contrib.auth.views import LogoutView as DjangoLogoutView

from django_cas_ng.conf import cas_settings
from django_cas_ng.middleware import CASMiddleware
from django_cas_ng.views import LoginView, LogoutView

_TAKEN_OVER = (DjangoLoginView, DjangoLogoutView, LoginView, LogoutView)


class AsyncCapableCASMiddleware(CASMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        if iscoroutinefunction(get_response):
            self.process_view = self._aprocess_view  # type: ignore[method-assign]

    async def __acall__(self, request: Any) -> Any:
        self.process_request(request)  # an attribute check, no I/O
        return await self.get_response(request)

    async def _aprocess_view(self, request: Any, view_func: Any, args: Any, kwargs: Any) -> Any:
        if not self._acts_on(request, view_func):
            return None
        hop = sync_to_async(CASMiddleware.process_view, thread_sensitive=True)
        return await hop(self, request, view_func, args, kwargs)

    @staticmethod
    def _acts_on(request: Any, view_func: Any) -> bool:
        if getattr(view_func, "view_class", None) in _TAKEN_OVER:
            return True
        if not cas_settings.admin_redirect:
            return False
        prefix = cas_settings.admin_prefix
        if prefix:
            return bool(request.path.startswith(prefix))
        return bool(view_func.__module__.startswith("django.contrib.admin."))
