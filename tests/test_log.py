"""No ticket, PGT or PGTIOU reaches a log record, at any level, from any logger."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, RequestFactory

from django_cas_ng._internal.observe import redact_secrets
from django_cas_ng._internal.sessions import get_user_from_session
from django_cas_ng.models import ProxyGrantingTicket
from tests.conftest import success_xml
from tests.local_servers import cas_server

pytestmark = pytest.mark.django_db

TICKET, PGTIOU, PGT, PT = (
    "ST-1-ticketsecret",
    "PGTIOU-1-iousecret",
    "PGT-1-pgtsecret",
    "PT-1-ptsecret",
)
SECRETS = (TICKET, PGTIOU, PGT, PT, "ticketsecret", "iousecret", "pgtsecret", "ptsecret")


def proxy_success() -> bytes:
    return (
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:proxySuccess>'
        f"<cas:proxyTicket>{PT}</cas:proxyTicket></cas:proxySuccess></cas:serviceResponse>"
    ).encode()


def test_login_and_proxy_ticket_at_debug_log_no_secret(settings, caplog) -> None:
    answers = {
        "p3/serviceValidate": success_xml("alice", {"mail": "a@x.org"}, pgtiou=PGTIOU).encode(),
        "proxy": proxy_success(),
    }
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    ProxyGrantingTicket.objects.create(pgtiou=PGTIOU, pgt=PGT)
    browser = Client()
    with cas_server(answers) as url, caplog.at_level(logging.DEBUG):
        settings.CAS_SERVER_URL = url
        assert browser.get("/accounts/login/", {"ticket": TICKET}).status_code == 302
        request = RequestFactory().get("/")
        request.session = browser.session
        request.user = get_user_from_session(request.session)
        assert ProxyGrantingTicket.retrieve_pt(request, "https://api.example.org/") == PT

    names = {record.name for record in caplog.records}
    assert {"urllib3.connectionpool", "cas"} <= names  # the libraries did log the calls
    messages = "\n".join(record.getMessage() for record in caplog.records)
    assert "serviceValidate?ticket=" in messages and "/proxy?pgt=" in messages
    assert not [secret for secret in SECRETS if secret in messages]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /cas/proxy?pgt=PGT-1-pgtsecret&targetService=x", "GET /cas/proxy?pgt=PGT-1-pg…&"),
        ("ticket=eyJhbGciOi.abc", "ticket=********"),
        ("<cas:proxyGrantingTicket>PGTIOU-7-x9y8</cas:proxyGrantingTicket>", "PGTIOU-7-x9…<"),
        ("pgtIou=PGTIOU-1-abc&pgtId=PGT-2-def", "pgtIou=PGTIOU-1-ab…&pgtId=PGT-2-de…"),
    ],
)
def test_secrets_are_redacted_in_any_form(text: str, expected: str) -> None:
    assert expected in redact_secrets(text)


def test_an_unformattable_record_still_passes_redacted(caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("cas").debug("answer %s %s", TICKET)
    assert TICKET not in caplog.records[-1].getMessage()


def test_an_already_redacted_ticket_is_left_alone() -> None:
    assert (
        redact_secrets("Signed in alice (ticket ST-1-ab…)") == "Signed in alice (ticket ST-1-ab…)"
    )
