"""Thin login, logout and callback views: read the request, call the functions that do the
work, and hand our error types to :meth:`CASErrorsMixin.handle_exception`, which answers
them with :func:`~django_cas_ng._internal.responses.for_error`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_not_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from . import proxy
from ._internal import login, observe, ratelimit, slo, urls
from ._internal.observe import RedactingExceptionReporter
from ._internal.responses import for_error, mark_never_cache
from ._internal.sessions import drop_stale_sign_in, map_login, server_for_session, sign_out
from ._internal.tenancy import request_config
from ._internal.tickets import is_well_formed_ticket
from ._internal.urls import clean_next_page, get_service_url, is_local_url, issuing_server_url
from .backends import ACCOUNT_REFUSED_ATTRIBUTE
from .client import at_server, get_cas_client
from .conf import cas_settings
from .exceptions import (
    AccountRefused,
    CASConfigurationError,
    CASNGError,
    MissingMigrations,
    TenantConfigurationError,
    TicketValidationError,
)
from .exceptions import RedirectException as RedirectException  # 5.1's import path
from .models import missing_schema

__all__ = [
    "CASErrorsMixin",
    "CallbackView",
    "LoginView",
    "LogoutView",
    "RedactingExceptionReporter",
    "clean_next_page",
    "is_local_url",
]

#: Query parameter asking the CAS server for credentials again (``renew=true``).
RENEW_PARAM = "renew"
#: Set while a CAS_RETRY_LOGIN / ``required`` retry is under way, so a refusal cannot loop.
RETRIED_SESSION_KEY = "_cas_retried"


_view_is_async: dict[type[View], bool] = {}


def _is_async(view: View) -> bool:
    """``view.view_is_async``, which Django works out again at each read, once per class."""
    found = _view_is_async.get(type(view))
    if found is None:
        found = _view_is_async[type(view)] = bool(view.view_is_async)
    return found


class CASErrorsMixin(View):
    """Turns this package's error types into responses in one place, :meth:`handle_exception`,
    for sync and async handlers alike; responses are marked ``never_cache`` when asked."""

    never_cache: bool = False
    #: ``Referrer-Policy`` of every response that did not set one (None: left to the site).
    referrer_policy: str | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if _is_async(self):
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
            mark_never_cache(response)
        if self.referrer_policy and "Referrer-Policy" not in response:
            response["Referrer-Policy"] = self.referrer_policy
        return response

    def handle_exception(self, request: HttpRequest, exc: CASNGError) -> HttpResponse:
        """Override to change how a refused ticket, an unreachable CAS server, this site's
        configuration error, a refused logout request or a refused redirect is answered
        (:func:`~django_cas_ng._internal.responses.for_error`); other errors propagate."""
        return for_error(request, exc)


def handle_logout_request(request: HttpRequest) -> HttpResponse:
    """A Single Logout request, counted against ``CAS_RATE_LIMITS`` first."""
    ratelimit.hit(request, ratelimit.LOGOUT_REQUEST)
    return slo.handle(request)


def posted_ticket(request: HttpRequest) -> str | None:
    """A ticket in a form POST: Apereo CAS's answer to ``method=POST`` (an auto-submitting
    form, hence no CSRF token), validated exactly like one in the query string."""
    if request.method != "POST" or request.content_type not in slo.FORM_CONTENT_TYPES:
        return None
    return request.POST.get("ticket") or None


def require_schema() -> None:
    """Raise :class:`MissingMigrations` when this app's tables or columns are missing."""
    missing = missing_schema()
    if missing:
        raise MissingMigrations(
            f"the database lacks {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''} "
            "of django_cas_ng: run 'python manage.py migrate'"
        )


#: On ``post`` only: ``method_decorator`` wraps again at each call (some µs), and only a POST
#: carries a ticket or a logout request in its form.
_secret_posts = method_decorator(sensitive_post_parameters(*observe.SECRET_POST_PARAMS))


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class LoginView(CASErrorsMixin):
    """Sends the browser to CAS, validates the ticket it brings back, and signs the user in.

    A POST carrying ``logoutRequest`` (or a GET carrying one, front channel) is a Single Logout.
    """

    never_cache = True
    #: The page's URL may carry a ticket still good for a retry (after a 503): no page, of this
    #: site or another, learns it from the ``Referer`` of a link followed from here.
    referrer_policy = "no-referrer"

    def get(self, request: HttpRequest) -> HttpResponse:
        if slo.is_front_channel(request):
            return handle_logout_request(request)
        return self.login(request)

    @_secret_posts
    def post(self, request: HttpRequest) -> HttpResponse:
        if slo.is_back_channel(request):
            return handle_logout_request(request)
        if posted_ticket(request):
            return self.login(request)
        landing = urls.login_landing(request)
        return self.redirect_to_cas(request, get_service_url(request, landing), landing)

    @observe.hide_secrets
    def login(self, request: HttpRequest) -> HttpResponse:
        """Already signed in, redirect to CAS, or validate the returned ticket (in the query,
        or posted by the CAS server's form with ``method=POST``)."""
        ticket = request.GET.get("ticket") or posted_ticket(request)
        returning = bool(ticket) or login.is_returning(request)
        landing = urls.login_landing(request, returning=returning)
        if request.user.is_authenticated:
            self.add_message(request, cas_settings.logged_msg, request.user)
            return self.successful_login(request=request, next_page=landing)

        service_url = get_service_url(request, landing)
        if login.marked(request):
            service_url = login.with_mark(service_url)
        if not ticket:
            return self.redirect_to_cas(request, service_url, landing)
        if not is_well_formed_ticket(ticket):
            observe.login.warning("Refused a malformed ticket %s", observe.redact(ticket[:64]))
            return self.login_failed(request, service_url)

        require_schema()  # before the ticket is used: it stays good for a retry after migrate
        validation_url = self.validation_service_url(request, ticket, service_url)
        if validation_url is None:
            return self.login_failed(request, service_url)
        drop_stale_sign_in(request)
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
        nonce = login.claim_nonce(request)
        if nonce is None:
            observe.login.warning(
                "Refused ticket %s: no login nonce of this session", observe.redact(ticket)
            )
            return None
        return login.with_nonce(service_url, nonce)

    def sign_in(self, request: HttpRequest, user: Any, ticket: str) -> None:
        """Log ``user`` in and map the ticket to the session (and its PGT) for Single Logout."""
        auth_login(request, user)
        if not request.session.session_key:
            request.session.save()
        login.forget_gateway(request.session)
        request.session.pop(RETRIED_SESSION_KEY, None)
        session_key = request.session.session_key or ""
        map_login(request.session, ticket, issuing_server_url(request))
        proxy.claim_pgt(request, user, session_key)
        observe.login.info(
            "Signed in %s (ticket %s)%s",
            user.get_username(),
            observe.redact(ticket),
            observe.log_fields(request),
        )

    def login_failed(self, request: HttpRequest, service_url: str) -> HttpResponse:
        """After a refused ticket: one retry at CAS when configured, else the 403 page."""
        refused = getattr(request, ACCOUNT_REFUSED_ATTRIBUTE, False)
        if refused:
            # Another trip to CAS would bring back the same account.
            raise AccountRefused(
                refused
                if isinstance(refused, str)
                else _(
                    "The CAS server signed you in, but this site does not allow your account "
                    "to sign in. Contact the site's administrators if you think it should."
                )
            )
        retry = cas_settings.retry_login or request.GET.get("required")
        if retry and not request.session.pop(RETRIED_SESSION_KEY, False):
            request.session[RETRIED_SESSION_KEY] = True
            if cas_settings.login_nonce:
                service_url = login.issue_nonce(request, service_url)
            return HttpResponseRedirect(get_cas_client(service_url, request).get_login_url())
        raise TicketValidationError(
            _(
                "The CAS server did not accept this sign-in ticket. It may have expired or "
                "already been used. Please sign in again."
            )
        )

    def redirect_to_cas(self, request: HttpRequest, service_url: str, landing: str) -> HttpResponse:
        """Send the browser to the CAS login page (with ``gateway`` when configured)."""
        step = login.next_step(request)
        if step is login.Step.LAND:
            return HttpResponseRedirect(landing)
        if step is login.Step.TRY:
            service_url = login.with_mark(service_url)
        if cas_settings.login_nonce:
            service_url = login.issue_nonce(request, service_url)
        client = get_cas_client(service_url, request)
        if step is login.Step.TRY:
            client.extra_login_params["gateway"] = "true"
        if request.GET.get(RENEW_PARAM) == "true":  # a session ended past its max age
            client.renew = True
            client.extra_login_params.pop("gateway", None)
        if cas_settings.store_next:
            request.session[urls.STORED_NEXT_SESSION_KEY] = landing
        return HttpResponseRedirect(client.get_login_url())

    def add_message(self, request: HttpRequest, template: str | None, user: Any) -> None:
        """Add ``CAS_LOGIN_MSG`` / ``CAS_LOGGED_MSG`` (``None`` disables it)."""
        if template is not None:
            messages.success(request, template % user.get_username(), fail_silently=True)

    def successful_login(self, request: HttpRequest, next_page: str) -> HttpResponse:
        """Override point after a successful login; by default redirects to ``next_page``."""
        return HttpResponseRedirect(next_page)


async def _awaitable(response: HttpResponseBase) -> HttpResponseBase:
    return response


#: Fetch Metadata of same-origin GETs the user did not make: sub-resources (a user-supplied
#: image URL), frames, and links the browser prefetches or prerenders.
_NOT_THE_USERS_GET = {"Sec-Fetch-Mode": {"no-cors"}, "Sec-Fetch-Dest": {"iframe", "frame"}}


def is_same_origin_get(request: HttpRequest) -> bool:
    """True for a GET this site's own pages (or the user, typing it) started: Fetch Metadata
    says ``same-origin`` or ``none``; a browser without it must send a Referer of this origin.
    A sibling host (``same-site``) or another site gets the confirmation page, and so do an
    image, a frame or a prefetch on this site's own pages."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if request.headers.get("Sec-Purpose") or any(
            request.headers.get(name) in values for name, values in _NOT_THE_USERS_GET.items()
        ):
            return False
        return fetch_site in ("same-origin", "none")
    try:
        referer = urlsplit(request.headers.get("Referer", ""))
    except ValueError:  # "http://[::1": no origin at all, so not this one
        return False
    origins = {f"{request.scheme}://{request.get_host()}".lower()}
    try:
        root = request_config(request).root_proxied_as
    except TenantConfigurationError:  # the logout itself will answer it; here: no public origin
        root = None
    if root:
        origins.add(f"{urlsplit(root).scheme}://{urlsplit(root).netloc}".lower())
    return f"{referer.scheme}://{referer.netloc}".lower() in origins


@method_decorator(login_not_required, name="dispatch")
class LogoutView(CASErrorsMixin):
    """Signs the user out here and, with ``CAS_LOGOUT_COMPLETELY``, at the CAS server too."""

    never_cache = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Browsers come through here; a site's own code calling ``get()`` decides for itself.
        if request.method in ("GET", "HEAD") and not is_same_origin_get(request):
            response = self._finish(self.confirm_logout(request))
            return _awaitable(response) if _is_async(self) else response
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            landing = urls.logout_landing(request)
            completely = request_config(request).logout_completely
        except CASConfigurationError:
            # The CAS side cannot be named for this request: the session still ends here.
            self._sign_out_here(request)
            raise
        session = getattr(request, "session", None)
        # The issuing server is read before sign_out forgets the mapping, and only when needed.
        issuer = server_for_session(session.session_key) if completely and session else None
        self._sign_out_here(request)
        if completely:
            return_url = urls.absolute_site_url(request, landing)
            client = at_server(get_cas_client(request=request), issuer)
            return HttpResponseRedirect(client.get_logout_url(return_url))
        return HttpResponseRedirect(landing)

    def post(self, request: HttpRequest) -> HttpResponse:
        return self.get(request)

    @staticmethod
    def _sign_out_here(request: HttpRequest) -> None:
        """End the session on this site (signal, mapping, session) and log it."""
        user = getattr(request, "user", None)
        ticket = sign_out(request, "manual")
        observe.logout.info(
            "Signed out %s (ticket %s)",
            user.get_username() if user else "-",
            observe.redact(ticket),
        )

    def confirm_logout(self, request: HttpRequest) -> HttpResponse:
        """A GET this site did not start (logout CSRF) signs no one out: 403 with a button
        that POSTs."""
        observe.logout.info("Asked to confirm a logout by a GET from outside this site's pages")
        context = {"action": request.path, "next": request.GET.get(REDIRECT_FIELD_NAME, "")}
        return render(request, "django_cas_ng/logout_confirm.html", context, status=403)


@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class CallbackView(CASErrorsMixin):
    """Receives PGTs from the CAS server (GET) and back-channel Single Logout (POST)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if slo.is_front_channel(request):
            return handle_logout_request(request)
        return proxy.receive_callback(request)

    @_secret_posts
    def post(self, request: HttpRequest) -> HttpResponse:
        if slo.is_back_channel(request):
            return handle_logout_request(request)
        return HttpResponseBadRequest("Missing logoutRequest", content_type="text/plain")
