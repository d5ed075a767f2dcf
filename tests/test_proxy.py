"""Obtaining proxy tickets: the PGT callback, the claim at login, ``retrieve_pt`` and the PGT's
end (logout, Single Logout, cleanup). The CAS server is faked with ``responses``."""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta
from importlib import import_module
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from cas import CASError
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_cas_ng import client as cas_client
from django_cas_ng import proxy
from django_cas_ng._internal.sessions import (
    clean_deleted_sessions,
    get_user_from_session,
)
from django_cas_ng.backends import CASBackend
from django_cas_ng.models import (
    CALLBACK_SWEEP_LIMIT,
    UNCLAIMED_PGT_MAX_AGE,
    ProxyError,
    ProxyGrantingTicket,
)
from tests.cas_answers import failure_xml, logout_request, proxy_failure, proxy_success, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
PROXY = CAS + "proxy"
CALLBACK = "https://testserver/accounts/callback/"
TARGET = "https://api.example.org/resource/"


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def deliver_pgt(pgtiou: str, pgt: str) -> int:
    """What the CAS server does on its own connection: GET the callback with the pair."""
    request = RequestFactory().get("/accounts/callback/", {"pgtIou": pgtiou, "pgtId": pgt})
    return proxy.receive_callback(request).status_code


def validation_delivering_pgt(pgtiou: str = "PGTIOU-1", pgt: str = "PGT-1-secret"):
    """A fake validation that calls the callback before answering, as CAS servers do."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert query(request.url or "")["pgtUrl"] == [CALLBACK]
        assert deliver_pgt(pgtiou, pgt) == 200
        return 200, {}, success_xml("alice", pgtiou=pgtiou)

    return answer


@pytest.fixture
def proxy_settings(settings):
    settings.CAS_PROXY_CALLBACK = CALLBACK
    return settings


def sign_in(client: Client, cas_http: responses.RequestsMock, ticket: str = "ST-1-abc") -> None:
    cas_http.add_callback(responses.GET, VALIDATE, callback=validation_delivering_pgt())
    response = client.get(f"/accounts/login/?ticket={ticket}")
    assert response.status_code == 302


def request_of(client: Client) -> HttpRequest:
    """A request carrying the session (and so the user) of ``client``."""
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    request = RequestFactory().get("/")
    request.session = store(session_key=client.session.session_key)
    request.user = get_user_from_session(request.session)
    return request


# The callback


def test_callback_answers_200_to_bare_reachability_check(client: Client) -> None:
    assert client.get("/accounts/callback/").status_code == 200
    assert not ProxyGrantingTicket.objects.exists()


@pytest.mark.parametrize("params", ["pgtIou=PGTIOU-1", "pgtId=PGT-1", "pgtIou=&pgtId=PGT-1"])
def test_callback_answers_400_to_half_filled_request(
    proxy_settings, client: Client, params: str
) -> None:
    assert client.get(f"/accounts/callback/?{params}").status_code == 400
    assert not ProxyGrantingTicket.objects.exists()


def test_callback_stores_unclaimed_pgt(proxy_settings, client: Client) -> None:
    assert client.get("/accounts/callback/?pgtIou=PGTIOU-1&pgtId=PGT-1").status_code == 200
    stored = ProxyGrantingTicket.objects.get(pgtiou="PGTIOU-1")
    assert (stored.pgt, stored.session_key, stored.user) == ("PGT-1", None, None)


@pytest.mark.parametrize(
    "params",
    [
        f"pgtIou=PGTIOU-1&pgtId=PGT-{'x' * 300}",
        f"pgtIou=PGTIOU-{'x' * 300}&pgtId=PGT-1",
    ],
)
def test_callback_refuses_values_longer_than_the_columns(
    proxy_settings, client: Client, params: str
) -> None:
    response = client.get(f"/accounts/callback/?{params}")
    assert response.status_code == 400
    assert not ProxyGrantingTicket.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        "pgtIou=PGTIOU-1&pgtId=%00",  # a NUL: DataError (500) on PostgreSQL before the fix
        "pgtIou=PGTIOU-1&pgtId=PGT-1%00",
        "pgtIou=%00&pgtId=PGT-1",
        "pgtIou=PGTIOU-1&pgtId=PGT-1%0AX-Injected:%201",
        "pgtIou=PGTIOU-1&pgtId=%3Cscript%3E",
        "pgtIou=PGTIOU%201&pgtId=PGT-1",
        "pgtIou=PGTIOU-1&pgtId=PGT-%C3%A9",
    ],
)
def test_callback_refuses_values_that_are_not_tickets(
    proxy_settings, client: Client, params: str
) -> None:
    response = client.get(f"/accounts/callback/?{params}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert b"must be tickets" in response.content
    assert not ProxyGrantingTicket.objects.exists()


def test_callback_stores_nothing_without_proxy_callback_setting(client: Client) -> None:
    # Nothing would ever claim the row: storing it only lets anyone fill the table.
    response = client.get("/accounts/callback/?pgtIou=PGTIOU-1&pgtId=PGT-1")
    assert response.status_code == 200
    assert not ProxyGrantingTicket.objects.exists()


def test_callback_removes_stale_unclaimed_rows_with_one_delete(proxy_settings) -> None:
    user = get_user_model().objects.create_user("alice")
    old = timezone.now() - UNCLAIMED_PGT_MAX_AGE - timedelta(seconds=1)
    stale = ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-stale", pgt="PGT-stale")
    claimed = ProxyGrantingTicket.objects.create(
        pgtiou="PGTIOU-old", pgt="PGT-old", user=user, session_key="k"
    )
    ProxyGrantingTicket.objects.filter(pk__in=[stale.pk, claimed.pk]).update(date=old)
    recent = ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-recent", pgt="PGT-recent")

    with CaptureQueriesContext(connection) as queries:
        assert deliver_pgt("PGTIOU-new", "PGT-new") == 200

    assert set(ProxyGrantingTicket.objects.values_list("pgtiou", flat=True)) == {
        "PGTIOU-old",  # claimed: it belongs to a session and goes with it
        "PGTIOU-recent",
        "PGTIOU-new",
    }
    assert recent.pk in ProxyGrantingTicket.objects.values_list("pk", flat=True)
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 1


def test_refused_or_ignored_callback_removes_nothing(settings, client: Client) -> None:
    stale = ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-stale", pgt="PGT-stale")
    ProxyGrantingTicket.objects.filter(pk=stale.pk).update(
        date=timezone.now() - UNCLAIMED_PGT_MAX_AGE * 2
    )
    client.get("/accounts/callback/?pgtIou=PGTIOU-1&pgtId=PGT-1")
    settings.CAS_PROXY_CALLBACK = CALLBACK
    client.get("/accounts/callback/?pgtIou=PGTIOU-1&pgtId=%00")
    assert ProxyGrantingTicket.objects.filter(pk=stale.pk).exists()


def test_repeated_callback_keeps_one_unclaimed_row_per_iou(proxy_settings) -> None:
    deliver_pgt("PGTIOU-1", "PGT-1-old")
    deliver_pgt("PGTIOU-1", "PGT-1-new")
    assert list(ProxyGrantingTicket.objects.values_list("pgt", flat=True)) == ["PGT-1-new"]


def test_callback_never_logs_the_pgt(proxy_settings, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="django_cas_ng"):
        deliver_pgt("PGTIOU-1-abcdefgh", "PGT-1-secret")
    assert caplog.records
    assert "PGT-1-secret" not in caplog.text
    assert "PGTIOU-1-abcdefgh" not in caplog.text


# The login


def test_validation_sends_pgt_url_when_callback_is_set(proxy_settings, client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml())
    client.get("/accounts/login/?ticket=ST-1-abc")
    assert query(cas_http.calls[0].request.url)["pgtUrl"] == [CALLBACK]


def test_validation_sends_no_pgt_url_without_callback(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml())
    client.get("/accounts/login/?ticket=ST-1-abc")
    assert "pgtUrl" not in query(cas_http.calls[0].request.url)


def test_login_links_pgt_delivered_during_validation_to_session_and_user(
    proxy_settings, client, cas_http
) -> None:
    sign_in(client, cas_http)
    stored = ProxyGrantingTicket.objects.get()
    assert stored.session_key == client.session.session_key
    assert stored.user is not None and stored.user.username == "alice"


def test_login_without_delivered_pgt_still_succeeds_and_warns(
    proxy_settings, client, cas_http, caplog
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", pgtiou="PGTIOU-lost"))
    with caplog.at_level(logging.WARNING, logger="django_cas_ng.proxy"):
        response = client.get("/accounts/login/?ticket=ST-1-abc")
    assert response.status_code == 302
    assert client.session["_auth_user_id"]
    assert "could not reach CAS_PROXY_CALLBACK" in caplog.text
    assert not ProxyGrantingTicket.objects.exists()


def test_claim_keeps_newest_of_duplicate_unclaimed_rows(proxy_settings, client, cas_http) -> None:
    ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-1", pgt="PGT-1-first")
    ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-1", pgt="PGT-1-retry")
    cas_http.get(VALIDATE, body=success_xml("alice", pgtiou="PGTIOU-1"))
    assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 302
    assert list(ProxyGrantingTicket.objects.values_list("pgt", "session_key")) == [
        ("PGT-1-retry", client.session.session_key)
    ]


def claim_racing_another(pgtiou: str, user: object, key: str) -> bool:
    """Claim as request 2 while request 1 claims the same IOU for the same session.

    Request 1 runs, and commits, right after request 2 has read the unclaimed rows: what
    PostgreSQL (read committed) does when nothing locks them, made deterministic here.
    """
    done: list[bool] = []

    def after_first_read(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        result = execute(sql, params, many, context)
        if not done and sql.startswith("SELECT") and "pgtiou" in sql:
            done.append(True)
            assert proxy._claim(pgtiou, user, key)  # request 1
        return result

    with connection.execute_wrapper(after_first_read):
        claimed = proxy._claim(pgtiou, user, key)  # request 2
    assert done
    return claimed


def test_concurrent_late_claims_of_one_session_keep_its_pgt(proxy_settings) -> None:
    user = get_user_model().objects.create_user("alice")
    deliver_pgt("PGTIOU-late", "PGT-late")

    assert claim_racing_another("PGTIOU-late", user, "session-1")

    rows = ProxyGrantingTicket.objects.values_list("pgt", "session_key", "user")
    assert list(rows) == [("PGT-late", "session-1", user.pk)]


def test_claim_with_nothing_left_unclaimed_reports_the_session_pgt(proxy_settings) -> None:
    user = get_user_model().objects.create_user("alice")
    deliver_pgt("PGTIOU-1", "PGT-1")
    assert proxy._claim("PGTIOU-1", user, "session-1")
    assert proxy._claim("PGTIOU-1", user, "session-1")  # the other request came first
    assert not proxy._claim("PGTIOU-1", user, "session-2")
    assert ProxyGrantingTicket.objects.get().session_key == "session-1"


def test_claim_replaces_an_older_pgt_of_the_session(proxy_settings) -> None:
    user = get_user_model().objects.create_user("alice")
    ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-0", pgt="PGT-0", user=user, session_key="s")
    deliver_pgt("PGTIOU-1", "PGT-1")
    assert proxy._claim("PGTIOU-1", user, "s")
    assert list(ProxyGrantingTicket.objects.values_list("pgt", flat=True)) == ["PGT-1"]


# retrieve_pt


def test_retrieve_pt_returns_proxy_ticket_for_the_service(proxy_settings, client, cas_http) -> None:
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=proxy_success("PT-1-xyz"))

    ticket = ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)

    assert ticket == "PT-1-xyz"
    sent = query(cas_http.calls[-1].request.url)
    assert sent == {"pgt": ["PGT-1-secret"], "targetService": [TARGET]}


@pytest.mark.parametrize("element", ["proxyFailure", "authenticationFailure"])
def test_retrieve_pt_raises_proxy_error_with_the_cas_code(
    proxy_settings, client, cas_http, element: str
) -> None:
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=proxy_failure("UNAUTHORIZED_SERVICE", element))

    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)

    assert raised.value.args[0] == "UNAUTHORIZED_SERVICE"


def test_retrieve_pt_without_pgt_raises_invalid_ticket(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml())
    client.get("/accounts/login/?ticket=ST-1-abc")

    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)

    assert raised.value.args[0] == "INVALID_TICKET"
    assert not cas_http.calls[1:]


def test_retrieve_pt_for_anonymous_request_raises_invalid_ticket(client: Client) -> None:
    client.get("/")
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert raised.value.args[0] == "INVALID_TICKET"


def test_retrieve_pt_claims_pgt_whose_callback_came_after_login(
    proxy_settings, client, cas_http
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", pgtiou="PGTIOU-late"))
    client.get("/accounts/login/?ticket=ST-1-abc")
    deliver_pgt("PGTIOU-late", "PGT-late")
    cas_http.get(PROXY, body=proxy_success())

    assert ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET) == "PT-1-xyz"
    assert query(cas_http.calls[-1].request.url)["pgt"] == ["PGT-late"]
    assert ProxyGrantingTicket.objects.get().session_key == client.session.session_key


def test_retrieve_pt_when_cas_unreachable_raises_without_revealing_pgt(
    proxy_settings, client, cas_http
) -> None:
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=requests.ConnectionError(f"cannot open {PROXY}?pgt=PGT-1-secret"))

    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)

    assert raised.value.args[0] == "CAS_UNAVAILABLE"
    assert "PGT-1-secret" not in str(raised.value.args)


def test_retrieve_pt_on_http_error_raises_bad_http_code(proxy_settings, client, cas_http) -> None:
    sign_in(client, cas_http)
    cas_http.get(PROXY, status=404, body="not here")
    with pytest.raises(ProxyError, match="Bad http code 404"):
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)


@pytest.mark.parametrize(
    "body",
    [
        "<not xml",
        '<!DOCTYPE x [<!ENTITY e "PT-evil">]><cas:serviceResponse '
        'xmlns:cas="http://www.yale.edu/tp/cas"><cas:proxySuccess><cas:proxyTicket>&e;'
        "</cas:proxyTicket></cas:proxySuccess></cas:serviceResponse>",
    ],
)
def test_retrieve_pt_refuses_unreadable_answers(proxy_settings, client, cas_http, body) -> None:
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=body)
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert raised.value.args[0] == "CAS_UNAVAILABLE"


def use_site_client(monkeypatch, get_proxy_ticket) -> None:
    """Make ``get_cas_client`` build a site's subclass with its own ``get_proxy_ticket``."""
    site_client = type(
        "SiteClient", (cas_client.CASClientV3,), {"get_proxy_ticket": get_proxy_ticket}
    )
    monkeypatch.setitem(cas_client.CLIENT_CLASSES, "3", site_client)


def test_a_client_subclass_overriding_get_proxy_ticket_supplies_the_ticket(
    proxy_settings, client, cas_http, monkeypatch
) -> None:
    asked = []

    def get_proxy_ticket(self, pgt: str) -> str:
        asked.append((pgt, self.service_url))
        return "PT-site"

    use_site_client(monkeypatch, get_proxy_ticket)
    sign_in(client, cas_http)
    assert ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET) == "PT-site"
    assert asked == [("PGT-1-secret", TARGET)]


class SiteProxyClient(cas_client.CASClientV3):
    """A site's client that obtains proxy tickets its own way."""

    def get_proxy_ticket(self, pgt: str) -> str:
        return f"PT-own-{self.service_url}"


class SiteBackend(CASBackend):
    client_classes = {**cas_client.CLIENT_CLASSES, "3": SiteProxyClient}


def test_a_backend_mapping_a_client_class_supplies_proxy_tickets(
    proxy_settings, client, cas_http
) -> None:
    proxy_settings.AUTHENTICATION_BACKENDS = ["tests.test_proxy.SiteBackend"]
    sign_in(client, cas_http)
    assert ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET) == f"PT-own-{TARGET}"


def test_the_first_cas_backend_chooses_the_client_class(settings) -> None:
    settings.CAS_VERSION = "3"
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "tests.test_proxy.SiteBackend",
    ]
    assert type(cas_client.get_cas_client("https://app.example.org/")) is SiteProxyClient


def test_without_a_cas_backend_the_package_clients_are_used(settings) -> None:
    settings.CAS_VERSION = "2"
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert type(cas_client.get_cas_client("https://app.example.org/")) is cas_client.CASClientV2


def test_proxy_ticket_request_goes_through_the_pooled_session_with_our_timeouts(
    proxy_settings, client, cas_http
) -> None:
    proxy_settings.CAS_TIMEOUT = (1.5, 2.5)
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=proxy_success())
    ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    call = cas_http.calls[-1]
    assert query(call.request.url) == {"pgt": ["PGT-1-secret"], "targetService": [TARGET]}
    assert call.request.req_kwargs["timeout"] == (1.5, 2.5)


def test_proxy_answer_declaring_a_dtd_in_utf16_is_refused(proxy_settings, client, cas_http):
    sign_in(client, cas_http)
    body = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "PT-evil">]>'
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:proxySuccess>'
        "<cas:proxyTicket>&e;</cas:proxyTicket></cas:proxySuccess></cas:serviceResponse>"
    ).encode("utf-16")
    cas_http.get(PROXY, body=body)
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert raised.value.args[0] == "CAS_UNAVAILABLE"


def test_authentication_failure_answer_to_a_proxy_request_keeps_its_code(
    proxy_settings, client, cas_http
) -> None:
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=proxy_failure("UNAUTHORIZED_SERVICE", "authenticationFailure"))
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert raised.value.args[0] == "UNAUTHORIZED_SERVICE"


def formatted(error: BaseException) -> str:
    """What an error tracker or ``logger.exception`` prints: the whole chain."""
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError(f"cannot open {PROXY}?pgt=PGT-1-secret&targetService=x"),
        CASError("INVALID_TICKET", "PGT-1-secret unknown"),
        ProxyError("INVALID_TICKET", "PGT PGT-1-secret unknown"),
        RuntimeError(f"{PROXY}?pgt=PGT-1-secret"),
    ],
)
def test_retrieve_pt_error_never_carries_the_pgt(
    proxy_settings, client, cas_http, monkeypatch, failure: Exception
) -> None:
    use_site_client(monkeypatch, mock.Mock(side_effect=failure))
    sign_in(client, cas_http)
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)

    assert "PGT-1-secret" not in formatted(raised.value)
    assert raised.value.__cause__ is None
    if isinstance(failure, (CASError, ProxyError)):
        assert raised.value.args[0] == "INVALID_TICKET"


def test_retrieve_pt_unreachable_cas_error_has_no_chain(proxy_settings, client, cas_http) -> None:
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=requests.ConnectionError(f"cannot open {PROXY}?pgt=PGT-1-secret"))
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert raised.value.args[0] == "CAS_UNAVAILABLE"
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    assert "PGT-1-secret" not in formatted(raised.value)


def test_retrieve_pt_failure_text_echoing_the_pgt_is_masked(proxy_settings, client, cas_http):
    sign_in(client, cas_http)
    cas_http.get(PROXY, body=proxy_failure("INVALID_TICKET"))  # its text quotes the PGT
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert raised.value.args[0] == "INVALID_TICKET"
    assert "PGT-1-secret" not in formatted(raised.value)


def test_retrieve_pt_turns_python_cas_errors_into_proxy_error(
    proxy_settings, client, cas_http, monkeypatch
) -> None:
    use_site_client(monkeypatch, mock.Mock(side_effect=CASError("INVALID_TICKET", "PGT unknown")))
    sign_in(client, cas_http)
    with pytest.raises(ProxyError) as raised:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert raised.value.args == ("INVALID_TICKET", "PGT unknown")


def test_pgt_never_reaches_the_logs_from_login_to_proxy_ticket(
    proxy_settings, client, cas_http, caplog
) -> None:
    with caplog.at_level(logging.DEBUG):
        sign_in(client, cas_http)
        cas_http.get(PROXY, body=proxy_success())
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
        cas_http.get(PROXY, body=proxy_failure("INVALID_TICKET"))
        with pytest.raises(ProxyError):
            ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert "PGT-1-secret" not in caplog.text
    assert "PT-1-xyz" not in caplog.text


# The end of a PGT


def test_logout_deletes_the_session_pgt(proxy_settings, client, cas_http) -> None:
    sign_in(client, cas_http)
    client.get("/accounts/logout/")
    assert not ProxyGrantingTicket.objects.exists()


def test_single_logout_deletes_the_session_pgt(proxy_settings, client, cas_http) -> None:
    sign_in(client, cas_http, ticket="ST-1-slo")
    other = Client()
    sign_in(other, cas_http, ticket="ST-2-other")

    response = Client().post("/accounts/login/", {"logoutRequest": logout_request("ST-1-slo")})

    assert response.status_code == 200
    assert list(ProxyGrantingTicket.objects.values_list("session_key", flat=True)) == [
        other.session.session_key
    ]


def test_cleanup_removes_pgts_of_expired_sessions_and_stale_unclaimed_ones(
    proxy_settings, client, cas_http
) -> None:
    sign_in(client, cas_http)
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    stale = ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-stale", pgt="PGT-stale")
    ProxyGrantingTicket.objects.filter(pk=stale.pk).update(
        date=timezone.now() - timedelta(minutes=10)
    )
    fresh = ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-fresh", pgt="PGT-fresh")

    result = clean_deleted_sessions()

    assert result.pgts == 2
    assert list(ProxyGrantingTicket.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_failed_login_claims_nothing(proxy_settings, client, cas_http) -> None:
    deliver_pgt("PGTIOU-1", "PGT-1")
    cas_http.get(VALIDATE, body=failure_xml())
    assert client.get("/accounts/login/?ticket=ST-1-abc").status_code == 403
    assert ProxyGrantingTicket.objects.get().session_key is None


def expired_unclaimed_rows(count: int) -> None:
    ProxyGrantingTicket.objects.bulk_create(
        ProxyGrantingTicket(pgtiou=f"PGTIOU-{n}-flood", pgt=f"PGT-{n}-flood") for n in range(count)
    )
    ProxyGrantingTicket.objects.update(date=timezone.now() - UNCLAIMED_PGT_MAX_AGE * 2)


def test_one_callback_removes_a_bounded_number_of_expired_rows_in_one_statement(
    proxy_settings,
) -> None:
    expired_unclaimed_rows(CALLBACK_SWEEP_LIMIT + 30)

    with CaptureQueriesContext(connection) as queries:
        assert deliver_pgt("PGTIOU-new", "PGT-new") == 200

    assert ProxyGrantingTicket.objects.exclude(pgtiou="PGTIOU-new").count() == 30
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 1


def test_the_callbacks_sweep_is_found_through_an_index() -> None:
    cutoff = timezone.now() - UNCLAIMED_PGT_MAX_AGE
    plan = ProxyGrantingTicket.objects.unclaimed(older_than=cutoff).values("pk").explain()
    assert "cas_ng_pgt_unclaimed_idx" in plan
