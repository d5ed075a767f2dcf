"""Talking to the CAS server: pooling, timeouts, TLS options, size caps and hostile answers."""

from __future__ import annotations

import io
import threading
import time

import pytest
import requests
import responses
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from django_cas_ng._internal.http import (
    CASAdapter,
    _Deadline,
    _watchdog,
    get_http_session,
    reset_http_sessions,
)
from django_cas_ng.client import get_cas_client, validate_ticket
from django_cas_ng.exceptions import CASUnavailable, TicketValidationError
from tests.conftest import CAS, success_xml
from tests.local_servers import trickling_server
from tests.ports import closed_port

SERVICE = "https://app.example.org/accounts/login/?next=%2F"
ENDPOINTS = {
    "1": "validate",
    "2": "serviceValidate",
    "3": "p3/serviceValidate",
    "CAS_2_SAML_1_0": "samlValidate",
}


def test_one_pooled_session_is_reused_across_clients() -> None:
    assert get_cas_client(SERVICE).session is get_cas_client(SERVICE).session


def test_pooled_session_is_a_plain_requests_session_with_our_adapter() -> None:
    session = get_cas_client(SERVICE).session
    assert type(session) is requests.Session
    assert isinstance(session.get_adapter(CAS), CASAdapter)


def test_session_factory_session_is_the_clients_session(settings) -> None:
    made = []

    def factory() -> requests.Session:
        made.append(requests.Session())
        return made[-1]

    settings.CAS_SESSION_FACTORY = factory
    assert get_cas_client(SERVICE).session is made[0]
    assert get_http_session() is made[0]


def test_session_factory_session_gets_timeouts_size_cap_and_no_redirects(
    settings, cas_http
) -> None:
    session = requests.Session()
    settings.CAS_SESSION_FACTORY = lambda: session
    settings.CAS_TIMEOUT = (2, 3)
    settings.CAS_MAX_RESPONSE_BYTES = 1000
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml())
    validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert cas_http.calls[0].request.req_kwargs["timeout"] == (2.0, 3.0)
    cas_http.replace(responses.GET, CAS + "p3/serviceValidate", body="x" * 2000)
    with pytest.raises(CASUnavailable, match="exceeds 1000 bytes"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")
    cas_http.replace(
        responses.GET, CAS + "p3/serviceValidate", status=302, headers={"Location": CAS}
    )
    with pytest.raises(CASUnavailable, match="redirect"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


def test_session_factory_adapter_still_carries_the_request(settings) -> None:
    session = requests.Session()
    inner = FlakyAdapter(None)
    session.mount("https://", inner)
    settings.CAS_SESSION_FACTORY = lambda: session
    assert validate_ticket(get_cas_client(SERVICE), "ST-1")[0] == "alice"
    assert inner.calls == 1


def test_renew_on_validation_works_through_a_factory_session(settings, cas_http) -> None:
    settings.CAS_SESSION_FACTORY = requests.Session
    settings.CAS_RENEW = True
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml())
    validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert "renew=true" in cas_http.calls[0].request.url


def test_validation_carries_connect_and_read_timeouts(settings, cas_http) -> None:
    settings.CAS_TIMEOUT = (1.5, 4)
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml())
    validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert cas_http.calls[0].request.req_kwargs["timeout"] == (1.5, 4.0)


def test_ca_bundle_is_used_for_verification(settings, cas_http) -> None:
    settings.CAS_CA_BUNDLE = "/etc/ssl/private-ca.pem"
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml())
    validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert cas_http.calls[0].request.req_kwargs["verify"] == "/etc/ssl/private-ca.pem"


def test_renew_is_sent_at_validation(settings, cas_http) -> None:
    settings.CAS_RENEW = True
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml())
    validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert "renew=true" in cas_http.calls[0].request.url


def test_answer_larger_than_cap_is_unavailable(settings, cas_http) -> None:
    settings.CAS_MAX_RESPONSE_BYTES = 1000
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml(attributes={"x": "y" * 2000}))
    with pytest.raises(CASUnavailable, match="exceeds 1000 bytes"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


def test_server_error_is_unavailable(cas_http) -> None:
    cas_http.get(CAS + "p3/serviceValidate", status=502, body="bad gateway")
    with pytest.raises(CASUnavailable, match="HTTP 502"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


def test_answer_with_entity_definitions_is_refused(cas_http) -> None:
    body = '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + success_xml("&a;")
    cas_http.get(CAS + "p3/serviceValidate", body=body)
    with pytest.raises(CASUnavailable, match="DTD"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


def test_failure_answer_raises_with_the_cas_error_code(cas_http) -> None:
    from tests.conftest import failure_xml

    cas_http.get(CAS + "p3/serviceValidate", body=failure_xml("INVALID_SERVICE"))
    with pytest.raises(TicketValidationError) as refusal:
        validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert refusal.value.code == "INVALID_SERVICE"


def test_multi_valued_attributes_become_lists(cas_http) -> None:
    cas_http.get(
        CAS + "p3/serviceValidate",
        body=success_xml(attributes={"affiliation": ["staff", "member"]}),
    )
    _, attributes, _ = validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert attributes == {"affiliation": ["staff", "member"]}


def test_cas_1_empty_answer_is_unavailable_not_a_crash(settings, cas_http) -> None:
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body="")
    with pytest.raises(CASUnavailable):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


xml_fragments = st.sampled_from(
    [
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">',
        "</cas:serviceResponse>",
        "<cas:authenticationSuccess>",
        "</cas:authenticationSuccess>",
        "<cas:authenticationFailure code='X'>",
        "<cas:user>",
        "</cas:user>",
        "<cas:attributes>",
        "</cas:attributes>",
        "<cas:proxyGrantingTicket>",
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">',
        '<samlp:StatusCode xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" Value="samlp:Success"/>',
        '<saml:NameIdentifier xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion">',
        '<saml:Attribute xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" AttributeName="a">',
        "<!DOCTYPE x>",
        "<!ENTITY e 'x'>",
        "&e;",
        "<![CDATA[",
        "]]>",
        "yes\n",
        "no\n",
        "\x00",
        "\ufeff",
        "<?xml version='1.0' encoding='latin-1'?>",
    ]
)
bodies = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=256).map(str.encode),
    st.lists(st.one_of(xml_fragments, st.text(max_size=12)), max_size=24).map(
        lambda p: "".join(p).encode()
    ),
)


@pytest.mark.parametrize("version", list(ENDPOINTS))
@hsettings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, status=st.sampled_from([200, 200, 200, 404, 500]))
def test_no_answer_body_crashes_validation(settings, version, body, status) -> None:
    """Whatever the server answers, validation returns a result or raises CASUnavailable."""
    import responses

    settings.CAS_VERSION = version
    reset_http_sessions()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        method = mock.post if version == "CAS_2_SAML_1_0" else mock.get
        method(CAS + ENDPOINTS[version], body=body, status=status)
        try:
            username, attributes, _ = validate_ticket(get_cas_client(SERVICE), "ST-1")
        except (CASUnavailable, TicketValidationError):
            return
    assert username is None or isinstance(username, str)
    assert isinstance(attributes, dict)


class FlakyAdapter(requests.adapters.BaseAdapter):
    """A site's transport that fails the first call with ``error``, then answers like CAS."""

    def __init__(self, error: Exception | None) -> None:
        super().__init__()
        self.error, self.calls = error, 0

    def close(self) -> None:
        pass

    def send(self, request, **kwargs):
        self.calls += 1
        if self.calls == 1 and self.error is not None:
            raise self.error
        response = requests.Response()
        response.status_code, response.raw = 200, io.BytesIO(success_xml().encode())
        response.request, response.url = request, request.url
        return response


def flaky_session(error: Exception | None) -> tuple[requests.Session, FlakyAdapter]:
    session, adapter = requests.Session(), FlakyAdapter(error)
    session.mount("https://", adapter)
    return session, adapter


def test_a_connection_that_was_never_made_is_retried_once(settings) -> None:
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    refused = requests.ConnectionError(
        MaxRetryError(None, "/", NewConnectionError(None, "refused"))
    )
    session, flaky = flaky_session(refused)
    settings.CAS_SESSION_FACTORY = lambda: session
    assert validate_ticket(get_cas_client(SERVICE), "ST-1")[0] == "alice"
    assert flaky.calls == 2


@pytest.mark.parametrize("error", [requests.ReadTimeout("slow"), requests.ConnectionError("reset")])
def test_a_sent_validation_is_never_repeated(settings, error) -> None:
    session, flaky = flaky_session(error)
    settings.CAS_SESSION_FACTORY = lambda: session
    with pytest.raises(CASUnavailable):
        validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert flaky.calls == 1


def test_unavailable_error_never_quotes_the_ticket(settings) -> None:
    settings.CAS_SERVER_URL = f"http://127.0.0.1:{closed_port()}/cas/"
    with pytest.raises(CASUnavailable) as error:
        validate_ticket(get_cas_client(SERVICE), "ST-1-SECRETSECRET")
    assert "SECRET" not in str(error.value)
    assert error.value.__cause__ is None


def test_refused_connection_is_retried_once_then_unavailable(settings) -> None:
    settings.CAS_SERVER_URL = f"http://127.0.0.1:{closed_port()}/cas/"
    with pytest.raises(CASUnavailable, match="cannot reach CAS server"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


@pytest.mark.parametrize(
    ("setting", "sent"),
    [("/etc/ssl/client.pem", "/etc/ssl/client.pem"), (["/c.pem", "/k.pem"], ("/c.pem", "/k.pem"))],
)
def test_client_certificate_is_presented(settings, cas_http, setting, sent) -> None:
    settings.CAS_CLIENT_CERT = setting
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml())
    validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert cas_http.calls[0].request.req_kwargs["cert"] == sent


def test_validation_does_not_follow_redirects(cas_http) -> None:
    cas_http.get(
        CAS + "p3/serviceValidate", status=302, headers={"Location": "https://evil.example/"}
    )
    with pytest.raises(CASUnavailable):
        validate_ticket(get_cas_client(SERVICE), "ST-1")
    assert len(cas_http.calls) == 1


def http_answer(body: str) -> tuple[bytes, bytes]:
    """The head and body of an HTTP/1.1 answer carrying ``body``."""
    data = body.encode()
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode(), data


@pytest.mark.parametrize(
    ("phase", "factory"), [("head", None), ("body", None), ("body", requests.Session)]
)
def test_a_trickling_cas_server_is_unavailable_within_the_timeout(settings, phase, factory):
    """A byte every 0.8 s never trips a 1 s read timeout; the overall deadline ends it."""
    head, body = http_answer(success_xml())
    head, trickled = (b"", head + body) if phase == "head" else (head, body)
    settings.CAS_TIMEOUT = (1, 1)
    settings.CAS_SESSION_FACTORY = factory
    with trickling_server(head, trickled, interval=0.8) as url:
        settings.CAS_SERVER_URL = url
        started = time.monotonic()
        with pytest.raises(CASUnavailable, match="did not answer in time"):
            validate_ticket(get_cas_client(SERVICE), "ST-1")
        assert time.monotonic() - started < 3


@pytest.mark.django_db
def test_a_trickling_cas_server_answers_503_at_login(settings, client) -> None:
    head, body = http_answer(success_xml())
    settings.CAS_TIMEOUT = (1, 1)
    with trickling_server(head, body, interval=0.8) as url:
        settings.CAS_SERVER_URL = url
        started = time.monotonic()
        response = client.get("/accounts/login/", {"ticket": "ST-1-abc"})
        assert response.status_code == 503
        assert time.monotonic() - started < 3


def test_session_factory_session_gets_our_tls_options(settings, cas_http) -> None:
    settings.CAS_SESSION_FACTORY = requests.Session
    settings.CAS_CA_BUNDLE = "/etc/ssl/private-ca.pem"
    settings.CAS_CLIENT_CERT = "/etc/ssl/client.pem"
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml())
    validate_ticket(get_cas_client(SERVICE), "ST-1")
    sent = cas_http.calls[0].request.req_kwargs
    assert (sent["verify"], sent["cert"]) == ("/etc/ssl/private-ca.pem", "/etc/ssl/client.pem")


def test_calls_to_cas_share_one_deadline_thread(cas_http) -> None:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    for number in range(5):
        validate_ticket(get_cas_client("https://app.example.org/"), f"ST-{number}")
    watchdogs = [t for t in threading.enumerate() if t.name == "django_cas_ng deadlines"]
    assert len(watchdogs) == 1


def test_a_deadline_behind_a_forgotten_earlier_one_still_expires() -> None:
    earlier, later = _Deadline(0.05), _Deadline(0.2)
    _watchdog.forget(_watchdog.watch(earlier))
    ticket = _watchdog.watch(later)
    time.sleep(0.6)
    _watchdog.forget(ticket)
    assert (earlier.expired, later.expired) == (False, True)


def test_a_deadline_earlier_than_the_pending_ones_expires_on_time() -> None:
    pending, earlier = _Deadline(30), _Deadline(0.1)
    tickets = [_watchdog.watch(pending), _watchdog.watch(earlier)]
    time.sleep(0.5)
    for ticket in tickets:
        _watchdog.forget(ticket)
    assert (pending.expired, earlier.expired) == (False, True)
