"""Shared fixtures: CAS answers faked with ``responses``; no unit test reaches a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
from django.test import Client

from django_cas_ng._internal.http import reset_http_sessions

# The answer builders live in tests/cas_answers.py; these names stay importable from here.
from tests.cas_answers import failure_xml, success_xml

__all__ = ["CAS", "failure_xml", "strict_responses", "success_xml"]

CAS = "https://cas.example.com/cas/"

UNMATCHED = "Connection refused by Responses"
"""How ``responses`` starts the ConnectionError it raises for a call no mock matches."""

LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}


@pytest.fixture
def client() -> Client:
    """pytest-django's ``client`` as a modern browser on the site's own links: Fetch Metadata
    says ``same-origin`` (the logout view signs out on a GET only then; tests of other GETs
    pass the header themselves)."""
    return Client(HTTP_SEC_FETCH_SITE="same-origin")


@pytest.fixture(autouse=True)
def _fresh_http_sessions() -> Iterator[None]:
    reset_http_sessions()
    yield
    reset_http_sessions()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Each test starts with no request counted against the rate limits (the cache)."""
    from django.core.cache import caches

    caches["default"].clear()


@pytest.fixture(autouse=True)
def _no_real_http(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never reach another host: HTTP that ``responses`` does not fake fails loudly.

    Integration and cluster tests talk to real servers and are left alone; so is loopback,
    where a unit test may open (or refuse) a connection of its own.
    """
    if request.node.get_closest_marker("integration") or request.node.get_closest_marker("cluster"):
        return
    real_send = requests.adapters.HTTPAdapter.send

    def send(adapter: Any, prepared: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if urlsplit(prepared.url or "").hostname in LOOPBACK:
            return real_send(adapter, prepared, *args, **kwargs)
        # pytest.fail raises a BaseException: no ``except Exception`` turns it into a 503.
        pytest.fail(
            f"real HTTP in a unit test: {prepared.method} {prepared.url}; "
            "use the cas_http fixture and register an answer",
            pytrace=False,
        )

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)


def unmatched_calls(mock: responses.RequestsMock) -> list[str]:
    """The calls ``mock`` refused because no registered answer matched them."""
    return [
        f"{call.request.method} {call.request.url}"
        for call in mock.calls
        if isinstance(call.response, requests.ConnectionError)
        and str(call.response).startswith(UNMATCHED)
    ]


@contextmanager
def strict_responses() -> Iterator[responses.RequestsMock]:
    """``responses`` that fails the test, on exit, for any call no registered answer matched.

    ``responses`` turns such a call into a ConnectionError, which the code under test maps to
    503, so a test expecting 503 would pass with its mock missing.
    """
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        unmatched = unmatched_calls(mock)  # leaving the block forgets the calls
    if unmatched:
        pytest.fail(f"HTTP call(s) no cas_http answer matched: {unmatched}", pytrace=False)


@pytest.fixture
def cas_http() -> Iterator[responses.RequestsMock]:
    """Fake CAS server HTTP for unit tests; a call no answer matches fails the test.

    A test that wants CAS unreachable says so:
    ``cas_http.get(url, body=requests.ConnectionError("refused"))``, or uses ``cas_down``.
    """
    with strict_responses() as mock:
        yield mock


@pytest.fixture
def cas_down(cas_http: responses.RequestsMock) -> responses.RequestsMock:
    """The CAS server cannot be reached: every GET or POST to it fails to connect."""
    everything = re.compile(re.escape(CAS) + ".*")
    for method in (responses.GET, responses.POST):
        cas_http.add(method, everything, body=requests.ConnectionError("CAS is down"))
    return cas_http
