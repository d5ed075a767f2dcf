"""Two tenants of one site told apart by host, each with its own CAS server: the callable
``CAS_SERVER_URL`` and the ``CAS_CONFIG_RESOLVER`` that the multi-server tests configure."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

CAS_A = "https://cas-a.example.org/cas/"
CAS_B = "https://cas-b.example.org/cas/"
SERVERS = {"a.example": CAS_A, "b.example": CAS_B}
calls: list[str] = []
"""Hosts the resolver was called for, so a test can count the calls."""


def server_for_host(request: HttpRequest) -> str | None:
    """The CAS server of the request's tenant; None for an unknown host."""
    return SERVERS.get(request.get_host())


def resolver(request: HttpRequest) -> dict[str, Any]:
    """Tenant A speaks CAS 3 at its server; tenant B speaks CAS 2 and always renews."""
    calls.append(request.get_host())
    if request.get_host() == "b.example":
        return {"CAS_SERVER_URL": CAS_B, "CAS_VERSION": "2", "CAS_RENEW": True}
    return {"CAS_SERVER_URL": CAS_A, "CAS_VERSION": "3"}


def failing_resolver(request: HttpRequest) -> dict[str, Any]:
    raise LookupError("no tenant configured for this host")


def resolver_of_global_setting(request: HttpRequest) -> dict[str, Any]:
    return {"CAS_CREATE_USER": False}


NOT_CALLABLE = "a string"
