"""Several CAS servers per site: the ``CAS_*`` settings of one request, resolved once.

When ``CAS_SERVER_URL`` is a callable ``(request) -> URL`` or ``CAS_CONFIG_RESOLVER`` names a
callable ``(request) -> {"CAS_...": value}``, :func:`request_config` builds a
:class:`~django_cas_ng.conf.RequestSettings` for the request and caches it as
``request.cas_config``; the code that builds CAS URLs and talks to CAS reads it instead of
``cas_settings``. A callable ``CAS_SERVER_URL`` is one more resolver, answering
``{"CAS_SERVER_URL": url}``. With neither, it is ``cas_settings`` itself and costs two
dictionary reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import HttpRequest

from ..conf import (
    REGISTRY,
    CASSettings,
    RequestSettings,
    cas_settings,
    import_callable,
    is_server_url,
)
from ..exceptions import TenantConfigurationError

__all__ = [
    "REQUEST_ATTRIBUTE",
    "TENANT_SETTINGS",
    "build_config",
    "get_resolver",
    "is_multi_server",
    "is_server_url",
    "request_config",
    "server_resolver",
]

#: The settings a tenant may set differently: those read through :func:`request_config`.
TENANT_SETTINGS = frozenset(
    {
        "CAS_SERVER_URL",
        "CAS_VERSION",
        "CAS_ROOT_PROXIED_AS",
        "CAS_FORCE_SSL_SERVICE_URL",
        "CAS_PROXY_CALLBACK",
        "CAS_EXTRA_LOGIN_PARAMS",
        "CAS_RENEW",
        "CAS_LOGOUT_COMPLETELY",
        "CAS_RESPONSE_FORMAT",
        "CAS_LOGIN_METHOD",
        "CAS_SEND_LOCALE",
        "CAS_SLO_ALLOWED_NETWORKS",
    }
)
#: Where the configuration of a request is cached.
REQUEST_ATTRIBUTE = "cas_config"


def is_multi_server() -> bool:
    """True when the CAS server (or any tenant setting) may differ from request to request."""
    return (
        callable(REGISTRY["CAS_SERVER_URL"].raw())
        or REGISTRY["CAS_CONFIG_RESOLVER"].raw() is not None
    )


def request_config(request: HttpRequest | None) -> CASSettings:
    """The ``CAS_*`` settings as they apply to ``request``, resolved once per request.

    Raises :class:`~django_cas_ng.exceptions.TenantConfigurationError` (a 503 in the views)
    when the callable or the resolver fails or answers something unusable.
    """
    if request is None or not is_multi_server():
        return cas_settings
    config = getattr(request, REQUEST_ATTRIBUTE, None)
    if not isinstance(config, CASSettings):
        config = build_config(request)
        setattr(request, REQUEST_ATTRIBUTE, config)
    return config


def build_config(request: HttpRequest) -> CASSettings:
    """The tenant's overrides checked, with ``CAS_SERVER_URL`` resolved to a string.

    Both settings are resolvers: ``CAS_CONFIG_RESOLVER`` answers overrides, and a callable
    ``CAS_SERVER_URL`` (the project's, or the one the resolver set) answers the server.
    """
    overrides = _resolve("CAS_CONFIG_RESOLVER", get_resolver(), request)
    unknown = sorted(set(overrides) - TENANT_SETTINGS)
    if unknown:
        raise TenantConfigurationError(
            f"CAS_CONFIG_RESOLVER set {', '.join(map(str, unknown))}, which cannot vary per "
            f"tenant (host {_host(request)!r})"
        )
    for name, value in overrides.items():
        rule = REGISTRY[name].rule
        if rule is not None and not rule.accepts(value):
            raise TenantConfigurationError(
                f"CAS_CONFIG_RESOLVER set {name} to {value!r} for host {_host(request)!r}: "
                f"it must be {rule.expected}"
            )
    server = RequestSettings(overrides).server_url
    if callable(server):
        overrides.update(_resolve("CAS_SERVER_URL", server_resolver(server), request))
        server = overrides["CAS_SERVER_URL"]
    if not is_server_url(server):
        raise TenantConfigurationError(
            f"CAS_SERVER_URL for host {_host(request)!r} is {server!r}: not an http(s) URL "
            "or a path starting with '/'"
        )
    overrides["CAS_SERVER_URL"] = server
    return RequestSettings(overrides)


def get_resolver() -> Callable[[HttpRequest], Any] | None:
    """The ``CAS_CONFIG_RESOLVER`` callable (imported from its dotted path), or None."""
    value = cas_settings.config_resolver
    if value is None:
        return None
    try:
        return import_callable("CAS_CONFIG_RESOLVER", value)
    except ImproperlyConfigured as exc:
        raise TenantConfigurationError(str(exc)) from exc


def server_resolver(server: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """A callable ``CAS_SERVER_URL`` as a resolver: its answer is the request's server."""
    return lambda request: {"CAS_SERVER_URL": server(request)}


def _resolve(
    name: str, resolver: Callable[[HttpRequest], Any] | None, request: HttpRequest
) -> dict[str, Any]:
    """The overrides ``resolver`` (given by setting ``name``) answers for ``request``."""
    if resolver is None:
        return {}
    overrides = _call(name, resolver, request)
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise TenantConfigurationError(
            f"{name} returned {type(overrides).__name__}, not a mapping, for host "
            f"{_host(request)!r}"
        )
    return dict(overrides)


def _call(name: str, function: Callable[[HttpRequest], Any], request: HttpRequest) -> Any:
    """Call a site's callable; its failure is a configuration error (a bad Host stays a 400)."""
    try:
        return function(request)
    except SuspiciousOperation:
        raise
    except Exception as exc:
        raise TenantConfigurationError(
            f"{name} failed for host {_host(request)!r}: {exc.__class__.__name__}: {exc}"
        ) from exc


def _host(request: HttpRequest) -> str:
    """The Host header as sent (for log lines; never used to decide anything)."""
    return str(request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", ""))[:255]
