"""Bounded cost per client: requests carrying a ticket (each one a call to CAS) and Single
Logout requests are counted per client address in Django's cache, in fixed windows; past
``CAS_RATE_LIMITS`` they raise :class:`RateLimited`, answered 429 with ``Retry-After`` by
:mod:`~django_cas_ng._internal.responses`. The peer of django-allauth's
rate limits."""

from __future__ import annotations

import ipaddress
import time

from django.core.cache import caches
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..conf import RATE_LIMIT_KEYS, cas_settings, parse_rate
from ..exceptions import RateLimited
from . import observe
from .slo import client_ip, is_named_sender

__all__ = ["LOGOUT_REQUEST", "TICKET", "hit"]

#: Requests carrying a ticket (sign-in, proxy tickets presented to an API, step-up), and
#: Single Logout requests (back and front channel): the keys of ``CAS_RATE_LIMITS``.
TICKET, LOGOUT_REQUEST = RATE_LIMIT_KEYS
#: Added to the log line when no client address header is trusted: behind a reverse proxy,
#: every user would share the proxy's address and its limit.
PROXY_HINT = (
    " (if this address is a reverse proxy, set CAS_SLO_CLIENT_IP_HEADER so that each client is"
    " counted on its own)"
)


#: Prefix length of the IPv6 network counted as one client: a subscriber's usual allocation.
IPV6_CLIENT_PREFIX = 64


def client_bucket(address: str, per_network: bool = True) -> str:
    """What one client is counted as: an IPv4 address (also one seen as ``::ffff:a.b.c.d``),
    or the /64 network of an IPv6 address, whose holder can pick any address in it (the
    address itself when not ``per_network``)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if per_network:
            return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def hit(request: HttpRequest, action: str) -> None:
    """Count one ``action`` from this request's client address; raise :class:`RateLimited`
    past the limit. Fails open (counts nothing) when the cache cannot be reached."""
    rate = (cas_settings.rate_limits or {}).get(action)
    if not rate:
        return
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    # A CAS node the site named is one sender, even where several share a /64.
    named = action == LOGOUT_REQUEST and is_named_sender(request)
    address = client_bucket(client_ip(request), per_network=not named) or "-"
    key = f"django_cas_ng:rl:{action}:{address}:{window}"
    cache = caches[cas_settings.rate_limit_cache]
    try:
        cache.add(key, 0, timeout=period + 1)
        count = cache.incr(key)
    except Exception as error:  # an unreachable cache must not stop sign-in
        observe.client.warning("Rate limit not applied, the cache failed: %s", error)
        return
    if count > limit:
        retry_after = max(1, int((window + 1) * period - now))
        observe.login.warning(
            "Rate limit %s for %s reached by %s (%d requests); retry after %d s%s",
            rate,
            action,
            address,
            count,
            retry_after,
            "" if cas_settings.slo_client_ip_header else PROXY_HINT,
        )
        raise RateLimited(
            _("Too many sign-in requests from your address. Try again in %(seconds)d seconds.")
            % {"seconds": retry_after},
            retry_after,
        )
