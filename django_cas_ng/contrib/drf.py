"""Django REST Framework authentication with CAS proxy (or service) tickets.

Needs the ``drf`` extra (``pip install "django-cas-ng[drf]"``)::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "django_cas_ng.contrib.drf.CASProxyTicketAuthentication",
        ],
    }
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed, Throttled
from rest_framework.request import Request

from .._internal import observe
from .._internal.presented import (
    AcceptedTicket,
    authenticate_proxy_ticket,
    ticket_from_request,
)
from .._internal.responses import AUTH_SCHEME
from ..exceptions import CASUnavailable, RateLimited, TicketValidationError

__all__ = ["CASProxyTicketAuthentication", "CASServerUnavailable"]


class CASServerUnavailable(APIException):
    """503: the CAS server could not be asked whether the ticket is valid."""

    status_code = 503
    default_detail = "The CAS server is unavailable."
    default_code = "cas_unavailable"


class CASProxyTicketAuthentication(BaseAuthentication):
    """Authenticates a request by the ticket in ``Authorization: CAS <ticket>`` or ``?ticket=``.

    ``request.user`` is the local user and ``request.auth`` the
    :class:`~django_cas_ng._internal.presented.AcceptedTicket` (username, attributes, proxy chain).
    A request without a ticket is left to the next authentication class; a refused ticket gets
    401 with ``WWW-Authenticate: CAS realm="api"``.
    """

    #: Service URL tickets are validated for; None means the request URL without its query.
    service_url: str | None = None
    #: Realm named in the ``WWW-Authenticate`` header.
    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, AcceptedTicket] | None:
        ticket = ticket_from_request(request._request)
        if ticket is None:
            return None
        try:
            accepted = authenticate_proxy_ticket(
                request._request, ticket, self.get_service_url(request)
            )
        except TicketValidationError as error:
            raise AuthenticationFailed(str(error), code=error.code) from error
        except CASUnavailable as error:
            observe.client.error("%s: %s", error.log_prefix, error)
            raise CASServerUnavailable() from error
        except RateLimited as error:
            raise Throttled(wait=error.retry_after, detail=str(error)) from error
        return accepted.user, accepted

    def get_service_url(self, request: Request) -> str | None:
        """The service URL to validate for; override for one computed per request."""
        return self.service_url

    def authenticate_header(self, request: Request) -> str:
        return f'{AUTH_SCHEME} realm="{self.www_authenticate_realm}"'
