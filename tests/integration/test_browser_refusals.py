"""Tickets the CAS server refuses, and a CAS server that is down or never answers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from django_cas_ng.models import SessionTicket
from tests.integration.browser import Browser
from tests.ports import closed_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ALL_VERSIONS = ["1", "2", "3", "CAS_2_SAML_1_0"]
REFUSED_TEXT = "did not accept this sign-in ticket"
UNAVAILABLE_TEXT = "Sign-in is temporarily unavailable"


def assert_refusal_page(response: Any) -> None:
    """403 with the human-readable page, not a bare error."""
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert REFUSED_TEXT in response.text
    assert "Sign in again" in response.text


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_replayed_ticket_in_a_fresh_browser_is_refused(
    app: Any, browser_factory: Any, version: str
) -> None:
    app.CAS_VERSION = version
    victim, attacker = browser_factory(), browser_factory()
    flow = victim.sign_in("alice")
    assert flow.landing.status_code == 302

    replay = attacker.get(flow.ticket_url)

    assert_refusal_page(replay)
    assert not attacker.is_signed_in()
    assert SessionTicket.objects.count() == 1


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_forged_ticket_is_refused(app: Any, browser: Browser, version: str) -> None:
    app.CAS_VERSION = version

    response = browser.get(
        "/accounts/login/", params={"next": "/private/", "ticket": "ST-1-forgedforgedforged-cas"}
    )

    assert_refusal_page(response)
    assert not browser.is_signed_in()
    assert not get_user_model().objects.exists()
    assert not SessionTicket.objects.exists()


@pytest.fixture
def silent_cas_url() -> Iterator[str]:
    """A 'CAS server' that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def accept_and_sleep() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                accepted.append(connection)  # keep it open, read nothing, answer nothing

    thread = threading.Thread(target=accept_and_sleep, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/cas/"
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        listener.close()


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_cas_server_down_at_validation_gives_503(app: Any, browser: Browser, version: str) -> None:
    app.CAS_VERSION = version
    app.CAS_TIMEOUT = (1, 1)
    _, _, ticket_url = browser.obtain_ticket_url("alice")
    app.CAS_SERVER_URL = f"http://127.0.0.1:{closed_port()}/cas/"

    started = time.monotonic()
    response = browser.get(ticket_url)
    elapsed = time.monotonic() - started

    assert response.status_code == 503, response.text
    assert UNAVAILABLE_TEXT in response.text
    assert elapsed < 5
    assert not browser.is_signed_in()


# One GET (CAS 3 serviceValidate) and one POST (SAML samlValidate) protocol; each costs CAS_TIMEOUT.
@pytest.mark.parametrize("version", ["3", "CAS_2_SAML_1_0"])
def test_cas_server_that_never_answers_gives_503_within_the_timeout(
    app: Any, browser: Browser, silent_cas_url: str, version: str
) -> None:
    app.CAS_VERSION = version
    app.CAS_TIMEOUT = (1, 1)
    _, _, ticket_url = browser.obtain_ticket_url("alice")
    app.CAS_SERVER_URL = silent_cas_url

    started = time.monotonic()
    response = browser.get(ticket_url)
    elapsed = time.monotonic() - started

    assert response.status_code == 503, response.text
    assert UNAVAILABLE_TEXT in response.text
    assert 1 <= elapsed < 5
    assert not browser.is_signed_in()
