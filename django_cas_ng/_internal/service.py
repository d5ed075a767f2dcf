"""The service URL: built the same way for the redirect to CAS and for validation."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest

from ..conf import cas_settings
from .redirects import get_redirect_url
from .urls import public_url


def get_service_url(request: HttpRequest, redirect_to: str | None = None) -> str:
    """The service URL for this request, carrying the landing page unless ``CAS_STORE_NEXT``.

    CAS compares the login's and the validation's service URLs as strings, so the only input
    besides the request path is the landing page, which the caller decides once.
    """
    service = public_url(request, request.path)
    if not cas_settings.store_next:
        if redirect_to is None:
            redirect_to = get_redirect_url(request)
        service += "?" + urlencode({REDIRECT_FIELD_NAME: redirect_to})
    return service
