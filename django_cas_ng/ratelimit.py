"""Bounded cost per client: requests carrying a ticket (each one a call to CAS) and Single
Logout requests are counted per client address in Django's cache, in fixed windows; past
``CAS_RATE_LIMITS`` they are refused with 429 and ``Retry-After``. The peer of django-allauth's
rate limits."""

from __future__ import annotations

import re
import time

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from . import api, log
from .conf import cas_settings
from .exceptions import RateLimited
from .slo import client_ip

__all__ = ["LOGOUT_REQUEST", "TICKET", "hit", "parse_rate", "too_many_requests"]

#: Requests carrying a ticket: sign-in, proxy tickets presented to an API, step-up.
TICKET = "ticket"
#: Single Logout requests (back and front channel).
LOGOUT_REQUEST = "logout_request"
_RATE_RE = re.compile(r"(?P<count>\d+)/(?P<period>\d*)(?P<unit>[smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/m"`` -> (30, 60), ``"100/5m"`` -> (100, 300); ValueError otherwise."""
    match = _RATE_RE.fullmatch(rate.strip())
    if match is None or int(match["count"]) <= 0:
        raise ValueError(f"not a rate such as '30/m': {rate!r}")
    return int(match["count"]), int(match["period"] or 1) * _UNITS[match["unit"]]


def hit(request: HttpRequest, action: str) -> None:
    """Count one ``action`` from this request's client address; raise :class:`RateLimited`
    past the limit. Fails open (counts nothing) when the cache cannot be reached."""
    rate = (cas_settings.rate_limits or {}).get(action)
    if not rate:
        return
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    address = client_ip(request) or "-"
    key = f"django_cas_ng:rl:{action}:{address}:{window}"
    cache = caches[cas_settings.rate_limit_cache]
    try:
        cache.add(key, 0, timeout=period + 1)
        count = cache.incr(key)
    except Exception as error:  # an unreachable cache must not stop sign-in
        log.client.warning("Rate limit not applied, the cache failed: %s", error)
        return
    if count > limit:
        retry_after = max(1, int((window + 1) * period - now))
        log.login.warning(
            "Rate limit %s for %s reached by %s (%d requests); retry after %d s",
            rate,
            action,
            address,
            count,
            retry_after,
        )
        raise RateLimited(
            _("Too many sign-in requests from your address. Try again in %(seconds)d seconds.")
            % {"seconds": retry_after},
            retry_after,
        )


def too_many_requests(request: HttpRequest, error: RateLimited) -> HttpResponse:
    """429 with ``Retry-After``: JSON for API clients, else plain text."""
    response: HttpResponse
    if api.is_api_request(request) or "HTTP_AUTHORIZATION" in request.META:
        response = JsonResponse({"detail": str(error), "code": "RATE_LIMITED"}, status=429)
    else:
        response = HttpResponse(f"{error}\n", status=429, content_type="text/plain")
    response["Retry-After"] = str(error.retry_after)
    return response
