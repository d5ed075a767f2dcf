"""Every URL this package builds or follows: this site's public origin, the CAS server's URL,
the service URL (built the same way for the redirect to CAS and for validation), and where a
browser goes next (``next``, Referer, the logout return).

Every redirect target passes Django's ``url_has_allowed_host_and_scheme`` against this site's
host(s); a refused target falls back to the configured default instead of leaving the site.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit
from weakref import WeakKeyDictionary

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.shortcuts import resolve_url
from django.urls import (
    NoReverseMatch,
    URLResolver,
    get_resolver,
    get_script_prefix,
    get_urlconf,
    reverse,
)
from django.utils.http import escape_leading_slashes, url_has_allowed_host_and_scheme
from django.utils.translation import get_language

from ..conf import cas_settings, split_host
from ..exceptions import RedirectException, TenantConfigurationError, UnpinnedHost
from . import observe
from .tenancy import is_multi_server, request_config

# --- This site's origin and the CAS server's URL --------------------------------------------------
#: Host names a developer's own machine answers to; with ``DEBUG`` they need no pinning.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def get_protocol(request: HttpRequest) -> str:
    """'https' or 'http', as Django sees the request (honours ``SECURE_PROXY_SSL_HEADER``)."""
    return "https" if request.is_secure() else "http"


#: Characters Python's URL parser removes wherever they are (so "/\t/x" would read as "//x").
_URL_DROPPED = re.compile(r"[\t\r\n]")


def public_url(request: HttpRequest, path: str) -> str:
    """``path`` on this site's public origin: ``CAS_ROOT_PROXIED_AS``, else the request's.

    The request's origin is used only when its host is pinned (:func:`request_origin`). A
    path starting with '//' (``/%2Fother.example/`` on a catch-all route) keeps its second
    slash escaped: ``urljoin`` would read it as another host, and validate tickets for it. Tabs
    and line breaks, which ``urljoin`` drops (``/%09/other.example/``), are percent-encoded.
    """
    config = request_config(request)
    if config.root_proxied_as:
        path = _URL_DROPPED.sub(lambda match: f"%{ord(match.group(0)):02X}", path)
        return urljoin(config.root_proxied_as, escape_leading_slashes(path))
    return request_origin(request) + path


def allowed_hosts_are_exact() -> bool:
    """True when ``ALLOWED_HOSTS`` names hosts exactly: no ``'*'``, no ``'.domain'`` pattern."""
    return not any(host == "*" or host.startswith(".") for host in settings.ALLOWED_HOSTS)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` (and ``*.localhost``), ``127.0.0.1`` and ``[::1]``, any port."""
    domain, _port = split_domain_port(host)
    return domain in LOOPBACK_HOSTS or domain.endswith(".localhost")


def pinned_by_allowed_hosts(host: str) -> bool:
    """True when exact ``ALLOWED_HOSTS`` pin ``host`` port included: Django matches them
    without the port, so a Host carrying one (``app.example.org:8443``, maybe another CAS
    service) is pinned only on a loopback name; other ports need ``CAS_SERVICE_HOSTS``."""
    _domain, port = split_domain_port(host)
    return not port or is_loopback_host(host)


def request_origin(request: HttpRequest) -> str:
    """``scheme://host`` of the request, when a setting pins its host; else :class:`UnpinnedHost`.

    A host is pinned when ``CAS_SERVICE_HOSTS`` lists it (an origin there fixes the scheme
    too), else when ``ALLOWED_HOSTS`` is exact, Django has checked it and it carries no port
    (:func:`pinned_by_allowed_hosts`), else (with
    ``DEBUG``) when it is a loopback host. Anything else would let the Host header choose
    the service a ticket is validated for, so a ticket issued to another site would sign in.
    """
    host = request.get_host()
    force_ssl = request_config(request).force_ssl_service_url
    protocol = "https" if force_ssl else get_protocol(request)
    service_hosts = cas_settings.service_hosts
    if service_hosts:
        for entry in service_hosts:
            parts = split_host(entry)
            if parts.netloc.lower() == host.lower():
                if parts.scheme and not force_ssl:
                    protocol = parts.scheme
                return f"{protocol}://{parts.netloc}"
    elif allowed_hosts_are_exact() and pinned_by_allowed_hosts(host):
        return f"{protocol}://{host}"
    if settings.DEBUG and is_loopback_host(host):
        return f"{protocol}://{host}"
    message = (
        f"Refused to build a service URL from the unpinned Host {host[:100]!r}: set "
        "CAS_ROOT_PROXIED_AS to the public origin, list the public hosts in CAS_SERVICE_HOSTS, "
        "or list exact hosts in ALLOWED_HOSTS (a host with a port: in CAS_SERVICE_HOSTS)."
    )
    raise UnpinnedHost(message)


def get_server_url(request: HttpRequest | None = None) -> str:
    """``CAS_SERVER_URL`` as an absolute URL ending in '/', so endpoints join under it.

    A path means "this site": its origin comes from ``CAS_ROOT_PROXIED_AS`` when set, so the
    Host header cannot choose the server that validates tickets. With several CAS servers
    (see :mod:`django_cas_ng._internal.tenancy`) it is the one chosen for ``request``.
    """
    config = request_config(request)
    server_url = config.server_url or ""
    if callable(server_url):
        raise TenantConfigurationError("CAS_SERVER_URL is a callable: it needs a request")
    if server_url.startswith("/"):
        if config.root_proxied_as:
            server_url = urljoin(config.root_proxied_as, server_url)
        elif request is not None:
            server_url = request.build_absolute_uri(server_url)
    if server_url and not server_url.endswith("/"):
        server_url += "/"
    return server_url


def issuing_server_url(request: HttpRequest) -> str | None:
    """The server URL to remember with a session's ticket: only with several CAS servers."""
    return get_server_url(request) if is_multi_server() else None


def site_hostnames(request: HttpRequest | None = None) -> frozenset[str]:
    """The host names this site answers to by configuration (the request's pinned origin,
    service hosts and exact ``ALLOWED_HOSTS``), lower case and without ports."""
    root = request_config(request).root_proxied_as
    entries = [root or "", *(cas_settings.service_hosts or ())]
    entries += [host for host in settings.ALLOWED_HOSTS if host != "*" and not host.startswith(".")]
    names = set()
    for entry in entries:
        hostname = split_host(entry).hostname
        if hostname:
            names.add(hostname)
    return frozenset(names)


def canonical_service(url: str, request: HttpRequest | None = None) -> str:
    """``url`` without its origin when that origin is this site's (any alias, http or https), so
    every way of reaching one path of the site names the same service; other URLs unchanged."""
    parts = urlsplit(url)
    if parts.hostname is None or parts.hostname not in site_hostnames(request):
        return url
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))


# --- The service URL ------------------------------------------------------------------------------
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


# --- Where a browser goes next --------------------------------------------------------------------
STORED_NEXT_SESSION_KEY = "CASNEXT"
#: Login-view URLs wrapped in one another's ``next`` that are unwrapped; deeper is dropped.
MAX_NESTED_NEXT = 4


def allowed_hosts(request: HttpRequest) -> set[str]:
    """This request's host, the public host behind a proxy, and literal ``ALLOWED_HOSTS``
    (not with several CAS servers: those are other tenants' hosts, signing in elsewhere)."""
    hosts = {request.get_host()}
    root = request_config(request).root_proxied_as
    if root:
        hosts.add(urlsplit(root).netloc)
    if not is_multi_server():
        hosts.update(
            h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")
        )
    return hosts


#: A path a browser or ``urljoin`` reads as another host once the origin is gone: "//x",
#: "/\\x", "/%2F/x", also behind "." or ".." segments (which browsers drop, "%2e" included).
_AUTHORITY_LIKE_PATH = re.compile(r"^/(?:(?:\.|%2e){1,2}/)*(?:[/\\]|%2f|%5c)", re.IGNORECASE)


def _relative_to_site(request: HttpRequest, url: str) -> str:
    """Strip this site's own origin so an absolute same-site URL becomes a path."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc.lower() in {h.lower() for h in allowed_hosts(request)}:
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path
    return url


def checked_path(request: HttpRequest, url: str) -> str | None:
    """The final check every target passes: ``url`` as a site path, or ``None`` when it is
    not on this site or its path, with the origin stripped, would name another host."""
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts=allowed_hosts(request), require_https=request.is_secure()
    ):
        return None
    path = _relative_to_site(request, url)
    if urlsplit(path).netloc or _AUTHORITY_LIKE_PATH.match(path):
        return None
    return path


def is_safe_url(request: HttpRequest, url: str | None) -> bool:
    """True when ``url`` stays on this site (or ``CAS_CHECK_NEXT`` is off)."""
    if not url:
        return False
    if not cas_settings.check_next:
        return True
    return checked_path(request, url) is not None


def safe_or_none(request: HttpRequest, url: str | None, source: str) -> str | None:
    """``url`` if it is safe, else ``None`` with a log line naming where it came from."""
    if not url:
        return None
    if is_safe_url(request, url):
        return url
    observe.redirects.warning("Refused non-local %s redirect target %r", source, url[:200])
    return None


def configured_target(request: HttpRequest, setting: str, value: Any) -> str | None:
    """A landing page from a setting: an absolute http(s) URL elsewhere is the operator's
    choice and kept; anything else passes the final check and becomes a site path."""
    url = str(resolve_url(value))
    parts = urlsplit(url)
    if not cas_settings.check_next or (parts.scheme in ("http", "https") and parts.netloc):
        return _relative_to_site(request, url)
    path = checked_path(request, url)
    if path is None:
        observe.redirects.warning("Refused %s %r: it would leave the site", setting, url[:200])
    return path


def default_landing(request: HttpRequest) -> str:
    """``CAS_REDIRECT_URL`` resolved (a URL name or a URL); "/" when it fails the check."""
    return configured_target(request, "CAS_REDIRECT_URL", cas_settings.redirect_url) or "/"


def get_redirect_url(request: HttpRequest) -> str:
    """Safe ``next`` from the query, else a safe Referer (unless ignored), else the default."""
    raw_next = request.GET.get(REDIRECT_FIELD_NAME)
    if raw_next is None and request.method == "POST":
        raw_next = request.POST.get(REDIRECT_FIELD_NAME)
    target = unnested(request, safe_or_none(request, raw_next, "next"))
    if target is None and not cas_settings.ignore_referer:
        referer = safe_or_none(request, request.META.get("HTTP_REFERER"), "Referer")
        if referer is not None:
            target = unnested(request, _relative_to_site(request, referer))
    return target or default_landing(request)


#: The login and logout views' paths by URLconf (its resolver, replaced when URLs change), prefix
#: language and URL name: ``reverse()`` would work it out again for every login.
_login_paths: WeakKeyDictionary[URLResolver, dict[tuple[str, str, str], str | None]] = (
    WeakKeyDictionary()
)


def login_path() -> str | None:
    """The path of the login view (``CAS_LOGIN_URL_NAME``); None when no URL has that name."""
    return _named_path(cas_settings.login_url_name)


def logout_path() -> str | None:
    """The path of the logout view (``CAS_LOGOUT_URL_NAME``); None when no URL has that name."""
    return _named_path(cas_settings.logout_url_name)


def _named_path(name: str) -> str | None:
    """The path of the URL named ``name`` without arguments, cached per URLconf, prefix and
    language (``i18n_patterns`` put it under one prefix per language)."""
    paths = _login_paths.setdefault(get_resolver(get_urlconf()), {})
    key = (get_script_prefix(), get_language() or "", name)
    if key not in paths:
        try:
            paths[key] = reverse(name)
        except NoReverseMatch:
            paths[key] = None
    return paths[key]


def unnested(request: HttpRequest, target: str | None) -> str | None:
    """``target``, or when it is the login or logout view itself (a Referer of a refusal or
    sign-out confirmation page, a ``next`` of a ``next``) the page that one would land on:
    ``next`` never nests."""
    view_paths = {login_path(), logout_path()} - {None}
    if not view_paths:
        return target
    for _depth in range(MAX_NESTED_NEXT):
        if target is None or urlsplit(target).path not in view_paths:
            return target
        inner = parse_qs(urlsplit(target).query).get(REDIRECT_FIELD_NAME, [None])[0]
        target = safe_or_none(request, inner, "nested next")
        target = _relative_to_site(request, target) if target else None
    return None


def login_landing(request: HttpRequest, returning: bool | None = None) -> str:
    """Where a browser lands after signing in; decided once per request.

    ``returning`` says the browser is back from CAS (with a ticket, or from a gateway
    attempt), which is when a ``next`` stored by ``CAS_STORE_NEXT`` is used up.
    """
    if cas_settings.login_next_page:
        fixed = configured_target(request, "CAS_LOGIN_NEXT_PAGE", cas_settings.login_next_page)
        return fixed or default_landing(request)
    if returning is None:
        returning = bool(request.GET.get("ticket"))
    if (
        cas_settings.store_next
        and returning
        and REDIRECT_FIELD_NAME not in request.GET
        and hasattr(request, "session")
    ):
        stored = request.session.get(STORED_NEXT_SESSION_KEY)
        if stored is not None:
            # 5.1 left the key in place with None; code reading it must not get a KeyError.
            request.session[STORED_NEXT_SESSION_KEY] = None
        target = safe_or_none(request, stored, "stored next")
        if target is not None:
            return target
    return get_redirect_url(request)


def logout_landing(request: HttpRequest) -> str:
    """Where a browser lands after signing out (a site path or a safe absolute URL)."""
    if cas_settings.logout_next_page:
        fixed = configured_target(request, "CAS_LOGOUT_NEXT_PAGE", cas_settings.logout_next_page)
        return fixed or default_landing(request)
    return get_redirect_url(request)


def absolute_site_url(request: HttpRequest, url: str) -> str:
    """The CAS logout return URL: an absolute URL as it is (it passed its check), a path on
    the public origin, built as origin + checked path (never ``urljoin`` on the raw path)."""
    if urlsplit(url).scheme:
        return url
    # "@evil.example/" or ".evil.example/" passed the safety check as relative paths; glued
    # onto the origin they would name another host.
    path = url if url.startswith("/") else "/" + url
    if cas_settings.check_next and _AUTHORITY_LIKE_PATH.match(path):
        path = "/"
    origin = urlsplit(public_url(request, "/"))
    return f"{origin.scheme}://{origin.netloc}{path}"


def is_local_url(host_url: str, url: str) -> bool:
    """5.1 helper: is ``url`` on the same scheme, host and path prefix as ``host_url``?

    A scheme-relative ``host_url`` ("//a.com") names no scheme, so no absolute URL matches it.
    """
    url = url.strip()
    host = urlsplit(host_url)
    try:
        target = urlsplit(url)
    except ValueError:  # "http://[::1" names no host, so not this one
        return False
    # A scheme-relative URL ("//a.com") keeps the page's scheme, as 5.1 read it; Django's
    # check would take it for http. A scheme-relative host_url has none to lend: any scheme
    # will do for the host check, and ":" + url would hide the host from it.
    scheme = host.scheme or "https"
    absolute = f"{scheme}:{url}" if target.netloc and not target.scheme else url
    if not url_has_allowed_host_and_scheme(
        absolute, allowed_hosts={host.netloc}, require_https=host.scheme == "https"
    ):
        return False
    if not target.netloc:
        return not _AUTHORITY_LIKE_PATH.match(url)
    if target.scheme and target.scheme.lower() != host.scheme.lower():
        return False
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
