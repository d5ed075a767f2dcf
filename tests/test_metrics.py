"""``cas_ticket_validated``: one send per validation at the CAS server, with its outcome and
latency, from sign-in, presented proxy tickets and step-up; the log lines carry the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client, RequestFactory

from django_cas_ng._internal import observe
from django_cas_ng._internal.presented import authenticate_proxy_ticket
from django_cas_ng.backends import CASBackend
from django_cas_ng.exceptions import TicketValidationError
from django_cas_ng.signals import cas_ticket_validated
from django_cas_ng.stepup import StepUpView
from tests.cas_answers import failure_xml, proxy_validate_xml, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
TICKET = "ST-1-abcdefghijkl"


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    """Every send of ``cas_ticket_validated`` during the test, as a dict of its arguments."""
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    cas_ticket_validated.connect(receiver, weak=False)
    yield calls
    cas_ticket_validated.disconnect(receiver)


def sign_in(client: Client) -> int:
    return client.get(f"/accounts/login/?ticket={TICKET}").status_code


def test_a_successful_sign_in_sends_success_with_its_duration(client, cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    assert sign_in(client) == 302
    [call] = sent
    assert call["outcome"] == observe.SUCCESS
    assert 0 <= call["duration"] < 5


def test_the_sender_is_the_backend_class(client, cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    sign_in(client)
    assert sent[0]["sender"] is CASBackend


def test_version_and_service_are_sent(client, cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    sign_in(client)
    assert sent[0]["version"] == "3"
    assert sent[0]["service"].startswith("http://testserver/accounts/login/")


def test_a_refused_ticket_sends_refused(client, cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=failure_xml("INVALID_TICKET"))
    assert sign_in(client) == 403
    assert [call["outcome"] for call in sent] == [observe.REFUSED]


def test_an_unreachable_server_sends_unavailable(client, cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    assert sign_in(client) == 503
    assert [call["outcome"] for call in sent] == [observe.UNAVAILABLE]


def test_an_unreadable_answer_sends_malformed(client, cas_http, sent) -> None:
    cas_http.get(VALIDATE, body="<cas:serviceResponse")
    assert sign_in(client) == 503
    assert [call["outcome"] for call in sent] == [observe.MALFORMED]


def test_an_unexpected_failure_sends_error(monkeypatch, cas_http, sent) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("broken client factory")

    monkeypatch.setattr("django_cas_ng.backends.get_cas_client", broken)
    with pytest.raises(RuntimeError):
        CASBackend().validate(None, TICKET, "https://app.example.org/")
    assert [call["outcome"] for call in sent] == [observe.ERROR]


def test_the_ticket_is_never_sent(client, cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    sign_in(client)
    assert "ticket" not in sent[0]
    assert TICKET not in repr(sent[0])


def test_every_outcome_is_one_of_the_documented_few() -> None:
    documented = {"success", "refused", "unavailable", "malformed", "misconfigured", "error"}
    assert documented | {"denied"} == observe.OUTCOMES


def test_the_sign_in_log_line_carries_outcome_and_milliseconds(client, cas_http, caplog) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    with caplog.at_level("INFO", logger="django_cas_ng.login"):
        sign_in(client)
    assert re.search(r"Signed in alice .* outcome=success ms=\d+$", caplog.text, re.M)


def test_the_refusal_log_line_carries_outcome_and_milliseconds(client, cas_http, caplog) -> None:
    cas_http.get(VALIDATE, body=failure_xml("INVALID_TICKET"))
    with caplog.at_level("WARNING", logger="django_cas_ng.login"):
        sign_in(client)
    assert re.search(r"INVALID_TICKET .*outcome=refused ms=\d+$", caplog.text, re.M)


def test_the_unavailable_log_line_carries_outcome_and_milliseconds(
    client, cas_http, caplog
) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    with caplog.at_level("ERROR", logger="django_cas_ng.client"):
        sign_in(client)
    assert re.search(r"unavailable: .* outcome=unavailable ms=\d+$", caplog.text, re.M)


def test_a_failing_receiver_does_not_fail_the_sign_in(client, cas_http, caplog) -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise ValueError("metrics backend down")

    cas_http.get(VALIDATE, body=success_xml("alice"))
    cas_ticket_validated.connect(broken, weak=False)
    try:
        assert sign_in(client) == 302
    finally:
        cas_ticket_validated.disconnect(broken)
    assert "metrics backend down" in caplog.text


def test_an_async_receiver_is_called(client, cas_http) -> None:
    outcomes: list[str] = []

    async def receiver(sender: Any, outcome: str, **kwargs: Any) -> None:
        outcomes.append(outcome)

    cas_http.get(VALIDATE, body=success_xml("alice"))
    cas_ticket_validated.connect(receiver, weak=False)
    try:
        sign_in(client)
    finally:
        cas_ticket_validated.disconnect(receiver)
    assert outcomes == ["success"]


def test_an_async_receiver_is_called_when_validation_runs_under_an_event_loop(sent) -> None:
    outcomes: list[str] = []

    async def receiver(sender: Any, outcome: str, **kwargs: Any) -> None:
        outcomes.append(outcome)

    def measured() -> None:
        with observe.measure_validation("proxy", "https://app.example.org/"):
            pass

    cas_ticket_validated.connect(receiver, weak=False)
    try:
        async_to_sync(sync_to_async(measured))()
    finally:
        cas_ticket_validated.disconnect(receiver)
    assert outcomes == ["success"]


def test_a_presented_proxy_ticket_sends_with_sender_proxy(cas_http, sent) -> None:
    # No proxy chain is allowed: the ticket is validated where CAS refuses proxy tickets.
    cas_http.get(VALIDATE, body=proxy_validate_xml(proxies=()))
    request = RequestFactory().get("/api/")
    authenticate_proxy_ticket(request, "PT-1-abc", "https://api.example.org/")
    assert [(call["sender"], call["outcome"]) for call in sent] == [("proxy", "success")]


def test_a_refused_proxy_ticket_sends_refused(cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=failure_xml("INVALID_TICKET"))
    with pytest.raises(TicketValidationError):
        authenticate_proxy_ticket(RequestFactory().get("/api/"), "PT-1-abc", "https://a.org/")
    assert [(call["sender"], call["outcome"]) for call in sent] == [("proxy", "refused")]


def test_a_step_up_validation_sends_with_sender_stepup(cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    request = RequestFactory().get("/stepup/")
    StepUpView().validate_at_cas(request, "ST-2-abc", "https://app.example.org/stepup/")
    assert [(call["sender"], call["outcome"]) for call in sent] == [("stepup", "success")]


def test_a_refused_step_up_ticket_sends_refused(cas_http, sent) -> None:
    cas_http.get(VALIDATE, body=failure_xml("INVALID_TICKET"))
    with pytest.raises(TicketValidationError):
        StepUpView().validate_at_cas(
            RequestFactory().get("/stepup/"), "ST-2-abc", "https://app.example.org/stepup/"
        )
    assert [(call["sender"], call["outcome"]) for call in sent] == [("stepup", "refused")]
