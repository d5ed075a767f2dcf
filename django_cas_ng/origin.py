"""This site's public origin and the CAS server's URL: the bottom of the import graph."""

from __future__ import annotations

from urllib.parse import urljoin

from django.http import HttpRequest

from .conf import cas_settings


def get_protocol(request: HttpRequest) -> str:
    """'https' or 'http', as Django sees the request (honours ``SECURE_PROXY_SSL_HEADER``)."""
    return "https" if request.is_secure() else "http"


def public_url(request: HttpRequest, path: str) -> str:
    """``path`` on this site's public origin: ``CAS_ROOT_PROXIED_AS``, else the request's."""
    if cas_settings.root_proxied_as:
        return urljoin(cas_settings.root_proxied_as, path)
    protocol = "https" if cas_settings.force_ssl_service_url else get_protocol(request)
    return f"{protocol}://{request.get_host()}{path}"


def get_server_url(request: HttpRequest | None = None) -> str:
    """``CAS_SERVER_URL`` as an absolute URL ending in '/', so endpoints join under it.

    A path means "this site": its origin comes from ``CAS_ROOT_PROXIED_AS`` when set, so the
    Host header cannot choose the server that validates tickets.
    """
    server_url = cas_settings.server_url or ""
    if server_url.startswith("/"):
        if cas_settings.root_proxied_as:
            server_url = urljoin(cas_settings.root_proxied_as, server_url)
        elif request is not None:
            server_url = request.build_absolute_uri(server_url)
    if server_url and not server_url.endswith("/"):
        server_url += "/"
    return server_url
