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

from .._internal import responses
from .._internal.presented import (
    MALFORMED_TICKET,
    AcceptedTicket,
    authenticate_proxy_ticket,
    ticket_from_request,
)
from ..exceptions import (
    CASConfigurationError,
    CASUnavailable,
    RateLimited,
    TicketValidationError,
)

__all__ = ["CASProxyTicketAuthentication", "CASServerUnavailable", "CASSiteMisconfigured"]


# DRF's exception handler (a site may replace it) turns these into responses; the body they
# carry is the one of django_cas_ng._internal.responses (``{"detail", "code"}``).
class CASServerUnavailable(APIException):
    """503: the CAS server could not be asked whether the ticket is valid."""

    status_code = 503
    default_detail = responses.CAS_UNAVAILABLE_DETAIL
    default_code = "cas_unavailable"


class CASSiteMisconfigured(APIException):
    """503: this site's own configuration, not the CAS server, stops the validation."""

    status_code = 503
    default_detail = "This site is not set up correctly to sign you in."
    default_code = "site_misconfigured"


class _RateLimitedThrottled(Throttled):
    """429 with the one refusal body; its message already says when to retry, so DRF does
    not append it again (``wait`` still becomes ``Retry-After``)."""

    def __init__(self, error: RateLimited) -> None:
        super().__init__(detail=responses.body(responses.RATE_LIMITED, str(error)))
        self.wait = error.retry_after


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
            code = error.code or MALFORMED_TICKET
            raise AuthenticationFailed(responses.body(code, str(error)), code=code) from error
        except CASUnavailable as error:
            responses.report(request._request, error)
            detail = str(CASServerUnavailable.default_detail)
            raise CASServerUnavailable(responses.body(responses.CAS_UNAVAILABLE, detail)) from error
        except CASConfigurationError as error:
            responses.report(request._request, error)
            detail = str(error.page_reason)
            raise CASSiteMisconfigured(
                responses.body(responses.SITE_MISCONFIGURED, detail)
            ) from error
        except RateLimited as error:
            raise _RateLimitedThrottled(error) from error
        return accepted.user, accepted

    def get_service_url(self, request: Request) -> str | None:
        """The service URL to validate for; override for one computed per request."""
        return self.service_url

    def authenticate_header(self, request: Request) -> str:
        return responses.challenge(self.www_authenticate_realm)
