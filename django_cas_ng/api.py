"""API and XHR clients: "is this an API request?" and the 401/403 answers they get instead of a
redirect to a login form they cannot follow.

The 401 contract (docs/api.rst)::

    HTTP/1.1 401 Unauthorized
    WWW-Authenticate: CAS realm="<host>", login_url="<CAS login URL>"
    Content-Type: application/json

    {"detail": "...", "login_url": "<CAS login URL>", "next": "<page to come back to>"}

``login_url`` is the CAS login URL whose service URL is this site's login view with ``next``,
built by the service-URL function the login view uses, so a browser sent there comes back
signed in to ``next``; with ``CAS_LOGIN_NONCE`` it is the login view itself, which issues the
nonce before it sends the browser to CAS.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from . import redirects
from .client import get_cas_client
from .conf import cas_settings, import_callable
from .origin import public_url
from .service import get_service_url

__all__ = [
    "AUTH_SCHEME",
    "STEPUP_ERROR",
    "cas_login_url",
    "forbidden",
    "is_api_request",
    "media_type_quality",
    "return_path",
    "unauthorized",
    "vary_on_api_headers",
    "wants_json",
]

#: Scheme of the ``WWW-Authenticate`` challenge (the proxy-ticket APIs use it too).
AUTH_SCHEME = "CAS"
#: ``error`` of the challenge when a fresh sign-in (step-up) is needed, as in RFC 9470.
STEPUP_ERROR = "insufficient_user_authentication"
#: Request headers the default predicate reads; responses that depend on it vary on them.
VARY_HEADERS = ("Accept", "X-Requested-With")
#: More ranges than this in one Accept header are ignored (no browser sends that many).
MAX_ACCEPT_RANGES = 64

JSON = "application/json"
HTML = "text/html"

Range = tuple[str, str, float]


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


# --- Where to sign in ---------------------------------------------------------------------


def return_path(request: HttpRequest) -> str:
    """Where the browser comes back after signing in: the page that made the call (a safe
    Referer, unless ``CAS_IGNORE_REFERER``), else this URL for a GET, else the default."""
    if not cas_settings.ignore_referer:
        referer = request.META.get("HTTP_REFERER")
        if referer and redirects.is_safe_url(request, referer):
            path = redirects.checked_path(request, referer)
            if path is not None:
                return path
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    return redirects.default_landing(request)


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
        request.session[redirects.STORED_NEXT_SESSION_KEY] = next_page
    return str(get_cas_client(service_url, request).get_login_url())


# --- The answers ------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(request: HttpRequest, login_url: str, error: str | None = None) -> str:
    """The ``WWW-Authenticate`` value: ``CAS realm="<host>", [error="...",] login_url="..."``."""
    params = [f"realm={_quoted(request.get_host())}"]
    if error:
        params.append(f"error={_quoted(error)}")
    params.append(f"login_url={_quoted(login_url)}")
    return f"{AUTH_SCHEME} {', '.join(params)}"


def unauthorized(
    request: HttpRequest,
    login_url: str | None = None,
    *,
    next_page: str | None = None,
    error: str | None = None,
    detail: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JsonResponse:
    """401 with the challenge and a JSON body naming the URL to sign in at.

    ``login_url`` defaults to :func:`cas_login_url` for ``next_page`` (default
    :func:`return_path`).
    """
    next_page = next_page if next_page is not None else return_path(request)
    if login_url is None:
        login_url = cas_login_url(request, next_page)
    body: dict[str, Any] = {
        "detail": detail or _("Authentication required."),
        "login_url": login_url,
        "next": next_page,
    }
    if error:
        body["error"] = error
    body.update(extra or {})
    response = JsonResponse(body, status=401)
    response["WWW-Authenticate"] = challenge(request, login_url, error)
    response["Cache-Control"] = "no-store"
    vary_on_api_headers(response)
    return response


def forbidden(request: HttpRequest, detail: str | None = None) -> JsonResponse:
    """403 as JSON for a signed-in API client that may not see this resource."""
    message = detail or _("You do not have permission to perform this action.")
    response = JsonResponse({"detail": message}, status=403)
    vary_on_api_headers(response)
    return response
