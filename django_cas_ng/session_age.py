"""A maximum age from the CAS sign-in: a session stays signed in at most so long after the CAS
authentication it came from (``authenticationDate`` when released, else the validation time),
for every page (``CAS_SESSION_MAX_AGE`` with :class:`SessionMaxAgeMiddleware`) or per view
(:func:`cas_max_age`, :class:`CASMaxAgeMixin`). Past it the session ends: a browser navigation
goes through CAS again, an API call gets the 401 naming the login URL."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin

from ._internal import observe, responses
from ._internal.responses import answered, gate, gated_dispatch
from ._internal.sessions import sign_out
from .conf import cas_settings
from .stepup import StepUpView, authentication_timestamp
from .views import RENEW_PARAM, CallbackView, LoginView, LogoutView

__all__ = [
    "CASMaxAgeMixin",
    "SessionMaxAgeMiddleware",
    "cas_max_age",
    "end_session",
    "is_cas_view",
    "max_age_response",
    "record_sign_in",
]

#: The session's record of its CAS sign-in: ``{"at": epoch, "validated": epoch, "dated": bool}``.
SESSION_KEY = "_cas_signed_in"
#: A session this young (seconds since validation) is never ended for its age: a CAS server
#: that ignores ``renew`` would otherwise send the browser round in circles.
GRACE = 60
#: ``cas_user_logout`` sender when a session ends past its maximum age.
SENDER = "max_age"


def record_sign_in(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Receiver of ``cas_user_authenticated``: note in the session when the CAS sign-in was."""
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    at, dated = authentication_time(kwargs.get("attributes") or {}, now)
    request.session[SESSION_KEY] = {"at": at, "validated": now, "dated": dated}


def authentication_time(attributes: Mapping[str, Any], now: float) -> tuple[float, bool]:
    """The earliest ``authenticationDate`` released (never after ``now``), and whether one was;
    else ``(now, False)``."""
    value = attributes.get("authenticationDate")
    values = value if isinstance(value, (list, tuple)) else [value] if value else []
    try:
        at = min(authentication_timestamp(str(item)) for item in values)
    except ValueError:
        return now, False
    return min(at, now), True


def _record(request: HttpRequest) -> dict[str, Any] | None:
    record = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(record, dict) or not {"at", "validated"} <= record.keys():
        return None
    return record


def max_age_response(request: HttpRequest, max_age: float) -> HttpResponseBase | None:
    """None while the session's CAS sign-in is at most ``max_age`` seconds old (or the session
    has no CAS sign-in); else end the session and answer as :func:`expired_response` does."""
    record = _record(request)
    if record is None or not request.user.is_authenticated:
        return None
    now = time.time()
    if now - float(record["at"]) <= max_age or now - float(record["validated"]) < GRACE:
        return None
    # Dated by the CAS server: its SSO session is too old, and would bring back the same date.
    renew = bool(record.get("dated"))
    observe.login.info(
        "Ended the session of %s: its CAS sign-in is older than %d seconds%s",
        request.user.get_username(),
        max_age,
        "; asking CAS for credentials again" if renew else "",
    )
    end_session(request, SENDER)
    return expired_response(request, renew)


def end_session(request: HttpRequest, sender: str) -> None:
    """Sign the session out as the logout view does (``cas_user_logout`` from ``sender``)."""
    sign_out(request, sender)


def expired_response(request: HttpRequest, renew: bool = False) -> HttpResponseBase | None:
    """After the session ended: API calls get the 401 naming the CAS login URL, a browser GET
    goes through the login view (with ``renew``: credentials again); other requests go on
    signed out."""
    if request.method not in ("GET", "HEAD") and not responses.is_api_request(request):
        return None
    params = {REDIRECT_FIELD_NAME: request.get_full_path()}
    if renew:
        params[RENEW_PARAM] = "true"
    login = reverse(cas_settings.login_url_name)
    return responses.sign_in_required(request, f"{login}?{urlencode(params)}", renew=renew)


def is_cas_view(view_func: Callable[..., Any]) -> bool:
    """True for this package's own views (login, logout, callback, step-up): never guarded."""
    view_class = getattr(view_func, "view_class", None)
    return isinstance(view_class, type) and issubclass(
        view_class, (LoginView, LogoutView, CallbackView, StepUpView)
    )


class SessionMaxAgeMiddleware(MiddlewareMixin):
    """Ends sessions whose CAS sign-in is older than ``CAS_SESSION_MAX_AGE`` (sync and async;
    under ASGI the check runs in a worker thread, as it reads the session)."""

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], *args: Any
    ) -> HttpResponseBase | None:
        max_age = cas_settings.session_max_age
        if max_age is None or is_cas_view(view_func):
            return None
        return answered(partial(max_age_response, max_age=max_age))(request)


def cas_max_age(
    view: Callable[..., Any] | None = None,
    *,
    seconds: float = 0,
    minutes: float = 0,
    hours: float = 0,
) -> Any:
    """Run the view only while the session's CAS sign-in is recent enough, e.g.
    ``@cas_max_age(hours=8)`` (sync and async views)."""
    max_age = seconds + 60 * minutes + 3600 * hours
    if max_age <= 0:
        raise ValueError("cas_max_age needs a positive seconds, minutes or hours")

    decorator = gate(partial(max_age_response, max_age=max_age))
    return decorator(view) if view is not None else decorator


class CASMaxAgeMixin:
    """Class-based view mixin: the view's handlers run only while the session's CAS sign-in is
    at most ``cas_max_age`` seconds old."""

    cas_max_age: float = 8 * 3600

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        parent = super()
        return gated_dispatch(
            self,
            request,
            partial(max_age_response, max_age=self.cas_max_age),
            lambda: parent.dispatch(request, *args, **kwargs),  # type: ignore[attr-defined]
        )
