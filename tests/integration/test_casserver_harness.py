"""Smoke tests of the CAS server harness alone, speaking the CAS protocols with plain requests."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.casserver import CASServer

pytestmark = pytest.mark.integration

SERVICE = "http://127.0.0.1:9/app/"
CAS_NS = {"cas": "http://www.yale.edu/tp/cas"}
ALWAYS_RELEASED = {"authenticationDate", "longTermAuthenticationRequestTokenUsed", "isFromNewLogin"}
SAML_NS = {
    "soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "samlp": "urn:oasis:names:tc:SAML:1.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:1.0:assertion",
}
SAML_REQUEST = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Header/>
<SOAP-ENV:Body>
<samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" MajorVersion="1"
 MinorVersion="1" RequestID="harness-smoke" IssueInstant="2024-01-01T00:00:00Z">
<samlp:AssertionArtifact>{ticket}</samlp:AssertionArtifact>
</samlp:Request>
</SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


@dataclass
class Endpoint:
    """A local HTTP service recording what the CAS server sends it (SLO posts, pgt callbacks)."""

    url: str
    received: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    on_get: Callable[[dict[str, list[str]]], None] | None = None


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    """Serve an Endpoint on 127.0.0.1 in a thread for the duration of one test."""
    recorder = Endpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            recorder.received.append(("GET", self.path, query))
            if recorder.on_get is not None:
                recorder.on_get(query)
            self._answer()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            recorder.received.append(("POST", self.path, parse_qs(body)))
            self._answer()

        def _answer(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def service_ticket(cas_server: CASServer, service: str = SERVICE, user: str = "alice") -> str:
    """Sign ``user`` in with a fresh browser session and return the issued service ticket."""
    response = cas_server.login(requests.Session(), service, user, f"{user}-password")
    return ticket_of(response)


def ticket_of(response: requests.Response) -> str:
    """The ticket carried by a login redirect."""
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["ticket"][0]


def p3_validate(
    cas_server: CASServer, ticket: str, service: str = SERVICE, **params: str
) -> ET.Element:
    """Validate at p3/serviceValidate and return the parsed answer."""
    response = requests.get(
        cas_server.url + "p3/serviceValidate",
        params={"service": service, "ticket": ticket, **params},
        timeout=10,
    )
    return ET.fromstring(response.content)


def test_login_redirects_to_service_with_service_ticket(cas_server: CASServer) -> None:
    response = cas_server.login(requests.Session(), SERVICE, "alice", "alice-password")

    assert response.status_code == 302
    assert response.headers["Location"].startswith(SERVICE + "?ticket=ST-")


def test_login_with_existing_sso_session_skips_the_form(cas_server: CASServer) -> None:
    session = requests.Session()
    first = ticket_of(cas_server.login(session, SERVICE, "alice", "alice-password"))

    again = cas_server.login(session, SERVICE, "alice", "wrong-password")

    assert ticket_of(again) != first


def test_login_with_wrong_password_stays_on_the_form(cas_server: CASServer) -> None:
    response = cas_server.login(requests.Session(), SERVICE, "alice", "wrong-password")

    assert response.status_code == 200
    assert 'id="login_form"' in response.text


def test_p3_service_validate_releases_user_and_attributes(cas_server: CASServer) -> None:
    answer = p3_validate(cas_server, service_ticket(cas_server))

    success = answer.find("cas:authenticationSuccess", CAS_NS)
    assert success is not None
    assert success.findtext("cas:user", namespaces=CAS_NS) == "alice"
    attributes = success.find("cas:attributes", CAS_NS)
    assert attributes is not None
    assert attributes.findtext("cas:email", namespaces=CAS_NS) == "alice@example.org"
    assert attributes.findtext("cas:first_name", namespaces=CAS_NS) == "Alice"
    assert attributes.findtext("cas:last_name", namespaces=CAS_NS) == "Liddell"
    affiliations = [e.text for e in attributes.findall("cas:affiliation", CAS_NS)]
    assert affiliations == ["staff", "member"]


def test_p3_service_validate_releases_only_configured_attributes(cas_server: CASServer) -> None:
    answer = p3_validate(cas_server, service_ticket(cas_server, user="bob"))

    attributes = answer.find("cas:authenticationSuccess/cas:attributes", CAS_NS)
    assert attributes is not None
    released = {element.tag.split("}")[1] for element in attributes}
    assert released - ALWAYS_RELEASED == {"email"}


def test_service_ticket_is_single_use(cas_server: CASServer) -> None:
    ticket = service_ticket(cas_server)
    p3_validate(cas_server, ticket)

    answer = p3_validate(cas_server, ticket)

    failure = answer.find("cas:authenticationFailure", CAS_NS)
    assert failure is not None and failure.get("code") == "INVALID_TICKET"


def test_cas1_validate_answers_yes_and_username(cas_server: CASServer) -> None:
    response = requests.get(
        cas_server.url + "validate",
        params={"service": SERVICE, "ticket": service_ticket(cas_server)},
        timeout=10,
    )

    assert response.text == "yes\nalice\n"


def test_saml_validate_releases_user_and_attributes(cas_server: CASServer) -> None:
    ticket = service_ticket(cas_server)

    response = requests.post(
        cas_server.url + "samlValidate",
        params={"TARGET": SERVICE},
        data=SAML_REQUEST.format(ticket=ticket).encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )

    answer = ET.fromstring(response.content)
    status = answer.find(".//samlp:StatusCode", SAML_NS)
    assert status is not None and status.get("Value") == "samlp:Success"
    assert answer.findtext(".//saml:NameIdentifier", namespaces=SAML_NS) == "alice"
    values: dict[str, list[str | None]] = {}
    for attribute in answer.iterfind(".//saml:Attribute", SAML_NS):
        value = attribute.findtext("saml:AttributeValue", namespaces=SAML_NS)
        values.setdefault(attribute.get("AttributeName", ""), []).append(value)
    assert values["email"] == ["alice@example.org"]
    assert values["affiliation"] == ["staff", "member"]


def test_logout_posts_slo_request_before_answering(
    cas_server: CASServer, endpoint: Endpoint
) -> None:
    service = endpoint.url + "app/"
    session = requests.Session()
    ticket = ticket_of(cas_server.login(session, service, "alice", "alice-password"))

    session.get(cas_server.url + "logout", timeout=10)

    posts = [query for method, path, query in endpoint.received if method == "POST"]
    assert len(posts) == 1
    assert f"<samlp:SessionIndex>{ticket}</samlp:SessionIndex>" in posts[0]["logoutRequest"][0]


def test_pgt_url_receives_pgt_before_validation_answers(
    cas_server: CASServer, endpoint: Endpoint
) -> None:
    answer = p3_validate(
        cas_server, service_ticket(cas_server), pgtUrl=endpoint.url + "pgt/callback"
    )

    iou = answer.findtext("cas:authenticationSuccess/cas:proxyGrantingTicket", namespaces=CAS_NS)
    callbacks = [query for method, path, query in endpoint.received if path.startswith("/pgt/")]
    assert iou and [query["pgtIou"] for query in callbacks] == [[iou]]
    assert callbacks[0]["pgtId"][0].startswith("PGT-")


def test_server_answers_back_channel_call_while_validation_in_flight(
    cas_server: CASServer, endpoint: Endpoint
) -> None:
    proxy_answers: list[str] = []

    def ask_for_proxy_ticket(query: dict[str, list[str]]) -> None:
        response = requests.get(
            cas_server.url + "proxy",
            params={"pgt": query["pgtId"][0], "targetService": SERVICE},
            timeout=10,
        )
        proxy_answers.append(response.text)

    endpoint.on_get = ask_for_proxy_ticket

    p3_validate(cas_server, service_ticket(cas_server), pgtUrl=endpoint.url + "pgt/callback")

    assert len(proxy_answers) == 1
    assert "<cas:proxyTicket>PT-" in proxy_answers[0]
