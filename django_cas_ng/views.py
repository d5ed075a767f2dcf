"""Thin login, logout and callback views: read the request, call the functions that do the
work, and turn our error types into responses in one place (:func:`error_response`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from . import log, proxy, redirects, slo
from .client import get_cas_client, get_service_url
from .conf import cas_settings
from .exceptions import BadLogoutRequest, CASUnavailable, RedirectException, TicketValidationError
from .redirects import clean_next_page, is_local_url
from .sessions import forget_session, record_session_ticket, ticket_for_session
from .signals import cas_user_logout

__all__ = ["CallbackView", "LoginView", "LogoutView", "clean_next_page", "is_local_url"]

GATEWAY_SESSION_KEY = "_cas_gateway_tried"


def error_response(request: HttpRequest, error: Exception) -> HttpResponse:
    """The one place where our error types become responses."""
    if isinstance(error, TicketValidationError):
        log.login.debug("Answering 403: %s", error)
        return render(
            request, "django_cas_ng/login_failed.html", {"reason": str(error)}, status=403
        )
    if isinstance(error, CASUnavailable):
        log.client.error("CAS server unavailable: %s", error)
        return render(request, "django_cas_ng/unavailable.html", {"reason": str(error)}, status=503)
    if isinstance(error, BadLogoutRequest):
        log.slo.warning("Refused logout request from %s: %s", slo.client_ip(request), error)
        return HttpResponse(f"{error}\n", status=error.status, content_type="text/plain")
    if isinstance(error, RedirectException):
        return HttpResponseRedirect(redirects.default_landing(request))
    raise error


def maps_errors(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a view handler so our error types become responses, even when called directly."""

    @wraps(handler)
    def wrapper(self: View, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return handler(self, request, *args, **kwargs)
        except (TicketValidationError, CASUnavailable, BadLogoutRequest, RedirectException) as exc:
            return error_response(request, exc)

    return wrapper


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class LoginView(View):
    """Sends the browser to CAS, validates the ticket it brings back, and signs the user in.

    A POST carrying ``logoutRequest`` (or a GET carrying one, front channel) is a Single Logout.
    """

    @maps_errors
    def get(self, request: HttpRequest) -> HttpResponse:
        if slo.is_front_channel(request):
            return slo.handle(request)
        return self.login(request)

    @maps_errors
    def post(self, request: HttpRequest) -> HttpResponse:
        if slo.is_back_channel(request):
            return slo.handle(request)
        landing = redirects.login_landing(request)
        client = get_cas_client(get_service_url(request, landing), request)
        return HttpResponseRedirect(client.get_login_url())

    def login(self, request: HttpRequest) -> HttpResponse:
        """The GET flow: already signed in, redirect to CAS, or validate the returned ticket."""
        landing = redirects.login_landing(request)
        if request.user.is_authenticated:
            if cas_settings.logged_msg is not None:
                messages.success(
                    request,
                    cas_settings.logged_msg % request.user.get_username(),
                    fail_silently=True,
                )
            return self.successful_login(request=request, next_page=landing)

        service_url = get_service_url(request, landing)
        ticket = request.GET.get("ticket")
        if not ticket:
            return self.redirect_to_cas(request, service_url, landing)

        user = authenticate(request=request, ticket=ticket, service=service_url)
        if user is None:
            if cas_settings.retry_login or request.GET.get("required"):
                return HttpResponseRedirect(get_cas_client(service_url, request).get_login_url())
            raise TicketValidationError(
                _(
                    "The CAS server did not accept this sign-in ticket. It may have expired or "
                    "already been used. Please sign in again."
                )
            )
        auth_login(request, user)
        if not request.session.session_key:
            request.session.save()
        session_key = request.session.session_key or ""
        record_session_ticket(session_key, ticket)
        proxy.claim_pgt(request, user, session_key)
        log.login.info("Signed in %s (ticket %s)", user.get_username(), log.redact(ticket))
        if cas_settings.login_msg is not None:
            messages.success(
                request, cas_settings.login_msg % user.get_username(), fail_silently=True
            )
        return self.successful_login(request=request, next_page=landing)

    def redirect_to_cas(self, request: HttpRequest, service_url: str, landing: str) -> HttpResponse:
        """Send the browser to the CAS login page (with ``gateway`` when configured)."""
        if cas_settings.store_next:
            request.session[redirects.STORED_NEXT_SESSION_KEY] = landing
        client = get_cas_client(service_url, request)
        if cas_settings.gateway:
            if request.session.pop(GATEWAY_SESSION_KEY, False):
                return HttpResponseRedirect(landing)
            request.session[GATEWAY_SESSION_KEY] = True
            client.extra_login_params["gateway"] = "true"
        return HttpResponseRedirect(client.get_login_url())

    def successful_login(self, request: HttpRequest, next_page: str) -> HttpResponse:
        """Override point after a successful login; by default redirects to ``next_page``."""
        return HttpResponseRedirect(next_page)


@method_decorator(never_cache, name="dispatch")
class LogoutView(View):
    """Signs the user out here and, with ``CAS_LOGOUT_COMPLETELY``, at the CAS server too."""

    @maps_errors
    def get(self, request: HttpRequest) -> HttpResponse:
        landing = redirects.logout_landing(request)
        session = getattr(request, "session", None)
        session_key = session.session_key if session is not None else None
        ticket = ticket_for_session(session_key)
        user = getattr(request, "user", None)
        cas_user_logout.send(sender="manual", user=user, session=session, ticket=ticket)
        forget_session(session_key)
        auth_logout(request)
        log.logout.info(
            "Signed out %s (ticket %s)", user.get_username() if user else "-", log.redact(ticket)
        )
        if cas_settings.logout_completely:
            return_url = redirects.absolute_site_url(request, landing)
            return HttpResponseRedirect(get_cas_client(request=request).get_logout_url(return_url))
        return HttpResponseRedirect(landing)

    def post(self, request: HttpRequest) -> HttpResponse:
        return self.get(request)


@method_decorator(csrf_exempt, name="dispatch")
class CallbackView(View):
    """Receives PGTs from the CAS server (GET) and back-channel Single Logout (POST)."""

    @maps_errors
    def get(self, request: HttpRequest) -> HttpResponse:
        if slo.is_front_channel(request):
            return slo.handle(request)
        return proxy.receive_callback(request)

    @maps_errors
    def post(self, request: HttpRequest) -> HttpResponse:
        if slo.is_back_channel(request):
            return slo.handle(request)
        return HttpResponseBadRequest("Missing logoutRequest", content_type="text/plain")
