"""Single Logout: back channel (form field or bare XML), front channel, and hostile input."""

from __future__ import annotations

import contextlib
import time
import tracemalloc

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from django_cas_ng._internal.slo import (
    MAX_SESSION_INDEXES,
    end_sessions,
    front_channel_xml,
    session_indexes,
)
from django_cas_ng.exceptions import BadLogoutRequest
from django_cas_ng.models import ProxyGrantingTicket, SessionTicket
from django_cas_ng.signals import cas_user_logout
from django_cas_ng.views import LoginView
from tests.cas_answers import front_channel, logout_request

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
CALLBACK = "/accounts/callback/"


def signed_in_session(ticket: str, username: str = "alice") -> str:
    """Create a signed-in DB session mapped to ``ticket``; returns its key."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django_cas_ng.backends.CASBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    SessionTicket.objects.create(session_key=session.session_key, ticket=ticket)
    ProxyGrantingTicket.objects.create(session_key=session.session_key, user=user, pgt="PGT-1")
    return str(session.session_key)


@pytest.fixture
def logouts() -> list[dict]:
    received: list[dict] = []

    def receiver(sender, **kwargs):
        received.append({"sender": sender, **kwargs})

    cas_user_logout.connect(receiver, weak=False)
    yield received
    cas_user_logout.disconnect(receiver)


@pytest.mark.parametrize("version", ["1", "2", "3", "CAS_2_SAML_1_0"])
def test_back_channel_logout_ends_session_for_every_cas_version(
    client: Client, settings, version
) -> None:
    settings.CAS_VERSION = version
    key = signed_in_session("ST-1-abc")
    response = client.post(LOGIN, {"logoutRequest": logout_request("ST-1-abc")})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_back_channel_logout_deletes_mapping_and_pgts(client: Client) -> None:
    signed_in_session("ST-1-abc")
    client.post(LOGIN, {"logoutRequest": logout_request("ST-1-abc")})
    assert not SessionTicket.objects.exists()
    assert not ProxyGrantingTicket.objects.exists()


def test_back_channel_logout_sends_signal_with_user_session_and_ticket(
    client: Client, logouts
) -> None:
    signed_in_session("ST-1-abc")
    client.post(LOGIN, {"logoutRequest": logout_request("ST-1-abc")})
    [event] = logouts
    assert event["sender"] == "slo"
    assert event["user"].username == "alice"
    assert event["ticket"] == "ST-1-abc"
    assert event["session"] is not None


def test_back_channel_logout_to_callback_view(client: Client) -> None:
    key = signed_in_session("ST-1-abc")
    assert client.post(CALLBACK, {"logoutRequest": logout_request("ST-1-abc")}).status_code == 200
    assert not SessionStore().exists(key)


def test_bare_xml_body_is_accepted(client: Client) -> None:
    key = signed_in_session("ST-1-abc")
    response = client.post(LOGIN, logout_request("ST-1-abc"), content_type="text/xml")
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_other_sessions_survive(client: Client) -> None:
    signed_in_session("ST-1-abc", "alice")
    other = signed_in_session("ST-2-def", "bob")
    client.post(LOGIN, {"logoutRequest": logout_request("ST-1-abc")})
    assert SessionStore().exists(other)
    assert SessionTicket.objects.filter(session_key=other).exists()


def test_one_signal_per_ended_session(client: Client, logouts) -> None:
    signed_in_session("ST-1-abc", "alice")
    signed_in_session("ST-2-def", "bob")
    client.post(LOGIN, {"logoutRequest": logout_request("ST-1-abc", "ST-2-def")})
    assert sorted(e["user"].username for e in logouts) == ["alice", "bob"]


def test_unknown_ticket_is_a_harmless_200(client: Client, logouts) -> None:
    response = client.post(LOGIN, {"logoutRequest": logout_request("ST-unknown")})
    assert response.status_code == 200
    assert logouts == []


def test_malformed_xml_is_400_with_message(client: Client) -> None:
    response = client.post(LOGIN, {"logoutRequest": "<samlp:LogoutRequest"})
    assert response.status_code == 400
    assert b"not well-formed" in response.content


def test_logout_request_without_session_index_is_400(client: Client) -> None:
    xml = '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'
    assert client.post(LOGIN, {"logoutRequest": xml}).status_code == 400


def test_other_xml_document_is_400(client: Client) -> None:
    assert client.post(LOGIN, {"logoutRequest": "<html><body/></html>"}).status_code == 400


def test_billion_laughs_is_refused_quickly(client: Client) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
            for i in range(1, 10)
        )
        + ']><samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
        "<samlp:SessionIndex>&lol9;</samlp:SessionIndex></samlp:LogoutRequest>"
    )
    started = time.perf_counter()
    response = client.post(LOGIN, {"logoutRequest": bomb})
    assert response.status_code == 400
    assert time.perf_counter() - started < 1


def test_external_entity_is_refused(client: Client) -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
        "<samlp:SessionIndex>&e;</samlp:SessionIndex></samlp:LogoutRequest>"
    )
    assert client.post(LOGIN, {"logoutRequest": xxe}).status_code == 400


def test_ten_megabyte_body_is_refused_before_reading_with_bounded_memory(rf) -> None:
    body = "logoutRequest=" + "A" * (10 * 1024 * 1024)
    request = rf.post(LOGIN, body, content_type="application/x-www-form-urlencoded")
    request.session = SessionStore()
    request.user = AnonymousUser()
    tracemalloc.start()
    started = time.perf_counter()
    response = LoginView.as_view()(request)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 413
    assert elapsed < 0.1
    assert peak < 1024 * 1024


def test_ten_megabyte_xml_body_is_refused(client: Client) -> None:
    body = logout_request("ST-1") + " " * (10 * 1024 * 1024)
    assert client.post(LOGIN, body, content_type="text/xml").status_code == 413


def test_sender_outside_allowed_networks_is_403(client: Client, settings) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    key = signed_in_session("ST-1-abc")
    response = client.post(
        LOGIN, {"logoutRequest": logout_request("ST-1-abc")}, REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 403
    assert SessionStore().exists(key)


def test_sender_inside_allowed_networks_is_served(client: Client, settings) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.1"]
    key = signed_in_session("ST-1-abc")
    client.post(LOGIN, {"logoutRequest": logout_request("ST-1-abc")}, REMOTE_ADDR="10.1.2.3")
    assert not SessionStore().exists(key)


def test_trusted_forwarded_header_gives_the_sender_address(client: Client, settings) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.CAS_SLO_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    key = signed_in_session("ST-1-abc")
    client.post(
        LOGIN,
        {"logoutRequest": logout_request("ST-1-abc")},
        REMOTE_ADDR="192.0.2.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.9.9.9",
    )
    assert not SessionStore().exists(key)


def test_front_channel_logout_ends_session(client: Client) -> None:
    key = signed_in_session("ST-1-abc")
    response = client.get(LOGIN, {"logoutRequest": front_channel(logout_request("ST-1-abc"))})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_front_channel_logout_answers_jsonp_callback(client: Client) -> None:
    signed_in_session("ST-1-abc")
    response = client.get(
        LOGIN, {"logoutRequest": front_channel(logout_request("ST-1-abc")), "callback": "jQuery_1"}
    )
    assert response["Content-Type"] == "application/javascript"
    assert response.content == b'/**/jQuery_1({"status": "ok"});'


def test_front_channel_answer_does_not_tell_how_many_sessions_ended(client: Client) -> None:
    signed_in_session("ST-1-abc")
    bodies = {
        client.get(
            LOGIN, {"logoutRequest": front_channel(logout_request(ticket)), "callback": "cb"}
        ).content
        for ticket in ("ST-1-abc", "ST-unknown")
    }
    assert bodies == {b'/**/cb({"status": "ok"});'}


# --- the cost of one logout request ----------------------------------------------------------


def test_logout_request_naming_more_sessions_than_the_cap_is_refused_without_queries(
    client: Client,
) -> None:
    """A 64 KiB request can name 858 tickets; a CAS server names one."""
    xml = logout_request(*(f"ST-{n}-abcdefghijklmnopqrstu" for n in range(858)))
    assert 59_000 < len(xml) <= 64 * 1024
    with CaptureQueriesContext(connection) as queries:
        response = client.post(LOGIN, xml, content_type="text/xml")
    assert response.status_code == 400
    assert len(queries) == 0


def test_every_ticket_of_a_logout_request_is_looked_up_in_one_query() -> None:
    xml = logout_request(*(f"ST-{n}" for n in range(MAX_SESSION_INDEXES))).encode()
    with CaptureQueriesContext(connection) as queries:
        assert end_sessions(xml) == 0
    assert len(queries) == 1


def test_sessions_of_several_tickets_end_together(client: Client) -> None:
    keys = [signed_in_session(f"ST-{n}", username=f"user{n}") for n in range(3)]
    client.post(LOGIN, {"logoutRequest": logout_request("ST-0", "ST-2")})
    assert [SessionStore().exists(key) for key in keys] == [False, True, False]


def test_only_sessions_that_still_existed_are_counted_as_ended() -> None:
    live = signed_in_session("ST-live")
    gone = signed_in_session("ST-gone", username="bob")
    SessionStore(session_key=gone).delete()
    assert end_sessions(logout_request("ST-live", "ST-gone").encode()) == 1
    assert not SessionStore().exists(live)
    assert not SessionTicket.objects.exists()


def test_front_channel_refuses_script_injection_in_callback(client: Client) -> None:
    response = client.get(
        LOGIN, {"logoutRequest": front_channel(logout_request("ST-x")), "callback": "alert(1)//"}
    )
    assert response["Content-Type"].startswith("text/plain")


def test_front_channel_deflate_bomb_is_refused(client: Client) -> None:
    bomb = front_channel(logout_request("ST-1") + " " * (50 * 1024 * 1024))
    response = client.get(LOGIN, {"logoutRequest": bomb})
    assert response.status_code == 413


def test_front_channel_garbage_is_400(client: Client) -> None:
    assert client.get(LOGIN, {"logoutRequest": "!!!not-base64!!!"}).status_code == 400


@hsettings(max_examples=500, deadline=None)
@given(body=st.one_of(st.binary(max_size=512), st.text(max_size=512).map(str.encode)))
def test_no_logout_body_crashes_the_parser(body: bytes) -> None:
    """Any body either names tickets or is refused with BadLogoutRequest."""
    try:
        tickets = session_indexes(body)
    except BadLogoutRequest:
        return
    assert all(isinstance(t, str) and t for t in tickets)


@hsettings(max_examples=300, deadline=None)
@given(encoded=st.text(max_size=256))
def test_no_front_channel_parameter_crashes_the_decoder(encoded: str) -> None:
    """Any front-channel value decodes to bytes or is refused with BadLogoutRequest."""
    with contextlib.suppress(BadLogoutRequest):
        assert isinstance(front_channel_xml(encoded), bytes)
