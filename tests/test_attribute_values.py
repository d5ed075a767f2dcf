"""A long multi-valued attribute: read in linear time, capped, and within the overall deadline."""

from __future__ import annotations

import logging
import time

import pytest
import responses
from django.test import Client

from django_cas_ng import client as cas_client
from tests.cas_answers import many_values_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"


def _sign_in(client: Client) -> int:
    return client.get("/accounts/login/", {"ticket": "ST-1-abc"}).status_code


def test_sixty_thousand_values_of_one_attribute_are_read_in_linear_time(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_MAX_ATTRIBUTE_VALUES = 100_000
    cas_http.get(VALIDATE, body=many_values_xml("m", 60_000))
    started = time.monotonic()
    assert _sign_in(client) == 302
    # Quadratic copying takes several seconds here; linear reading well under one.
    assert time.monotonic() - started < 3
    assert len(client.session["attributes"]["m"]) == 60_000


def test_values_past_the_cap_are_dropped_with_a_log_line(
    client: Client, cas_http: responses.RequestsMock, settings, caplog
) -> None:
    settings.CAS_MAX_ATTRIBUTE_VALUES = 50
    cas_http.get(VALIDATE, body=many_values_xml("m", 80))
    with caplog.at_level(logging.WARNING, logger="django_cas_ng.client"):
        assert _sign_in(client) == 302
    assert client.session["attributes"]["m"] == [str(i) for i in range(50)]
    assert "'m'" in caplog.text and "CAS_MAX_ATTRIBUTE_VALUES" in caplog.text


def test_the_default_cap_keeps_a_thousand_values(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(VALIDATE, body=many_values_xml("m", 1500))
    assert _sign_in(client) == 302
    assert len(client.session["attributes"]["m"]) == 1000


def test_the_overall_deadline_covers_reading_the_answer(
    client: Client, cas_http: responses.RequestsMock, settings, monkeypatch
) -> None:
    settings.CAS_TIMEOUT = (0.05, 0.05)
    cas_http.get(VALIDATE, body=many_values_xml("m", 3))
    parse = cas_client.parse_cas_answer

    def slow_parse(data: bytes | str) -> object:
        time.sleep(0.3)
        return parse(data)

    monkeypatch.setattr(cas_client, "parse_cas_answer", slow_parse)
    assert _sign_in(client) == 503


def test_the_overall_deadline_covers_reading_a_presented_ticket_answer(
    cas_http: responses.RequestsMock, settings, monkeypatch
) -> None:
    from django.test import RequestFactory

    from django_cas_ng._internal import presented as proxy_auth
    from django_cas_ng._internal.presented import validate_presented_ticket
    from django_cas_ng.exceptions import CASUnavailable

    settings.CAS_TIMEOUT = (0.05, 0.05)
    service = "http://testserver/api/"
    cas_http.get(CAS + "p3/serviceValidate", body=many_values_xml("m", 3))
    parse = proxy_auth.parse_proxy_validation

    def slow_parse(data: bytes | str) -> object:
        time.sleep(0.3)
        return parse(data)

    monkeypatch.setattr(proxy_auth, "parse_proxy_validation", slow_parse)
    with pytest.raises(CASUnavailable, match="deadline"):
        validate_presented_ticket(RequestFactory().get("/api/"), "PT-1-abc", service)
