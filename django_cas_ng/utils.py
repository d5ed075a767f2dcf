"""Compatibility re-exports of django-cas-ng 5.1's helpers; new code imports from their homes."""

from .client import get_cas_client
from .exceptions import RedirectException
from .origin import get_protocol
from .redirects import get_redirect_url
from .service import get_service_url
from .sessions import get_user_from_session

__all__ = [
    "RedirectException",
    "get_cas_client",
    "get_protocol",
    "get_redirect_url",
    "get_service_url",
    "get_user_from_session",
]
