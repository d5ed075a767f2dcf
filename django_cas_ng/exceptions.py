"""The few error types raised deep in the package and turned into responses by the views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class CASNGError(Exception):
    """Base class of every error this package raises on purpose."""


class TicketValidationError(CASNGError, PermissionDenied):
    """The CAS server refused the ticket (forged, reused, expired or for another service).

    A ``PermissionDenied``, as 5.1 raised on a refused login.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class CASUnavailable(CASNGError):
    """The CAS server could not be reached, timed out, or answered something unusable."""


class MalformedAnswer(CASUnavailable):
    """The CAS server answered, but with something no CAS client can read (bad XML, an
    unexpected element): counted apart from an unreachable server by the metrics hook."""


class UnpinnedHost(CASUnavailable):
    """A service URL would be built from a Host header no setting pins: answered as 503."""


class BadLogoutRequest(CASNGError):
    """A Single Logout request that is malformed, too large or from a refused address."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RedirectException(CASNGError):
    """A redirect target that is not local to this site (raised when ``CAS_CHECK_NEXT``)."""


class ProxyError(ValueError):
    """A proxy ticket could not be obtained; ``args`` carry the CAS error code and message."""


class MalformedXML(CASNGError):
    """XML that is not well-formed or declares a DTD; each caller maps it to its own error."""


class TenantConfigurationError(CASUnavailable):
    """The CAS configuration chosen for this request (``CAS_SERVER_URL`` callable or
    ``CAS_CONFIG_RESOLVER``) is unusable: answered like an unreachable server, with a 503."""


class RateLimited(CASNGError):
    """A client address went past its rate limit (``CAS_RATE_LIMITS``): answered 429."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
