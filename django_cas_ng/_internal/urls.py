"""This site's public origin and the CAS server's URL: the bottom of the import graph."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port

from ..conf import cas_settings, split_host
from ..exceptions import TenantConfigurationError, UnpinnedHost
from .tenancy import is_multi_server, request_config

#: Host names a developer's own machine answers to; with ``DEBUG`` they need no pinning.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def get_protocol(request: HttpRequest) -> str:
    """'https' or 'http', as Django sees the request (honours ``SECURE_PROXY_SSL_HEADER``)."""
    return "https" if request.is_secure() else "http"


def public_url(request: HttpRequest, path: str) -> str:
    """``path`` on this site's public origin: ``CAS_ROOT_PROXIED_AS``, else the request's.

    The request's origin is used only when its host is pinned (:func:`request_origin`).
    """
    config = request_config(request)
    if config.root_proxied_as:
        return urljoin(config.root_proxied_as, path)
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
