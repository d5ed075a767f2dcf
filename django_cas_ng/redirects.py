"""Every decision about where a browser goes next: ``next``, Referer and the logout return.

All targets pass Django's ``url_has_allowed_host_and_scheme`` against this site's host(s); a
refused target falls back to the configured default instead of leaving the site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from . import log
from .conf import cas_settings
from .exceptions import RedirectException
from .origin import public_url

STORED_NEXT_SESSION_KEY = "CASNEXT"


def allowed_hosts(request: HttpRequest) -> set[str]:
    """This request's host, the public host behind a proxy, and literal ``ALLOWED_HOSTS``."""
    hosts = {request.get_host()}
    if cas_settings.root_proxied_as:
        hosts.add(urlsplit(cas_settings.root_proxied_as).netloc)
    hosts.update(h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith("."))
    return hosts


def is_safe_url(request: HttpRequest, url: str | None) -> bool:
    """True when ``url`` stays on this site (or ``CAS_CHECK_NEXT`` is off)."""
    if not url:
        return False
    if not cas_settings.check_next:
        return True
    return url_has_allowed_host_and_scheme(
        url, allowed_hosts=allowed_hosts(request), require_https=request.is_secure()
    )


def default_landing(request: HttpRequest) -> str:
    """``CAS_REDIRECT_URL`` resolved (a URL name or a URL)."""
    return str(resolve_url(cas_settings.redirect_url))


def _relative_to_site(request: HttpRequest, url: str) -> str:
    """Strip this site's own origin so an absolute same-site URL becomes a path."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc in allowed_hosts(request):
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path
    return url


def safe_or_none(request: HttpRequest, url: str | None, source: str) -> str | None:
    """``url`` if it is safe, else ``None`` with a log line naming where it came from."""
    if not url:
        return None
    if is_safe_url(request, url):
        return url
    log.redirects.warning("Refused non-local %s redirect target %r", source, url[:200])
    return None


def get_redirect_url(request: HttpRequest) -> str:
    """Safe ``next`` from the query, else a safe Referer (unless ignored), else the default."""
    raw_next = request.GET.get(REDIRECT_FIELD_NAME)
    if raw_next is None and request.method == "POST":
        raw_next = request.POST.get(REDIRECT_FIELD_NAME)
    target = safe_or_none(request, raw_next, "next")
    if target is None and not cas_settings.ignore_referer:
        referer = safe_or_none(request, request.META.get("HTTP_REFERER"), "Referer")
        if referer is not None:
            target = _relative_to_site(request, referer)
    return target or default_landing(request)


def login_landing(request: HttpRequest, returning: bool | None = None) -> str:
    """Where a browser lands after signing in; decided once per request.

    ``returning`` says the browser is back from CAS (with a ticket, or from a gateway
    attempt), which is when a ``next`` stored by ``CAS_STORE_NEXT`` is used up.
    """
    if cas_settings.login_next_page:
        return str(resolve_url(cas_settings.login_next_page))
    if returning is None:
        returning = bool(request.GET.get("ticket"))
    if (
        cas_settings.store_next
        and returning
        and REDIRECT_FIELD_NAME not in request.GET
        and hasattr(request, "session")
    ):
        stored = request.session.pop(STORED_NEXT_SESSION_KEY, None)
        target = safe_or_none(request, stored, "stored next")
        if target is not None:
            return target
    return get_redirect_url(request)


def logout_landing(request: HttpRequest) -> str:
    """Where a browser lands after signing out (a site path or a safe absolute URL)."""
    if cas_settings.logout_next_page:
        return str(resolve_url(cas_settings.logout_next_page))
    return get_redirect_url(request)


def absolute_site_url(request: HttpRequest, url: str) -> str:
    """Make a site path absolute, on the public origin, for the CAS logout return URL."""
    if urlsplit(url).scheme:
        return url
    # "@evil.example/" or ".evil.example/" passed the safety check as relative paths; glued
    # onto the origin they would name another host.
    path = url if url.startswith("/") else "/" + url
    return public_url(request, path)


def is_local_url(host_url: str, url: str) -> bool:
    """5.1 helper: is ``url`` on the same scheme, host and path prefix as ``host_url``?"""
    url = url.strip()
    host = urlsplit(host_url)
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts={host.netloc}, require_https=host.scheme == "https"
    ):
        return False
    target = urlsplit(url)
    if not target.netloc:
        return True
    prefix = host.path if host.path.endswith("/") else host.path + "/"
    path = target.path if target.path.endswith("/") else target.path + "/"
    return path.startswith(prefix)


def clean_next_page(request: HttpRequest, next_page: str | None) -> str | None:
    """5.1 helper: ``next_page`` unchanged, or RedirectException when it leaves the site."""
    if not next_page:
        return next_page
    if cas_settings.check_next and not is_safe_url(request, next_page):
        raise RedirectException("Non-local url is forbidden to be redirected to.")
    return next_page
