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
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from ._internal import urls
from ._internal.responses import (
    AUTH_SCHEME,
    is_api_request,
    media_type_quality,
    vary_on_api_headers,
    wants_json,
)
from ._internal.urls import get_service_url, public_url
from .client import get_cas_client
from .conf import cas_settings

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

#: ``error`` of the challenge when a fresh sign-in (step-up) is needed, as in RFC 9470.
STEPUP_ERROR = "insufficient_user_authentication"

# --- Where to sign in ---------------------------------------------------------------------


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
