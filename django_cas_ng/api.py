"""API and XHR clients: "is this an API request?" and the 401/403 answers they get instead of a
redirect to a login form they cannot follow.

The 401 contract (docs/api.rst)::

    HTTP/1.1 401 Unauthorized
    WWW-Authenticate: CAS realm="<host>", login_url="<CAS login URL>"
    Content-Type: application/json

    {"detail": "...", "code": "NOT_AUTHENTICATED", "login_url": "<CAS login URL>",
     "next": "<page to come back to>"}

``login_url`` is the CAS login URL whose service URL is this site's login view with ``next``,
built by the service-URL function the login view uses, so a browser sent there comes back
signed in to ``next``; with ``CAS_LOGIN_NONCE`` it is the login view itself, which issues the
nonce before it sends the browser to CAS. The answers are built by
:mod:`django_cas_ng._internal.responses`; these are their public names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from ._internal import responses
from ._internal.responses import (
    AUTH_SCHEME,
    cas_login_url,
    is_api_request,
    media_type_quality,
    return_path,
    vary_on_api_headers,
    wants_json,
)
from .exceptions import CASConfigurationError

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

# --- The answers (built by django_cas_ng._internal.responses) -------------------------------


def unauthorized(
    request: HttpRequest,
    login_url: str | None = None,
    *,
    next_page: str | None = None,
    error: str | None = None,
    detail: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """401 with the challenge and a JSON body naming the URL to sign in at.

    ``login_url`` defaults to :func:`cas_login_url` for ``next_page`` (default
    :func:`return_path`). When this site's configuration cannot name one, the 503 instead.
    """
    try:
        return responses.sign_in_unauthorized(
            request, login_url, next_page=next_page, error=error, detail=detail, extra=extra
        )
    except CASConfigurationError as exc:
        return responses.for_error(request, exc)


def forbidden(request: HttpRequest, detail: str | None = None) -> JsonResponse:
    """403 as JSON for a signed-in API client that may not see this resource."""
    return responses.forbidden(request, detail)
