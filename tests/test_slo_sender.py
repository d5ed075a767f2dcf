"""The back-channel sender check on dual-stack listeners (issue 10.13): an IPv4 sender seen as
an IPv4-mapped IPv6 address (``::ffff:10.0.0.5``) is matched as the IPv4 address it is."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from django_cas_ng._internal.slo import check_sender
from django_cas_ng.exceptions import BadLogoutRequest
from tests.cas_answers import logout_request
from tests.test_slo import LOGIN, signed_in_session

pytestmark = pytest.mark.django_db


def sender(address: str, settings, networks: list[str]) -> bool:
    settings.CAS_SLO_ALLOWED_NETWORKS = networks
    try:
        check_sender(RequestFactory().post(LOGIN, REMOTE_ADDR=address))
    except BadLogoutRequest:
        return False
    return True


def test_a_mapped_ipv4_sender_inside_an_ipv4_network_ends_the_session(
    client: Client, settings
) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    key = signed_in_session("ST-1-abc")

    response = client.post(
        LOGIN, {"logoutRequest": logout_request("ST-1-abc")}, REMOTE_ADDR="::ffff:10.0.0.5"
    )

    assert response.status_code == 200
    assert not SessionStore().exists(key)


@pytest.mark.parametrize(
    ("address", "networks", "allowed"),
    [
        ("::ffff:10.0.0.5", ["10.0.0.0/8"], True),
        ("::ffff:10.0.0.5", ["10.0.0.5"], True),
        ("::ffff:192.0.2.1", ["10.0.0.0/8"], False),
        ("10.0.0.5", ["::ffff:10.0.0.0/104"], True),
        ("::ffff:10.0.0.5", ["::ffff:10.0.0.0/104"], True),
        ("192.0.2.1", ["::ffff:10.0.0.0/104"], False),
        ("::ffff:10.0.0.5", ["2001:db8::/32"], False),
        ("2001:db8::5", ["10.0.0.0/8"], False),
        ("2001:db8::5", ["2001:db8::/32"], True),
        ("::ffff:10.0.0.5", ["::/0"], True),
    ],
)
def test_mapped_addresses_match_the_network_of_either_form(
    settings, address: str, networks: list[str], allowed: bool
) -> None:
    assert sender(address, settings, networks) is allowed


def test_a_mapped_address_in_the_trusted_header_is_matched_too(settings) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.CAS_SLO_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    request = RequestFactory().post(
        LOGIN, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="::ffff:10.9.9.9"
    )
    check_sender(request)
