"""Single-use tickets: a stand-in CAS server (``responses``) that, like Apereo CAS with a
stateless ticket registry, validates the same ticket every time it is asked."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from unittest import mock

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_cas_ng._internal import replay
from django_cas_ng.decorators import proxy_ticket_required
from django_cas_ng.models import UsedTicket
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
PROXY_VALIDATE = CAS + "p3/proxyValidate"
TICKET = "ST-7-replayedTicketValue"


def log_in(client: Client, ticket: str = TICKET) -> int:
    return client.get("/accounts/login/", {"ticket": ticket, "next": "/private/"}).status_code


def validations(cas_http, url: str = VALIDATE) -> int:
    return sum(1 for call in cas_http.calls if call.request.url.startswith(url))


def test_a_ticket_signs_in_once_even_when_cas_accepts_it_again(cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    assert log_in(Client()) == 302
    attacker = Client()
    assert log_in(attacker) == 403
    assert attacker.get("/private/").status_code == 302
    assert validations(cas_http) == 1


def test_the_replay_is_refused_after_the_victim_signed_out(cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    victim = Client()
    log_in(victim)
    victim.post("/accounts/logout/")
    assert log_in(Client()) == 403
    assert validations(cas_http) == 1


def test_the_store_holds_a_keyed_digest_never_the_ticket(cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    log_in(Client())
    (row,) = UsedTicket.objects.all()
    assert TICKET not in row.digest
    assert row.digest == replay.digest(TICKET)
    assert len(row.digest) == 64


def test_a_ticket_cas_could_not_validate_may_be_presented_again(cas_http) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("CAS is down"))
    assert log_in(Client()) == 503
    cas_http.replace("GET", VALIDATE, body=success_xml("alice"))
    assert log_in(Client()) == 302


def test_the_claim_is_one_statement(settings) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert replay.claim("ST-1-first")
        assert not replay.claim("ST-1-first")
    assert len(queries) == 2
    assert all(query["sql"].startswith("INSERT") for query in queries)


class _FakeConnection:
    """Just what building the claim's statement reads of a connection."""

    def __init__(self, vendor: str, quote: str) -> None:
        self.vendor = vendor
        self.ops = mock.Mock(quote_name=lambda name: f"{quote}{name}{quote}")


def test_the_claim_statement_is_built_for_each_database_vendor() -> None:
    assert replay._claim_sql(connection) == (
        'INSERT INTO "django_cas_ng_usedticket" ("digest", "expires") VALUES (%s, %s) '
        "ON CONFLICT DO NOTHING"
    )
    assert replay._claim_sql(_FakeConnection("mysql", "`")) == (
        "INSERT IGNORE INTO `django_cas_ng_usedticket` (`digest`, `expires`) VALUES (%s, %s)"
    )
    assert replay._claim_sql(_FakeConnection("oracle", '"')) is None


def test_on_a_database_without_a_one_statement_claim_the_orm_claims(monkeypatch) -> None:
    monkeypatch.setattr(connection, "vendor", "oracle")
    assert replay.claim("ST-1-first")
    assert not replay.claim("ST-1-first")
    assert UsedTicket.objects.count() == 1


def test_window_zero_turns_the_guard_off(settings, cas_http) -> None:
    settings.CAS_REPLAY_WINDOW = 0
    cas_http.get(VALIDATE, body=success_xml("alice"))
    assert log_in(Client()) == 302
    assert log_in(Client()) == 302
    assert not UsedTicket.objects.exists()


def test_the_replay_is_logged_without_the_ticket(cas_http, caplog) -> None:
    caplog.set_level(logging.INFO)
    cas_http.get(VALIDATE, body=success_xml("alice"))
    log_in(Client())
    log_in(Client())
    assert "already presented to this site" in caplog.text
    assert TICKET not in caplog.text


@proxy_ticket_required
def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.user.get_username())


def test_a_proxy_ticket_is_accepted_once(cas_http) -> None:
    cas_http.get(PROXY_VALIDATE, body=success_xml("alice"))
    cas_http.get(VALIDATE, body=success_xml("alice"))
    request = RequestFactory().get("/api/", HTTP_AUTHORIZATION="CAS PT-3-proxyTicketValue")
    assert whoami(request).status_code == 200
    again = RequestFactory().get("/api/", HTTP_AUTHORIZATION="CAS PT-3-proxyTicketValue")
    response = whoami(again)
    assert response.status_code == 401
    assert b"TICKET_ALREADY_USED" in response.content
    assert len(cas_http.calls) == 1


def test_a_stepup_ticket_is_accepted_once(cas_http) -> None:
    released = {
        "isFromNewLogin": "true",
        "authenticationDate": datetime.now(dt_timezone.utc).isoformat(),
    }
    cas_http.get(VALIDATE, body=success_xml("alice", released))
    user = get_user_model().objects.create_user("alice")
    url = "/accounts/stepup/?next=/private/&ticket=ST-9-stepupTicketValue"
    first, second = Client(), Client()
    for browser in (first, second):
        browser.force_login(user, backend="django_cas_ng.backends.CASBackend")
    assert first.get(url).status_code == 302
    response = second.get(url)
    assert response.status_code == 403
    assert b"already been used" in response.content
    assert len(cas_http.calls) == 1


def test_clean_sessions_command_removes_expired_records() -> None:
    past = timezone.now() - timedelta(seconds=1)
    UsedTicket.objects.create(digest="a" * 64, expires=past)
    UsedTicket.objects.create(digest="b" * 64, expires=past + timedelta(days=1))
    out = StringIO()
    call_command("django_cas_ng_clean_sessions", stdout=out)
    assert "Removed 1 used-ticket record(s)" in out.getvalue()
    assert list(UsedTicket.objects.values_list("digest", flat=True)) == ["b" * 64]


def test_expired_records_are_pruned_now_and_then(monkeypatch) -> None:
    UsedTicket.objects.create(digest="a" * 64, expires=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(replay, "_next_prune", 0.0)
    replay.claim("ST-2-another")
    assert not UsedTicket.objects.filter(digest="a" * 64).exists()


def test_turning_the_guard_off_is_warned(settings) -> None:
    from django_cas_ng.checks import check_session_life

    settings.CAS_REPLAY_WINDOW = 0
    assert [message.id for message in check_session_life()] == ["django_cas_ng.W050"]
    settings.CAS_REPLAY_WINDOW = 60
    assert check_session_life() == []


def test_with_several_servers_a_ticket_is_single_use_at_its_own_server() -> None:
    factory = RequestFactory()
    with_server = factory.get("/")
    with mock.patch.object(replay, "issuing_server_url", side_effect=["https://a/", "https://b/"]):
        assert replay.claim("ST-5-same", with_server)
        assert replay.claim("ST-5-same", with_server)
    assert UsedTicket.objects.count() == 2
