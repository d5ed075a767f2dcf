"""Shared fixtures: CAS answers faked with ``responses`` for unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from django_cas_ng.transport import reset_http_sessions

CAS = "https://cas.example.com/cas/"


@pytest.fixture(autouse=True)
def _fresh_http_sessions() -> Iterator[None]:
    reset_http_sessions()
    yield
    reset_http_sessions()


@pytest.fixture
def cas_http() -> Iterator[responses.RequestsMock]:
    """Fake CAS server HTTP for unit tests; unmatched calls fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def success_xml(
    user: str = "alice", attributes: dict | None = None, pgtiou: str | None = None
) -> str:
    """A CAS 2/3 authenticationSuccess answer."""
    attrs = ""
    for name, value in (attributes or {}).items():
        for v in value if isinstance(value, list) else [value]:
            attrs += f"<cas:{name}>{v}</cas:{name}>"
    pgt = f"<cas:proxyGrantingTicket>{pgtiou}</cas:proxyGrantingTicket>" if pgtiou else ""
    return (
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">'
        f"<cas:authenticationSuccess><cas:user>{user}</cas:user>{pgt}"
        f"<cas:attributes>{attrs}</cas:attributes>"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )


def failure_xml(code: str = "INVALID_TICKET") -> str:
    """A CAS 2/3 authenticationFailure answer."""
    return (
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">'
        f'<cas:authenticationFailure code="{code}">Ticket not recognized</cas:authenticationFailure>'
        "</cas:serviceResponse>"
    )
