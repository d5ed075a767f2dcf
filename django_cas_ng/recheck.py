"""The silent re-check: every ``CAS_RECHECK_INTERVAL`` seconds, a browser navigation of a
signed-in user goes to CAS with ``gateway=true`` and comes back. Signed in at CAS as the same
user, the session goes on; CAS session gone (or another user), the session ends
(``cas_user_logout`` from ``"recheck"``) and the user lands signed out. CAS unreachable, the
session goes on. The peer of mozilla-django-oidc's ``SessionRefresh``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.utils.http import escape_leading_slashes

from . import api
from ._internal import observe, replay, slo
from ._internal.observe import measure_validation
from ._internal.sessions import map_login, remember_ticket
from ._internal.tickets import is_well_formed_ticket
from ._internal.urls import issuing_server_url, public_url
from .client import get_cas_client, validate_ticket
from .conf import cas_settings
from .exceptions import CASConfigurationError, CASUnavailable, TicketValidationError
from .session_age import SESSION_KEY as SIGNED_IN_KEY
from .session_age import end_session, is_cas_view
from .stepup import is_signed_in_user
from .views import CallbackView

__all__ = ["SessionRecheckMiddleware", "is_navigation", "recheck_response"]

#: When the session was last checked at CAS (epoch seconds).
CHECKED_KEY = "_cas_rechecked"
#: The check under way: ``{"nonce", "service", "next"}``.
PENDING_KEY = "_cas_recheck"
#: Query parameter marking the return from CAS, carrying the pending check's nonce.
MARK = "cas_recheck"
#: ``cas_user_logout`` sender when the re-check ends a session.
SENDER = "recheck"
#: Serves a back-channel logout request as the callback view does (CSRF-exempt, its errors
#: answered): one naming a re-check ticket arrives at the page the ticket was issued for.
_logout_requests = CallbackView.as_view()


def is_navigation(request: HttpRequest) -> bool:
    """A browser GET for an HTML page: not a POST, an XHR or an API call, nor a sub-resource."""
    if request.method != "GET" or api.is_api_request(request):
        return False
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode is not None:
        return mode == "navigate"
    return "text/html" in request.headers.get("Accept", "")


def _due(request: HttpRequest, interval: float) -> bool:
    """A CAS session whose last check is ``interval`` seconds old or more."""
    if not request.user.is_authenticated:
        return False
    record = request.session.get(SIGNED_IN_KEY)
    if not isinstance(record, dict):
        return False  # not signed in through CAS
    last = request.session.get(CHECKED_KEY, record.get("validated", 0))
    try:
        return time.time() - float(last) >= interval
    except (TypeError, ValueError):
        return True


def _clean_path(request: HttpRequest) -> str:
    """This request's path and query without the mark and the ticket."""
    query = request.GET.copy()
    for name in (MARK, "ticket"):
        query.pop(name, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def send_to_cas(request: HttpRequest) -> HttpResponseBase:
    """Go to CAS with ``gateway=true``, coming back to this page with the mark. The check
    counts as done now, so a return that never comes cannot start another one at once."""
    nonce = secrets.token_urlsafe(12)
    back = _clean_path(request)
    service = public_url(request, back)
    service += f"{'&' if '?' in service else '?'}{urlencode({MARK: nonce})}"
    request.session[CHECKED_KEY] = time.time()
    request.session[PENDING_KEY] = {"nonce": nonce, "service": service, "next": back}
    client = get_cas_client(service, request)
    client.renew = False
    client.extra_login_params["gateway"] = "true"
    response = HttpResponseRedirect(client.get_login_url())
    response["Cache-Control"] = "no-store"
    return response


@observe.hide_secrets
def come_back(request: HttpRequest) -> HttpResponseBase:
    """The return from CAS: keep or end the session, then land on the page without the mark."""
    pending = request.session.pop(PENDING_KEY, None)
    if not isinstance(pending, dict) or pending.get("nonce") != request.GET.get(MARK):
        return _back_to(_clean_path(request))  # not this session's check
    if request.user.is_authenticated:
        reason = _verdict(request, request.GET.get("ticket"), pending["service"])
        if reason is not None:
            observe.login.info("Re-check ended the session of %s: %s", request.user, reason)
            end_session(request, SENDER)
    return _back_to(pending["next"])


def _back_to(path: str) -> HttpResponseRedirect:
    """The redirect to a page of this site: a path starting with '//' (``/%2Fevil.example/``
    on a catch-all route) keeps its second slash escaped, or it would name another host."""
    return HttpResponseRedirect(escape_leading_slashes(path))


def _verdict(request: HttpRequest, ticket: str | None, service: str) -> str | None:
    """None when the session goes on; else why it ends."""
    if not ticket:
        return "no CAS session any more"
    if not is_well_formed_ticket(ticket) or not replay.claim(ticket, request):
        return "the CAS server's answer could not be used"
    try:
        with replay.unless_unavailable(ticket, request), measure_validation("recheck", service):
            client = get_cas_client(service, request)
            client.proxy_callback = None  # type: ignore[attr-defined]
            username, attributes, _pgtiou = validate_ticket(client, ticket)
    except TicketValidationError as refusal:
        return f"CAS refused the re-check ticket ({refusal.code})"
    except CASUnavailable as error:
        observe.client.warning("Re-check could not reach CAS, the session goes on: %s", error)
        return None
    except CASConfigurationError as error:
        misconfigured(error)
        return None
    if not is_signed_in_user(request, username, attributes):
        return "signed in at CAS as another user"
    # The CAS session may be a new one: its Single Logout will name this ticket.
    remember_ticket(request.session, ticket)
    map_login(request.session, ticket, issuing_server_url(request))
    return None


def misconfigured(error: CASConfigurationError) -> None:
    """This site's configuration, not the CAS server, stopped a re-check: the session goes on,
    and the operator gets an ERROR line blaming this site."""
    observe.client.error("%s: re-check skipped, the session goes on: %s", error.log_prefix, error)


def recheck_response(request: HttpRequest, interval: float) -> HttpResponseBase | None:
    """The redirect this request gets from the re-check, or None to let it through."""
    if MARK in request.GET:
        return come_back(request)
    if is_navigation(request) and _due(request, interval):
        try:
            return send_to_cas(request)
        except CASConfigurationError as error:
            misconfigured(error)
    return None


class SessionRecheckMiddleware(MiddlewareMixin):
    """Runs the re-check every ``CAS_RECHECK_INTERVAL`` seconds (sync and async; under ASGI in
    a worker thread, as it reads the session and may ask CAS)."""

    def process_request(self, request: HttpRequest) -> HttpResponseBase | None:
        """Serve the Single Logout of a re-check ticket: the CAS server sends it to the page the
        ticket was issued for (marked), before CSRF protection or the view can refuse it."""
        if MARK in request.GET and (slo.is_back_channel(request) or slo.is_front_channel(request)):
            return _logout_requests(request)
        return None

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], *args: Any
    ) -> HttpResponseBase | None:
        interval = cas_settings.recheck_interval
        if interval is None or is_cas_view(view_func):
            return None
        return recheck_response(request, interval)
