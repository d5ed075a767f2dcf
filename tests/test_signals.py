"""The two signals and every argument they carry, exercised through the real views.

Each test below documents one argument. The CAS server is faked over HTTP, so what a
receiver sees here is what it sees in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.test import Client

from django_cas_ng.backends import CASBackend
from django_cas_ng.signals import cas_user_authenticated, cas_user_logout
from tests.cas_answers import failure_xml, logout_request, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
SERVICE = "http://testserver/accounts/login/?next=%2F"


def record(signal: Any) -> Iterator[list[dict[str, Any]]]:
    """Collect every send of ``signal`` while the test runs, as a dict of its arguments."""
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    signal.connect(receiver, weak=False)
    yield calls
    signal.disconnect(receiver)


@pytest.fixture
def authenticated() -> Iterator[list[dict[str, Any]]]:
    """Every ``cas_user_authenticated`` sent during the test, as keyword dicts."""
    yield from record(cas_user_authenticated)


@pytest.fixture
def logged_out() -> Iterator[list[dict[str, Any]]]:
    """Every ``cas_user_logout`` sent during the test, as keyword dicts."""
    yield from record(cas_user_logout)


@pytest.fixture
def signed_in(client: Client, cas_http) -> Client:
    """A browser signed in as alice with ticket ST-1-abc."""
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get("/accounts/login/?ticket=ST-1-abc")
    return client


def sign_in(client: Client, cas_http, ticket: str = "ST-1-abc", **answer: Any) -> None:
    """Sign the browser in through the login view; the fake CAS server accepts ``ticket``."""
    cas_http.get(VALIDATE, body=success_xml(**answer))
    client.get(f"/accounts/login/?ticket={ticket}")


def single_logout(ticket: str) -> None:
    """POST a SAML LogoutRequest the way a CAS server does: from its own client, no cookies."""
    response = Client().post(
        "/accounts/login/",
        urlencode({"logoutRequest": logout_request(ticket)}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200


# --- cas_user_authenticated ------------------------------------------------------------------


def test_authenticated_sender_is_the_backend_instance(client, cas_http, authenticated) -> None:
    """``sender`` is the ``CASBackend`` instance (your subclass, if you use one) that
    validated the ticket, not the class."""
    sign_in(client, cas_http)
    assert isinstance(authenticated[0]["sender"], CASBackend)


def test_authenticated_user_is_the_signed_in_user(client, cas_http, authenticated) -> None:
    """``user`` is the saved user model instance that is being signed in."""
    sign_in(client, cas_http, user="alice")
    assert authenticated[0]["user"] == get_user_model().objects.get(username="alice")


def test_authenticated_created_is_true_on_first_login(client, cas_http, authenticated) -> None:
    """``created`` is ``True`` when this login created the user."""
    sign_in(client, cas_http)
    assert authenticated[0]["created"] is True


def test_authenticated_created_is_false_on_later_logins(client, cas_http, authenticated) -> None:
    """``created`` is ``False`` when the user already existed."""
    get_user_model().objects.create(username="alice")
    sign_in(client, cas_http)
    assert authenticated[0]["created"] is False


def test_authenticated_username(client, cas_http, authenticated, settings) -> None:
    """``username`` is the name the user was looked up by, after
    ``CAS_FORCE_CHANGE_USERNAME_CASE`` and ``clean_username``."""
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "lower"
    sign_in(client, cas_http, user="Alice")
    assert authenticated[0]["username"] == "alice"


def test_authenticated_attributes(client, cas_http, authenticated, settings) -> None:
    """``attributes`` is the dict the CAS server released, after ``CAS_RENAME_ATTRIBUTES``;
    an attribute with several values is a list."""
    settings.CAS_RENAME_ATTRIBUTES = {"mail": "email"}
    sign_in(client, cas_http, attributes={"mail": "alice@example.org", "memberOf": ["a", "b"]})
    assert authenticated[0]["attributes"] == {"email": "alice@example.org", "memberOf": ["a", "b"]}


def test_authenticated_attributes_are_empty_for_cas1(
    client, cas_http, authenticated, settings
) -> None:
    """``attributes`` is an empty dict when the protocol releases none (CAS 1.0)."""
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body="yes\nalice\n")
    client.get("/accounts/login/?ticket=ST-1-abc")
    assert authenticated[0]["attributes"] == {}


def test_authenticated_pgtiou(client, cas_http, authenticated, settings) -> None:
    """``pgtiou`` is the proxy-granting ticket IOU of the validation answer, ``None`` when the
    answer has none (no ``CAS_PROXY_CALLBACK``)."""
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    sign_in(client, cas_http, pgtiou="PGTIOU-1-xyz")
    assert authenticated[0]["pgtiou"] == "PGTIOU-1-xyz"


def test_authenticated_pgtiou_is_none_without_proxying(client, cas_http, authenticated) -> None:
    """``pgtiou`` is ``None`` when the site does not ask for proxy tickets."""
    sign_in(client, cas_http)
    assert authenticated[0]["pgtiou"] is None


def test_authenticated_ticket(client, cas_http, authenticated) -> None:
    """``ticket`` is the service ticket the browser brought back from the CAS server."""
    sign_in(client, cas_http, ticket="ST-42-xyz")
    assert authenticated[0]["ticket"] == "ST-42-xyz"


def test_authenticated_service(client, cas_http, authenticated) -> None:
    """``service`` is the service URL the ticket was validated for (the login URL, with the
    landing page as ``next``)."""
    sign_in(client, cas_http)
    assert authenticated[0]["service"] == SERVICE


def test_authenticated_request(client, cas_http, authenticated) -> None:
    """``request`` is the ``HttpRequest`` of the login, carrying the ticket."""
    sign_in(client, cas_http)
    request = authenticated[0]["request"]
    assert isinstance(request, HttpRequest)
    assert request.GET["ticket"] == "ST-1-abc"


def test_authenticated_is_sent_once_per_login(client, cas_http, authenticated) -> None:
    """One successful login sends the signal once."""
    sign_in(client, cas_http)
    assert len(authenticated) == 1


def test_authenticated_is_not_sent_for_a_refused_ticket(client, cas_http, authenticated) -> None:
    """A ticket the CAS server refuses signs nobody in and sends nothing."""
    cas_http.get(VALIDATE, body=failure_xml())
    client.get("/accounts/login/?ticket=ST-forged")
    assert authenticated == []


# --- cas_user_logout on manual logout --------------------------------------------------------


def test_manual_logout_sender_is_manual(signed_in, logged_out) -> None:
    """``sender`` is the string ``'manual'`` when the user visits the logout view."""
    signed_in.get("/accounts/logout/")
    assert logged_out[0]["sender"] == "manual"


def test_manual_logout_user(signed_in, logged_out) -> None:
    """``user`` is the user who is logging out, still signed in when the signal is sent."""
    signed_in.get("/accounts/logout/")
    assert logged_out[0]["user"].username == "alice"


def test_manual_logout_session(signed_in) -> None:
    """``session`` is the session being ended, still holding its data when the signal is sent;
    it is flushed right after, so read what you need inside the receiver."""
    seen: list[tuple[str | None, str | None]] = []

    def receiver(sender: Any, session: SessionBase, **kwargs: Any) -> None:
        seen.append((session.session_key, session.get("_auth_user_id")))

    user_id = str(get_user_model().objects.get(username="alice").pk)
    session_key = signed_in.session.session_key
    cas_user_logout.connect(receiver)
    try:
        signed_in.get("/accounts/logout/")
    finally:
        cas_user_logout.disconnect(receiver)
    assert seen == [(session_key, user_id)]


def test_manual_logout_ticket_is_the_login_ticket(signed_in, logged_out) -> None:
    """``ticket`` is the service ticket this session was opened with."""
    signed_in.get("/accounts/logout/")
    assert logged_out[0]["ticket"] == "ST-1-abc"


def test_manual_logout_ticket_is_none_without_a_cas_login(client, logged_out) -> None:
    """``ticket`` is ``None`` when the session was not opened by a CAS login, e.g. when an
    anonymous visitor opens the logout URL."""
    client.get("/accounts/logout/")
    assert logged_out[0]["ticket"] is None


# --- cas_user_logout on Single Logout --------------------------------------------------------


def test_single_logout_sender_is_slo(signed_in, logged_out) -> None:
    """``sender`` is the string ``'slo'`` when the CAS server ends the session."""
    single_logout("ST-1-abc")
    assert logged_out[0]["sender"] == "slo"


def test_single_logout_user(signed_in, logged_out) -> None:
    """``user`` is the user the ended session belonged to."""
    single_logout("ST-1-abc")
    assert logged_out[0]["user"].username == "alice"


def test_single_logout_session(signed_in, logged_out) -> None:
    """``session`` is the browser's session, loaded by its key (the request comes from the
    CAS server, not the browser), with its data; it is deleted right after the signal."""
    session_key = signed_in.session.session_key
    user_id = signed_in.session["_auth_user_id"]
    single_logout("ST-1-abc")
    session = logged_out[0]["session"]
    assert isinstance(session, SessionBase)
    assert (session.session_key, session.get("_auth_user_id")) == (session_key, user_id)


def test_single_logout_ticket(signed_in, logged_out) -> None:
    """``ticket`` is the service ticket named by the logout request's ``SessionIndex``."""
    single_logout("ST-1-abc")
    assert logged_out[0]["ticket"] == "ST-1-abc"


def test_single_logout_ends_the_session(signed_in, logged_out) -> None:
    """After the signal the session is gone: the browser is signed out."""
    single_logout("ST-1-abc")
    assert "_auth_user_id" not in signed_in.session


def test_single_logout_is_sent_once_per_session(signed_in, logged_out) -> None:
    """A repeated logout request for the same ticket finds nothing left to end."""
    single_logout("ST-1-abc")
    single_logout("ST-1-abc")
    assert [call["sender"] for call in logged_out] == ["slo"]


def test_single_logout_after_manual_logout_sends_nothing(signed_in, logged_out) -> None:
    """A session ended by the user is not ended (nor signalled) again by Single Logout."""
    signed_in.get("/accounts/logout/")
    single_logout("ST-1-abc")
    assert [call["sender"] for call in logged_out] == ["manual"]


def test_single_logout_for_an_unknown_ticket_sends_nothing(signed_in, logged_out) -> None:
    """Only sessions opened with the named ticket are ended."""
    single_logout("ST-999-other")
    assert logged_out == []
