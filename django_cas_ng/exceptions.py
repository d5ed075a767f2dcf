"""The few error types raised deep in the package and turned into responses by the views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

__all__ = [
    "AccountRefused",
    "BadLogoutRequest",
    "CASConfigurationError",
    "CASNGError",
    "CASUnavailable",
    "MalformedAnswer",
    "MalformedXML",
    "MissingMigrations",
    "ProxyError",
    "RateLimited",
    "RedirectException",
    "SiteMisconfigured",
    "TenantConfigurationError",
    "TicketValidationError",
    "UnpinnedHost",
]


class CASNGError(Exception):
    """Base class of every error this package raises on purpose."""


class TicketValidationError(CASNGError, PermissionDenied):
    """The CAS server refused the ticket (forged, reused, expired or for another service).

    A ``PermissionDenied``, as 5.1 raised on a refused login.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class AccountRefused(TicketValidationError):
    """CAS signed the user in, but this site refuses the account (inactive, a rule): signing
    in again would bring the same account back, so the page offers a sign-out at CAS."""


class CASUnavailable(CASNGError):
    """The CAS server could not be reached, timed out, or answered something unusable."""

    #: How the operator's ERROR line starts: whom the 503 blames.
    log_prefix = "CAS server unavailable"


class MalformedAnswer(CASUnavailable):
    """The CAS server answered, but with something no CAS client can read (bad XML, an
    unexpected element): counted apart from an unreachable server by the metrics hook."""


class CASConfigurationError(CASNGError):
    """This site's own setup, not the CAS server, stops a sign-in: a 503 whose page and log
    line name the local cause (``page_reason`` for the visitor, the message for the log).

    Not a :class:`CASUnavailable`: it is neither answered nor counted as an outage.
    """

    log_prefix = "Sign-in stopped by this site's configuration (not the CAS server)"
    page_reason = _("This site is not set up correctly to sign you in.")


class SiteMisconfigured(CASConfigurationError):
    """A configuration error found while answering a request (the base of the ones below)."""


class UnpinnedHost(SiteMisconfigured):
    """A service URL would be built from a Host header no setting pins: answered as 503."""

    page_reason = _("This site is not set up to sign you in at the address you used.")


class MissingMigrations(SiteMisconfigured):
    """This app's tables or columns are missing: ``manage.py migrate`` was not run."""

    page_reason = _("This site's sign-in tables have not been created yet.")


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


class TenantConfigurationError(SiteMisconfigured):
    """The CAS configuration chosen for this request (``CAS_SERVER_URL`` callable or
    ``CAS_CONFIG_RESOLVER``) is unusable: a 503 naming this site's configuration."""


class RateLimited(CASNGError):
    """A client address went past its rate limit (``CAS_RATE_LIMITS``): answered 429."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
