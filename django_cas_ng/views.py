"""Thin login, logout and callback views: read the request, call the functions that do the
work, and turn our error types into responses in one place
(:meth:`CASErrorsMixin.handle_exception`)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from . import log, login_nonce, metrics, proxy, ratelimit, redirects, slo
from .backends import ACCOUNT_REFUSED_ATTRIBUTE
from .client import at_server, get_cas_client
from .conf import cas_settings
from .exceptions import (
    BadLogoutRequest,
    CASNGError,
    CASUnavailable,
    RateLimited,
    RedirectException,
    TicketValidationError,
)
from .exempt import login_not_required
from .origin import issuing_server_url
from .redirects import clean_next_page, is_local_url
from .service import get_service_url
from .sessions import (
    forget_session,
    map_login,
    server_for_session,
    ticket_for_session,
)
from .signals import cas_user_logout
from .tenancy import request_config
from .tickets import is_well_formed_ticket

__all__ = [
    "CASErrorsMixin",
    "CallbackView",
    "LoginView",
    "LogoutView",
    "clean_next_page",
    "is_local_url",
]

#: Gateway state in the session: absent -> "sent" (went to CAS with gateway=true) ->
#: "returned" (came back without a ticket); the next explicit sign-in shows the CAS form.
GATEWAY_SESSION_KEY = "_cas_gateway"
#: Query parameter marking a service URL sent with ``gateway=true``: its return needs no cookie.
GATEWAY_MARK = "gatewayed"
#: Query parameter asking the CAS server for credentials again (``renew=true``).
RENEW_PARAM = "renew"
#: Set while a CAS_RETRY_LOGIN / ``required`` retry is under way, so a refusal cannot loop.
RETRIED_SESSION_KEY = "_cas_retried"


class CASErrorsMixin(View):
    """Turns this package's error types into responses in one place, :meth:`handle_exception`,
    for sync and async handlers alike; responses are marked ``never_cache`` when asked."""

    never_cache: bool = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.view_is_async:
            return self._dispatch_async(request, *args, **kwargs)
        try:
            response = super().dispatch(request, *args, **kwargs)
        except CASNGError as exc:
            response = self.handle_exception(request, exc)
        return self._finish(response)

    async def _dispatch_async(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            pending = cast(Awaitable[HttpResponseBase], super().dispatch(request, *args, **kwargs))
            response = await pending
        except CASNGError as exc:
            response = self.handle_exception(request, exc)
        return self._finish(response)

    def _finish(self, response: HttpResponseBase) -> HttpResponseBase:
        if self.never_cache:
            add_never_cache_headers(response)
        return response

    def handle_exception(self, request: HttpRequest, exc: CASNGError) -> HttpResponse:
        """Override to change how a refused ticket, an unreachable CAS server, a refused
        logout request or a refused redirect is answered; other errors propagate."""
        if isinstance(exc, TicketValidationError):
            log.login.debug("Answering 403: %s", exc)
            return render(
                request, "django_cas_ng/login_failed.html", {"reason": str(exc)}, status=403
            )
        if isinstance(exc, CASUnavailable):
            log.client.error("CAS server unavailable: %s%s", exc, metrics.log_fields(request))
            return render(
                request, "django_cas_ng/unavailable.html", {"reason": str(exc)}, status=503
            )
        if isinstance(exc, BadLogoutRequest):
            log.slo.warning("Refused logout request from %s: %s", slo.client_ip(request), exc)
            return HttpResponse(f"{exc}\n", status=exc.status, content_type="text/plain")
        if isinstance(exc, RateLimited):
            return ratelimit.too_many_requests(request, exc)
        if isinstance(exc, RedirectException):
            return HttpResponseRedirect(redirects.default_landing(request))
        raise exc


def handle_logout_request(request: HttpRequest) -> HttpResponse:
    """A Single Logout request, counted against ``CAS_RATE_LIMITS`` first."""
    ratelimit.hit(request, ratelimit.LOGOUT_REQUEST)
    return slo.handle(request)


def returns_from_gateway(request: HttpRequest) -> bool:
    """True when this request is the return from a ``gateway`` attempt (marked service URL)."""
    return bool(cas_settings.gateway) and request.GET.get(GATEWAY_MARK) == "1"


def with_gateway_mark(service_url: str) -> str:
    """``service_url`` with the gateway mark, so its return is known even without a session."""
    return f"{service_url}{'&' if '?' in service_url else '?'}{GATEWAY_MARK}=1"


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class LoginView(CASErrorsMixin):
    """Sends the browser to CAS, validates the ticket it brings back, and signs the user in.

    A POST carrying ``logoutRequest`` (or a GET carrying one, front channel) is a Single Logout.
    """

    never_cache = True

    def get(self, request: HttpRequest) -> HttpResponse:
        if slo.is_front_channel(request):
            return handle_logout_request(request)
        return self.login(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        if slo.is_back_channel(request):
            return handle_logout_request(request)
        landing = redirects.login_landing(request)
        return self.redirect_to_cas(request, get_service_url(request, landing), landing)

    def login(self, request: HttpRequest) -> HttpResponse:
        """The GET flow: already signed in, redirect to CAS, or validate the returned ticket."""
        ticket = request.GET.get("ticket")
        from_gateway = returns_from_gateway(request) or (
            cas_settings.gateway and request.session.get(GATEWAY_SESSION_KEY) == "sent"
        )
        landing = redirects.login_landing(request, returning=bool(ticket) or from_gateway)
        if request.user.is_authenticated:
            self.add_message(request, cas_settings.logged_msg, request.user)
            return self.successful_login(request=request, next_page=landing)

        service_url = get_service_url(request, landing)
        if returns_from_gateway(request):
            service_url = with_gateway_mark(service_url)
        if not ticket:
            return self.redirect_to_cas(request, service_url, landing)
        if not is_well_formed_ticket(ticket):
            log.login.warning("Refused a malformed ticket %s", log.redact(ticket[:64]))
            return self.login_failed(request, service_url)

        validation_url = self.validation_service_url(request, ticket, service_url)
        if validation_url is None:
            return self.login_failed(request, service_url)
        user = authenticate(request=request, ticket=ticket, service=validation_url)
        if user is None:
            return self.login_failed(request, service_url)
        self.sign_in(request, user, ticket)
        self.add_message(request, cas_settings.login_msg, user)
        return self.successful_login(request=request, next_page=landing)

    def validation_service_url(
        self, request: HttpRequest, ticket: str, service_url: str
    ) -> str | None:
        """The service URL the ticket was issued for: with ``CAS_LOGIN_NONCE``, the one carrying
        this session's nonce; ``None`` when the session sent no such login."""
        if not cas_settings.login_nonce:
            return service_url
        nonce = login_nonce.claim(request)
        if nonce is None:
            log.login.warning(
                "Refused ticket %s: no login nonce of this session", log.redact(ticket)
            )
            return None
        return login_nonce.with_nonce(service_url, nonce)

    def sign_in(self, request: HttpRequest, user: Any, ticket: str) -> None:
        """Log ``user`` in and map the ticket to the session (and its PGT) for Single Logout."""
        auth_login(request, user)
        if not request.session.session_key:
            request.session.save()
        for key in (GATEWAY_SESSION_KEY, RETRIED_SESSION_KEY):
            request.session.pop(key, None)
        session_key = request.session.session_key or ""
        map_login(request.session, ticket, issuing_server_url(request))
        proxy.claim_pgt(request, user, session_key)
        log.login.info(
            "Signed in %s (ticket %s)%s",
            user.get_username(),
            log.redact(ticket),
            metrics.log_fields(request),
        )

    def login_failed(self, request: HttpRequest, service_url: str) -> HttpResponse:
        """After a refused ticket: one retry at CAS when configured, else the 403 page."""
        if getattr(request, ACCOUNT_REFUSED_ATTRIBUTE, False):
            # Another trip to CAS would bring back the same account.
            raise TicketValidationError(
                _(
                    "The CAS server signed you in, but this site does not allow your account "
                    "to sign in. Contact the site's administrators if you think it should."
                )
            )
        retry = cas_settings.retry_login or request.GET.get("required")
        if retry and not request.session.pop(RETRIED_SESSION_KEY, False):
            request.session[RETRIED_SESSION_KEY] = True
            if cas_settings.login_nonce:
                service_url = login_nonce.issue(request, service_url)
            return HttpResponseRedirect(get_cas_client(service_url, request).get_login_url())
        raise TicketValidationError(
            _(
                "The CAS server did not accept this sign-in ticket. It may have expired or "
                "already been used. Please sign in again."
            )
        )

    def redirect_to_cas(self, request: HttpRequest, service_url: str, landing: str) -> HttpResponse:
        """Send the browser to the CAS login page (with ``gateway`` when configured)."""
        gateway = False
        if cas_settings.gateway:
            state = request.session.get(GATEWAY_SESSION_KEY)
            if state == "sent" or returns_from_gateway(request):
                # Back without a ticket: no SSO session. Without a cookie, the mark in the
                # service URL alone ends the attempt, and no session is written for it.
                if state == "sent":
                    request.session[GATEWAY_SESSION_KEY] = "returned"
                return HttpResponseRedirect(landing)
            if state is None:
                request.session[GATEWAY_SESSION_KEY] = "sent"
                service_url = with_gateway_mark(service_url)
                gateway = True
            else:
                del request.session[GATEWAY_SESSION_KEY]
        if cas_settings.login_nonce:
            service_url = login_nonce.issue(request, service_url)
        client = get_cas_client(service_url, request)
        if gateway:
            client.extra_login_params["gateway"] = "true"
        if request.GET.get(RENEW_PARAM) == "true":  # a session ended past its max age
            client.renew = True
            client.extra_login_params.pop("gateway", None)
        if cas_settings.store_next:
            request.session[redirects.STORED_NEXT_SESSION_KEY] = landing
        return HttpResponseRedirect(client.get_login_url())

    def add_message(self, request: HttpRequest, template: str | None, user: Any) -> None:
        """Add ``CAS_LOGIN_MSG`` / ``CAS_LOGGED_MSG`` (``None`` disables it)."""
        if template is not None:
            messages.success(request, template % user.get_username(), fail_silently=True)

    def successful_login(self, request: HttpRequest, next_page: str) -> HttpResponse:
        """Override point after a successful login; by default redirects to ``next_page``."""
        return HttpResponseRedirect(next_page)


@method_decorator(login_not_required, name="dispatch")
class LogoutView(CASErrorsMixin):
    """Signs the user out here and, with ``CAS_LOGOUT_COMPLETELY``, at the CAS server too."""

    never_cache = True

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.headers.get("Sec-Fetch-Site") == "cross-site":
            return self.confirm_logout(request)
        landing = redirects.logout_landing(request)
        session = getattr(request, "session", None)
        session_key = session.session_key if session is not None else None
        ticket = ticket_for_session(session_key)
        issuer = server_for_session(session_key) if ticket else None
        user = getattr(request, "user", None)
        cas_user_logout.send(sender="manual", user=user, session=session, ticket=ticket)
        forget_session(session_key)
        auth_logout(request)
        log.logout.info(
            "Signed out %s (ticket %s)", user.get_username() if user else "-", log.redact(ticket)
        )
        if request_config(request).logout_completely:
            return_url = redirects.absolute_site_url(request, landing)
            client = at_server(get_cas_client(request=request), issuer)
            return HttpResponseRedirect(client.get_logout_url(return_url))
        return HttpResponseRedirect(landing)

    def post(self, request: HttpRequest) -> HttpResponse:
        return self.get(request)

    def confirm_logout(self, request: HttpRequest) -> HttpResponse:
        """A cross-site GET (logout CSRF) signs no one out: 403 with a button that POSTs."""
        log.logout.info("Asked to confirm a cross-site logout")
        context = {"action": request.path, "next": request.GET.get(REDIRECT_FIELD_NAME, "")}
        return render(request, "django_cas_ng/logout_confirm.html", context, status=403)


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class CallbackView(CASErrorsMixin):
    """Receives PGTs from the CAS server (GET) and back-channel Single Logout (POST)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if slo.is_front_channel(request):
            return handle_logout_request(request)
        return proxy.receive_callback(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        if slo.is_back_channel(request):
            return handle_logout_request(request)
        return HttpResponseBadRequest("Missing logoutRequest", content_type="text/plain")
