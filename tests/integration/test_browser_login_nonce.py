"""The login nonce through the real CAS server (issue 10.16): sign-in works with it on, and a
ticket link minted in another browser session signs no one in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.browser import Browser, query_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_sign_in_with_the_nonce_on_works(app: Any, browser: Browser) -> None:
    app.CAS_LOGIN_NONCE = True

    flow = browser.sign_in("alice", next_page="/private/")

    assert "nonce" in query_of(flow.service)
    assert flow.landing.status_code == 302, flow.landing.text
    assert flow.landing.headers["Location"] == "/private/"
    assert browser.is_signed_in()


def test_an_attackers_ticket_link_signs_the_victim_in_without_the_nonce(
    app: Any, browser_factory: Callable[[], Browser]
) -> None:
    """The threat itself (login CSRF), as it stands with the nonce off."""
    attacker, victim = browser_factory(), browser_factory()
    _, _, attackers_link = attacker.obtain_ticket_url("bob")

    assert victim.get(attackers_link).status_code == 302
    assert victim.get("/").text == "home bob"


def test_a_ticket_link_minted_in_another_browser_is_refused_with_the_nonce(
    app: Any, browser_factory: Callable[[], Browser]
) -> None:
    app.CAS_LOGIN_NONCE = True
    attacker, victim = browser_factory(), browser_factory()
    _, _, attackers_link = attacker.obtain_ticket_url("bob")
    victim.start_login()  # a sign-in of the victim's own is under way

    answer = victim.get(attackers_link)

    assert answer.status_code == 403
    assert not victim.is_signed_in()
    assert victim.get("/").text == "home "
