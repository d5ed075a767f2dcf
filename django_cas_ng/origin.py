"""This site's public origin and the CAS server's URL: the bottom of the import graph."""

from __future__ import annotations

from urllib.parse import urljoin

from django.http import HttpRequest

from .exceptions import TenantConfigurationError
from .tenancy import is_multi_server, request_config


def get_protocol(request: HttpRequest) -> str:
    """'https' or 'http', as Django sees the request (honours ``SECURE_PROXY_SSL_HEADER``)."""
    return "https" if request.is_secure() else "http"


def public_url(request: HttpRequest, path: str) -> str:
    """``path`` on this site's public origin: ``CAS_ROOT_PROXIED_AS``, else the request's."""
    config = request_config(request)
    if config.root_proxied_as:
        return urljoin(config.root_proxied_as, path)
    protocol = "https" if config.force_ssl_service_url else get_protocol(request)
    return f"{protocol}://{request.get_host()}{path}"


def get_server_url(request: HttpRequest | None = None) -> str:
    """``CAS_SERVER_URL`` as an absolute URL ending in '/', so endpoints join under it.

    A path means "this site": its origin comes from ``CAS_ROOT_PROXIED_AS`` when set, so the
    Host header cannot choose the server that validates tickets. With several CAS servers
    (see :mod:`django_cas_ng.tenancy`) it is the one chosen for ``request``.
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
