"""Helpers a site calls: django-cas-ng 5.1's, kept at their 5.1 import path, and
``request_config``, the settings that apply to a request."""

from ._internal.sessions import get_user_from_session
from ._internal.tenancy import request_config
from ._internal.urls import get_protocol, get_redirect_url, get_service_url
from .client import get_cas_client
from .exceptions import RedirectException

__all__ = [
    "RedirectException",
    "get_cas_client",
    "get_protocol",
    "get_redirect_url",
    "get_service_url",
    "get_user_from_session",
    "request_config",
]
