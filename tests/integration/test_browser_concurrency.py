"""Many browsers of the same, not yet known, user completing their first sign-in at once.

Needs a database on which the live server's request threads get connections of their own:
with tests.settings' in-memory SQLite, pytest-django hands the test's one connection to every
request thread, and parallel requests then break each other's transactions. Run it with
``--ds tests.integration.settings`` (SQLite on disk), or on PostgreSQL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection

from django_cas_ng.models import SessionTicket
from tests.integration.browser import Browser


def _live_server_shares_one_connection() -> bool:
    """True for in-memory SQLite, whose one connection every live-server thread then uses."""
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        _live_server_shares_one_connection(),
        reason="in-memory SQLite: the live server shares one DB connection between its request "
        "threads; run with --ds tests.integration.settings (SQLite on disk) or PostgreSQL",
    ),
]

PARALLEL = 20


def test_parallel_first_logins_of_a_new_user_create_one_user(
    app: Any, browser_factory: Any
) -> None:
    browsers: list[Browser] = [browser_factory() for _ in range(PARALLEL)]
    # Tickets first, one after the other: the CAS server is not what is under test.
    ticket_urls = [browser.obtain_ticket_url("alice")[2] for browser in browsers]
    assert not get_user_model().objects.filter(username="alice").exists()
    start = threading.Barrier(PARALLEL)

    def validate(browser: Browser, ticket_url: str) -> requests.Response:
        start.wait(timeout=30)
        return browser.get(ticket_url)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        answers = list(pool.map(validate, browsers, ticket_urls))

    statuses = [answer.status_code for answer in answers]
    assert statuses == [302] * PARALLEL, [answer.text[:300] for answer in answers]
    assert {answer.headers["Location"] for answer in answers} == {"/private/"}
    assert get_user_model().objects.filter(username="alice").count() == 1
    assert SessionTicket.objects.count() == PARALLEL
    assert {row.session_key for row in SessionTicket.objects.all()} == {
        browser.session_key for browser in browsers
    }
    assert all(browser.is_signed_in() for browser in browsers)
