"""The suite's own HTTP guards: a missing fake answer or a real outbound call fails the test."""

from __future__ import annotations

import pytest
import requests
from django.test import Client

from tests.cas_answers import success_xml
from tests.conftest import CAS, strict_responses, unmatched_calls
from tests.ports import closed_port

VALIDATE = CAS + "p3/serviceValidate"

pytestmark = pytest.mark.django_db


def test_a_missing_answer_fails_the_test_although_login_answers_503(client: Client) -> None:
    missing = pytest.raises(pytest.fail.Exception, match=r"no cas_http answer matched.*Validate")
    with missing, strict_responses():
        # What a test with a forgotten mock used to see, and pass on.
        assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 503


def test_a_matched_answer_passes(client: Client) -> None:
    with strict_responses() as mock:
        mock.get(VALIDATE, body=success_xml("alice"))
        assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 302


def test_an_unreachable_server_said_out_loud_is_not_a_missing_answer(client: Client) -> None:
    with strict_responses() as mock:
        mock.get(VALIDATE, body=requests.ConnectionError("CAS is down"))
        assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 503
        assert unmatched_calls(mock) == []


def test_cas_down_makes_every_call_to_cas_fail_to_connect(client: Client, cas_down) -> None:
    assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 503
    assert [call.request.url.split("?")[0] for call in cas_down.calls] == [VALIDATE]


def test_real_http_to_another_host_fails_the_test_even_where_errors_are_caught() -> None:
    with pytest.raises(pytest.fail.Exception, match="real HTTP in a unit test"):
        requests.get("https://cas.example.com/cas/login", timeout=1)
    # Code that maps ``except Exception`` (or RequestException) to a 503 cannot swallow it.
    assert not issubclass(pytest.fail.Exception, Exception)


def test_login_without_cas_http_fails_instead_of_reaching_the_network(client: Client) -> None:
    with pytest.raises(pytest.fail.Exception, match="real HTTP in a unit test"):
        client.get("/accounts/login/?ticket=ST-1-abc")


def test_loopback_is_not_outbound_http() -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{closed_port()}/", timeout=1)


@pytest.mark.integration
def test_integration_tests_are_not_guarded() -> None:
    assert requests.adapters.HTTPAdapter.send.__name__ == "send"
    assert requests.adapters.HTTPAdapter.send.__module__ == "requests.adapters"
