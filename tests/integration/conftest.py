"""Fixtures for tests that sign in through the real CAS server of tests.casserver."""

from collections.abc import Iterator

import pytest

from tests.casserver import CASServer

USERS = {"alice": "alice-password", "bob": "bob-password"}
ATTRIBUTES = {
    "alice": {
        "email": "alice@example.org",
        "first_name": "Alice",
        "last_name": "Liddell",
        "affiliation": ["staff", "member"],
    },
    "bob": {"email": "bob@example.org"},
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs a real CAS server (django-cas-server) on 127.0.0.1"
    )


@pytest.fixture(scope="session")
def cas_server() -> Iterator[CASServer]:
    """A started CAS server knowing alice (full attributes) and bob (email only)."""
    with CASServer(users=USERS, attributes=ATTRIBUTES) as server:
        yield server
