"""Every answer that says "not allowed", built here and nowhere else: the login redirect or
401, the 403, the 503 and the 429, as a page for a browser and as JSON (one body shape,
``{"detail", "code", ...}``) for an API or XHR request (``CAS_API_REQUEST_PREDICATE``);
:func:`for_error`, where this package's exceptions become responses; the one
``AUTH_SCHEME``; and the one gate that runs a check before a sync or async view."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..client import get_cas_client
from ..conf import cas_settings, import_callable
from ..exceptions import (
    AccountRefused,
    BadLogoutRequest,
    CASConfigurationError,
    CASNGError,
    CASUnavailable,
    RateLimited,
    RedirectException,
    TicketValidationError,
)
from . import observe, urls
from .observe import log_fields
from .slo import client_ip
from .urls import get_service_url, public_url

#: The one scheme of ``Authorization: CAS PT-...`` and of every ``WWW-Authenticate``
#: challenge this package sends (sign-in 401s and the proxy-ticket APIs alike).
AUTH_SCHEME = "CAS"
#: Request headers the default predicate reads; responses that depend on it vary on them.
VARY_HEADERS = ("Accept", "X-Requested-With")
#: More ranges than this in one Accept header are ignored (no browser sends that many).
MAX_ACCEPT_RANGES = 64

JSON = "application/json"
HTML = "text/html"

Range = tuple[str, str, float]

#: The ``Cache-Control`` that ``add_never_cache_headers`` leaves on a response without one.
NEVER_CACHE_CONTROL = "max-age=0, no-cache, no-store, must-revalidate, private"


def mark_never_cache(response: HttpResponseBase) -> HttpResponseBase:
    """``add_never_cache_headers(response)``: the same headers, set directly when the response
    has neither ``Cache-Control`` nor ``Expires`` (Django parses and patches them twice)."""
    if response.has_header("Cache-Control") or response.has_header("Expires"):
        add_never_cache_headers(response)
    else:
        response.headers["Expires"] = http_date(time.time())
        response.headers["Cache-Control"] = NEVER_CACHE_CONTROL
    return response


# --- Is this an API request? ------------------------------------------------------------------


def _parse_accept(header: str) -> list[Range]:
    """``(type, subtype, q)`` for each well-formed media range; malformed ones are dropped."""
    ranges: list[Range] = []
    for item in header.split(",")[:MAX_ACCEPT_RANGES]:
        media, *params = item.split(";")
        main, slash, sub = media.strip().lower().partition("/")
        if not slash or not main or not sub or (main == "*" and sub != "*"):
            continue
        quality = 1.0
        for param in params:
            name, _eq, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 <= quality <= 1.0:
            ranges.append((main, sub, quality))
    return ranges


def media_type_quality(ranges: list[Range], media_type: str) -> tuple[float, int]:
    """The q-value the most specific matching range gives ``media_type`` (RFC 9110 12.5.1),
    with that specificity (2 exact, 1 ``type/*``, 0 ``*/*``); ``(0, -1)`` when none matches."""
    main, _slash, sub = media_type.partition("/")
    best: tuple[float, int] = (0.0, -1)
    for range_main, range_sub, quality in ranges:
        if range_main == main and range_sub == sub:
            specificity = 2
        elif range_main == main and range_sub == "*":
            specificity = 1
        elif range_main == "*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (quality, specificity)
    return best


def wants_json(request: HttpRequest) -> bool:
    """The default predicate: an XHR, or an ``Accept`` that ranks JSON above HTML.

    JSON must get a higher q-value than HTML, or the same q-value from a more specific range
    (``application/json, */*`` prefers JSON); a tie, ``*/*`` or no header means a browser.
    """
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    header = request.headers.get("Accept")
    if not header:
        return False
    ranges = _parse_accept(header)
    json_quality, json_specificity = media_type_quality(ranges, JSON)
    html_quality, html_specificity = media_type_quality(ranges, HTML)
    if json_quality <= 0:
        return False
    if json_quality != html_quality:
        return json_quality > html_quality
    return json_specificity > html_specificity


@lru_cache(maxsize=8)
def _import_predicate(path: str) -> Callable[[HttpRequest], bool]:
    return import_callable("CAS_API_REQUEST_PREDICATE", path)


def get_predicate() -> Callable[[HttpRequest], bool]:
    """The ``CAS_API_REQUEST_PREDICATE`` callable (a dotted path or the callable itself)."""
    configured = cas_settings.api_request_predicate
    if callable(configured):
        return configured
    return _import_predicate(configured)


def is_api_request(request: HttpRequest) -> bool:
    """True when ``request`` gets the JSON answers below instead of a redirect or HTML page."""
    return bool(get_predicate()(request))


def vary_on_api_headers(response: HttpResponseBase) -> HttpResponseBase:
    """Mark a response chosen by the predicate, so a cache keeps the 302 and the 401 apart."""
    patch_vary_headers(response, VARY_HEADERS)
    return response


# --- The JSON answers: one body shape -----------------------------------------------------------

#: ``code`` of the JSON bodies (a refused ticket's is the CAS error code instead).
NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
STEPUP_REQUIRED = "STEPUP_REQUIRED"
STEPUP_REFUSED = "STEPUP_REFUSED"
PERMISSION_DENIED = "PERMISSION_DENIED"
ACCOUNT_REFUSED = "ACCOUNT_REFUSED"
TICKET_REFUSED = "TICKET_REFUSED"
CAS_UNAVAILABLE = "CAS_UNAVAILABLE"
SITE_MISCONFIGURED = "SITE_MISCONFIGURED"
RATE_LIMITED = "RATE_LIMITED"

LOGIN_FAILED_TEMPLATE = "django_cas_ng/login_failed.html"
UNAVAILABLE_TEMPLATE = "django_cas_ng/unavailable.html"
MISCONFIGURED_TEMPLATE = "django_cas_ng/misconfigured.html"

#: What every JSON 503 for an outage says, DRF's included.
CAS_UNAVAILABLE_DETAIL = gettext_lazy(
    "The central sign-in service (CAS) did not answer. Please try again in a few minutes."
)


def body(code: str, detail: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The one JSON body of every refusal: ``{"detail": ..., "code": ..., **extra}``."""
    return {"detail": str(detail), "code": code, **(extra or {})}


def refusal(
    status: int, code: str, detail: str, extra: Mapping[str, Any] | None = None
) -> JsonResponse:
    """A JSON refusal with :func:`body`."""
    return JsonResponse(body(code, detail, extra), status=status)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(realm: str, login_url: str | None = None, error: str | None = None) -> str:
    """The ``WWW-Authenticate`` value: ``CAS realm="..."[, error="..."][, login_url="..."]``."""
    params = [f"realm={_quoted(realm)}"]
    if error:
        params.append(f"error={_quoted(error)}")
    if login_url is not None:
        params.append(f"login_url={_quoted(login_url)}")
    return f"{AUTH_SCHEME} {', '.join(params)}"


def unauthorized(
    realm: str,
    code: str,
    detail: str,
    *,
    login_url: str | None = None,
    error: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JsonResponse:
    """The one 401: the ``CAS`` challenge, and the JSON body naming ``login_url`` if given."""
    named: dict[str, Any] = {} if login_url is None else {"login_url": login_url}
    if error:
        named["error"] = error
    response = refusal(401, code, detail, {**named, **(extra or {})})
    response["WWW-Authenticate"] = challenge(realm, login_url, error)
    response["Cache-Control"] = "no-store"
    return response


def forbidden(
    request: HttpRequest, detail: str | None = None, code: str = PERMISSION_DENIED
) -> JsonResponse:
    """The JSON 403 for a signed-in API client that may not see this resource."""
    message = detail or _("You do not have permission to perform this action.")
    response = refusal(403, code, message)
    vary_on_api_headers(response)
    return response


# --- Not signed in: where to sign in -----------------------------------------------------------


def return_path(request: HttpRequest) -> str:
    """Where the browser comes back after signing in: the page that made the call (a safe
    Referer, unless ``CAS_IGNORE_REFERER``), else this URL for a GET, else the default."""
    if not cas_settings.ignore_referer:
        referer = request.META.get("HTTP_REFERER")
        if referer and urls.is_safe_url(request, referer):
            path = urls.checked_path(request, referer)
            if path is not None:
                return path
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    return urls.default_landing(request)


def _at_path(request: HttpRequest, path: str) -> HttpRequest:
    """A shallow copy of ``request`` that believes it was made to ``path``."""
    moved = copy.copy(request)
    moved.path = moved.path_info = path
    return moved


def cas_login_url(request: HttpRequest, next_page: str) -> str:
    """The CAS login URL that brings the browser back to the login view, then to ``next_page``
    (with ``CAS_LOGIN_NONCE``, the login view's own URL, which issues the nonce).

    The service URL comes from the function the login view uses, as if the request were made
    to the login view; with ``CAS_STORE_NEXT`` the landing page is kept in the session, as the
    login view does before it redirects.
    """
    login_path = reverse(cas_settings.login_url_name)
    if cas_settings.login_nonce:
        # The nonce must sit in the session of the browser that signs in, which an API
        # answer cannot give it: the login view issues it on the way to CAS.
        query = urlencode({REDIRECT_FIELD_NAME: next_page})
        return f"{public_url(request, login_path)}?{query}"
    service_url = get_service_url(_at_path(request, login_path), next_page)
    if cas_settings.store_next and hasattr(request, "session"):
        request.session[urls.STORED_NEXT_SESSION_KEY] = next_page
    return str(get_cas_client(service_url, request).get_login_url())


def sign_in_unauthorized(
    request: HttpRequest,
    login_url: str | None = None,
    *,
    next_page: str | None = None,
    error: str | None = None,
    detail: str | None = None,
    code: str = NOT_AUTHENTICATED,
    extra: Mapping[str, Any] | None = None,
) -> JsonResponse:
    """The 401 an API client gets instead of a login redirect: it names the URL to sign in at
    (default :func:`cas_login_url` for ``next_page``, default :func:`return_path`)."""
    next_page = next_page if next_page is not None else return_path(request)
    if login_url is None:
        login_url = cas_login_url(request, next_page)
    response = unauthorized(
        request.get_host(),
        code,
        detail or _("Authentication required."),
        login_url=login_url,
        error=error,
        extra={"next": next_page, **(extra or {})},
    )
    vary_on_api_headers(response)
    return response


def sign_in_required(
    request: HttpRequest, login_page: str, *, renew: bool = False
) -> HttpResponseBase:
    """An anonymous user: the 401 for an API request, else the redirect to ``login_page``
    (which already carries ``next``). With ``renew``, the 401's CAS login URL asks for
    credentials again."""
    if is_api_request(request):
        try:
            login_url = None
            if renew:
                login_url = cas_login_url(request, return_path(request)) + "&renew=true"
            return sign_in_unauthorized(request, login_url)
        except CASConfigurationError as exc:  # no CAS login URL to name: the 503 says why
            return for_error(request, exc)
    return vary_on_api_headers(HttpResponseRedirect(login_page))


def permission_denied(request: HttpRequest, detail: str | None = None) -> HttpResponseBase:
    """A signed-in user who may not see this: the JSON 403 for an API request, else Django's
    403 (``PermissionDenied``, so the site's ``handler403`` renders it)."""
    if is_api_request(request):
        return forbidden(request, detail)
    raise PermissionDenied(*([detail] if detail else []))


def refused_page(request: HttpRequest, template: str, context: Mapping[str, Any]) -> HttpResponse:
    """A 403 page saying why a sign-in was not accepted."""
    return render(request, template, dict(context), status=403)


# --- Errors become responses -------------------------------------------------------------------


def cas_logout_url(request: HttpRequest) -> str:
    """The CAS server's logout URL, coming back to the default landing page."""
    return_url = urls.absolute_site_url(request, urls.default_landing(request))
    return str(get_cas_client(request=request).get_logout_url(return_url))


def report(request: HttpRequest | None, exc: CASUnavailable | CASConfigurationError) -> None:
    """The operator's ERROR line: whom the 503 blames (the CAS server, or this site)."""
    observe.client.error("%s: %s%s", exc.log_prefix, exc, log_fields(request))


def ticket_refused(request: HttpRequest, exc: TicketValidationError, as_json: bool) -> HttpResponse:
    """403: the CAS server (or this site) did not accept the sign-in."""
    observe.login.debug("Answering 403: %s", exc)
    refused = isinstance(exc, AccountRefused)
    if as_json:
        return refusal(403, ACCOUNT_REFUSED if refused else exc.code or TICKET_REFUSED, str(exc))
    context = {"reason": str(exc)}
    if refused:
        context["cas_logout_url"] = cas_logout_url(request)
    return refused_page(request, LOGIN_FAILED_TEMPLATE, context)


def unavailable(
    request: HttpRequest,
    exc: CASUnavailable | CASConfigurationError,
    as_json: bool,
    template: str = UNAVAILABLE_TEMPLATE,
) -> HttpResponse:
    """503, logged as an ERROR: the CAS server could not be asked, or this site's
    configuration stopped the sign-in (its own page and code, naming the local cause)."""
    report(request, exc)
    if isinstance(exc, CASConfigurationError):
        if as_json:
            return refusal(503, SITE_MISCONFIGURED, str(exc.page_reason))
        return render(request, MISCONFIGURED_TEMPLATE, {"reason": exc.page_reason}, status=503)
    if as_json:
        return refusal(503, CAS_UNAVAILABLE, str(CAS_UNAVAILABLE_DETAIL))
    return render(request, template, {"reason": str(exc)}, status=503)


def too_many_requests(
    request: HttpRequest, error: RateLimited, as_json: bool | None = None
) -> HttpResponse:
    """429 with ``Retry-After``: JSON for API clients (and callers presenting a ticket in
    ``Authorization``), else plain text."""
    if as_json is None:
        as_json = is_api_request(request) or "HTTP_AUTHORIZATION" in request.META
    response: HttpResponse
    if as_json:
        response = refusal(429, RATE_LIMITED, str(error))
    else:
        response = HttpResponse(f"{error}\n", status=429, content_type="text/plain")
    response["Retry-After"] = str(error.retry_after)
    return response


def bad_logout_request(request: HttpRequest, exc: BadLogoutRequest) -> HttpResponse:
    """A refused Single Logout request: its status, in plain text (its sender is a server)."""
    observe.slo.warning("Refused logout request from %s: %s", client_ip(request), exc)
    return HttpResponse(f"{exc}\n", status=exc.status, content_type="text/plain")


def for_error(
    request: HttpRequest,
    exc: CASNGError,
    *,
    as_json: bool | None = None,
    unavailable_template: str = UNAVAILABLE_TEMPLATE,
) -> HttpResponse:
    """The response to one of this package's errors: a page for a browser, JSON for an API
    request (``as_json`` decides when given). Errors it has no answer for are raised again."""
    json = is_api_request(request) if as_json is None else as_json
    response: HttpResponse
    if isinstance(exc, TicketValidationError):
        response = ticket_refused(request, exc, json)
    elif isinstance(exc, (CASUnavailable, CASConfigurationError)):
        response = unavailable(request, exc, json, unavailable_template)
    elif isinstance(exc, RateLimited):
        response = too_many_requests(request, exc, json if as_json is not None else None)
    elif isinstance(exc, BadLogoutRequest):
        return bad_logout_request(request, exc)
    elif isinstance(exc, RedirectException):
        return HttpResponseRedirect(urls.default_landing(request))
    else:
        raise exc
    if as_json is None:
        vary_on_api_headers(response)
    return response


# --- The gate around a view -------------------------------------------------------------------

#: Decides whether a request may reach the view: None lets it through, a response answers
#: instead. It may block (database, CAS), so an async view runs it in a worker thread.
Check = Callable[[HttpRequest], "HttpResponseBase | None"]


def gate(
    check: Check, after: Callable[[HttpResponseBase], object] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator running ``check`` before a sync or async view, and ``after`` (if given) on
    the view's own response."""

    check = answered(check)

    def decorator(view_func: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(view_func):

            @wraps(view_func)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refusal = await sync_to_async(check)(request)
                if refusal is not None:
                    return refusal
                return _finish(await view_func(request, *args, **kwargs), after)

            return markcoroutinefunction(async_wrapper)

        @wraps(view_func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = check(request)
            if refusal is not None:
                return refusal
            return _finish(view_func(request, *args, **kwargs), after)

        return wrapper

    return decorator


def gated_dispatch(
    view: object, request: HttpRequest, check: Check, dispatch: Callable[[], Any]
) -> Any:
    """A class-based view's ``dispatch`` behind ``check``, in the view's own mode."""
    check = answered(check)
    if getattr(view, "view_is_async", False):

        async def checked() -> Any:
            refusal = await sync_to_async(check)(request)
            return refusal if refusal is not None else await dispatch()

        return checked()
    refusal = check(request)
    return refusal if refusal is not None else dispatch()


def answered(check: Check) -> Check:
    """``check`` with this package's errors answered by :func:`for_error`, never a 500."""

    @wraps(check)
    def checked(request: HttpRequest) -> HttpResponseBase | None:
        try:
            return check(request)
        except CASNGError as exc:
            return for_error(request, exc)

    return checked


def _finish(response: Any, after: Callable[[HttpResponseBase], object] | None) -> Any:
    if after is not None:
        after(response)
    return response
