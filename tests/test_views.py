"""LoginView, LogoutView and CallbackView, with the CAS server faked by ``responses``."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from django_cas_ng.models import ProxyGrantingTicket, SessionTicket
from tests.cas_answers import failure_xml, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_anonymous_login_redirects_to_cas_with_service_url(client: Client) -> None:
    response = client.get("/accounts/login/?next=/private/")
    assert response.status_code == 302
    assert response.url.startswith(CAS + "login?")
    assert query(response.url)["service"] == [
        "http://testserver/accounts/login/?next=%2Fprivate%2F"
    ]


def test_valid_ticket_signs_user_in_and_lands_on_next_without_ticket(
    client: Client, cas_http
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", {"email": "a@example.org"}))
    response = client.get("/accounts/login/?next=/private/&ticket=ST-1-abc")
    assert response.status_code == 302
    assert response.url == "/private/"
    assert client.session["_auth_user_id"]
    assert get_user_model().objects.filter(username="alice").exists()


def test_validation_uses_the_same_service_url_as_the_login_redirect(
    client: Client, cas_http
) -> None:
    login = client.get("/accounts/login/?next=/private/")
    service = query(login.url)["service"][0]
    cas_http.get(VALIDATE, body=success_xml())
    client.get("/accounts/login/?next=/private/&ticket=ST-1-abc")
    assert query(cas_http.calls[0].request.url)["service"] == [service]


def test_login_records_ticket_to_session_mapping(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml())
    client.get("/accounts/login/?ticket=ST-1-abc")
    mapping = SessionTicket.objects.get()
    assert mapping.ticket == "ST-1-abc"
    assert mapping.session_key == client.session.session_key


def test_refused_ticket_gives_403_page_that_says_why(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    response = client.get("/accounts/login/?ticket=ST-forged")
    assert response.status_code == 403
    assert b"did not accept" in response.content


def test_account_refused_by_the_site_gives_403_page_that_says_so(client: Client, cas_http) -> None:
    get_user_model().objects.create_user("alice", is_active=False)
    cas_http.get(VALIDATE, body=success_xml("alice"))
    response = client.get("/accounts/login/?ticket=ST-1-abc")
    assert response.status_code == 403
    assert b"does not allow your account" in response.content
    assert b"did not accept" not in response.content


def test_account_refused_by_the_site_is_not_retried_at_cas(
    client: Client, cas_http, settings
) -> None:
    settings.CAS_RETRY_LOGIN = True
    get_user_model().objects.create_user("alice", is_active=False)
    cas_http.get(VALIDATE, body=success_xml("alice"))
    assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 403


def test_cas_1_refusal_naming_no_user_blames_the_ticket(client: Client, cas_http, settings) -> None:
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body="no\n\n")
    response = client.get("/accounts/login/?ticket=ST-forged")
    assert response.status_code == 403
    assert b"did not accept" in response.content


def test_unreachable_cas_server_gives_503(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    response = client.get("/accounts/login/?ticket=ST-1-abc")
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content


def test_cas_timeout_gives_503(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=requests.ReadTimeout("slow"))
    assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 503


def test_malformed_cas_answer_gives_503(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body="<cas:serviceResponse")
    assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 503


def test_hostile_next_is_replaced_by_default_landing(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml())
    response = client.get("/accounts/login/?next=//evil.example/&ticket=ST-1-abc")
    assert response.status_code == 302
    assert response.url == "/"


def test_hostile_referer_is_ignored(client: Client) -> None:
    response = client.get("/accounts/login/", HTTP_REFERER="https://evil.example/phish")
    assert query(response.url)["service"] == ["http://testserver/accounts/login/?next=%2F"]


def test_same_site_referer_becomes_landing_page(client: Client) -> None:
    response = client.get("/accounts/login/", HTTP_REFERER="http://testserver/private/?a=1")
    service = query(response.url)["service"][0]
    assert query(service)["next"] == ["/private/?a=1"]


def test_logout_redirects_to_cas_logout_with_service_return(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml())
    client.get("/accounts/login/?ticket=ST-1-abc")
    response = client.get("/accounts/logout/")
    assert response.url == CAS + "logout?service=http%3A%2F%2Ftestserver%2F"
    assert not SessionTicket.objects.exists()
    assert "_auth_user_id" not in client.session


def test_logout_uses_url_parameter_for_cas_2(client: Client, settings) -> None:
    settings.CAS_VERSION = "2"
    response = client.get("/accounts/logout/")
    assert response.url == CAS + "logout?url=http%3A%2F%2Ftestserver%2F"


def test_callback_bare_get_is_reachability_check(client: Client) -> None:
    assert client.get("/accounts/callback/").status_code == 200


def test_callback_half_filled_is_400(client: Client) -> None:
    assert client.get("/accounts/callback/?pgtIou=PGTIOU-1").status_code == 400


def test_callback_stores_pgt(client: Client, settings) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    client.get("/accounts/callback/?pgtIou=PGTIOU-1&pgtId=PGT-1")
    assert ProxyGrantingTicket.objects.get(pgtiou="PGTIOU-1").pgt == "PGT-1"


def test_refused_ticket_logs_one_warning_with_code_and_redacted_ticket(
    client: Client, cas_http, caplog
) -> None:
    cas_http.get(VALIDATE, body=failure_xml("INVALID_TICKET"))
    with caplog.at_level("INFO", logger="django_cas_ng"):
        client.get("/accounts/login/?ticket=ST-1-abcdefghijkl")
    warnings = [
        r for r in caplog.records if r.name.startswith("django_cas_ng") and r.levelname == "WARNING"
    ]
    assert len(warnings) == 1
    assert "INVALID_TICKET" in warnings[0].getMessage()
    assert "abcdefghijkl" not in caplog.text


def test_successful_login_logs_one_info_line_without_the_full_ticket(
    client: Client, cas_http, caplog
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    with caplog.at_level("INFO", logger="django_cas_ng"):
        client.get("/accounts/login/?ticket=ST-1-abcdefghijkl")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("django_cas_ng")]
    assert len(lines) == 1
    assert re.fullmatch(r"Signed in alice \(ticket ST-1-ab…\) outcome=success ms=\d+", lines[0])


def test_unavailable_cas_logs_an_error_for_the_operator(client: Client, cas_http, caplog) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    client.get("/accounts/login/?ticket=ST-1-abc")
    errors = [
        r for r in caplog.records if r.levelname == "ERROR" and r.name.startswith("django_cas_ng")
    ]
    assert len(errors) == 1
    assert "cas.example.com" in errors[0].getMessage()
