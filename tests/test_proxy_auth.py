"""Accepting proxy tickets: ``proxy_ticket_required``, the chain allow-list and the user policy.

The CAS server is faked with ``responses``; the full-stack tests route through ``urlpatterns``
below (``pytest.mark.urls``) so that the session and CSRF middleware take part.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, RequestFactory
from django.urls import path

from django_cas_ng import client as cas_client
from django_cas_ng._internal import presented as proxy_auth
from django_cas_ng._internal import urls
from django_cas_ng._internal.presented import (
    AcceptedTicket,
    authenticate_proxy_ticket,
    chain_is_allowed,
    parse_proxy_validation,
    service_url_for,
    ticket_from_request,
)
from django_cas_ng.backends import CASBackend
from django_cas_ng.decorators import proxy_ticket_required
from django_cas_ng.exceptions import TicketValidationError
from tests.cas_answers import APP_A, failure_xml, proxy_validate_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

P3_PROXY_VALIDATE = CAS + "p3/proxyValidate"
P3_SERVICE_VALIDATE = CAS + "p3/serviceValidate"
PROXY_VALIDATE = CAS + "proxyValidate"
SERVICE = "http://testserver/api/whoami/"
FIXED_SERVICE = "https://api.example.org/"


def whoami_body(request: HttpRequest) -> dict[str, Any]:
    accepted: AcceptedTicket = request.cas_auth  # type: ignore[attr-defined]
    return {
        "user": request.user.get_username(),
        "proxies": list(accepted.proxies),
        "service": accepted.service,
        "attributes": dict(accepted.attributes),
    }


@proxy_ticket_required
def whoami(request: HttpRequest) -> HttpResponse:
    return JsonResponse(whoami_body(request))


@proxy_ticket_required(service=FIXED_SERVICE, realm="inventory")
def fixed(request: HttpRequest) -> HttpResponse:
    return JsonResponse(whoami_body(request))


@proxy_ticket_required
async def async_whoami(request: HttpRequest) -> HttpResponse:
    return JsonResponse(whoami_body(request))


urlpatterns = [
    path("api/whoami/", whoami),
    path("api/fixed/", fixed),
]


@pytest.fixture
def chains(settings):
    settings.CAS_PROXY_CHAINS = {SERVICE: [[APP_A]], FIXED_SERVICE: [[APP_A]]}
    return settings


def get(view=whoami, path: str = "/api/whoami/", ticket: str | None = "PT-1-abc", **extra):
    headers = {"HTTP_AUTHORIZATION": f"CAS {ticket}"} if ticket is not None else {}
    return view(RequestFactory().get(path, **headers, **extra))


def sent(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def body(response: HttpResponse) -> Any:
    import json

    return json.loads(response.content)


# Accepted tickets


def test_accepts_proxy_ticket_from_allowed_chain(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(attributes={"email": "a@x.org"}))

    response = get()

    assert response.status_code == 200
    assert body(response) == {
        "user": "alice",
        "proxies": [APP_A],
        "service": SERVICE,
        "attributes": {"email": "a@x.org"},
    }
    assert sent(cas_http.calls[0]) == {"ticket": ["PT-1-abc"], "service": [SERVICE]}


def test_async_view_accepts_proxy_ticket_from_allowed_chain(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    request = RequestFactory().get("/api/whoami/", HTTP_AUTHORIZATION="CAS PT-1-abc")

    response = async_to_sync(async_whoami)(request)

    assert response.status_code == 200
    assert body(response)["user"] == "alice"
    assert response["Vary"] == "Authorization"


def test_async_view_without_ticket_is_401() -> None:
    response = async_to_sync(async_whoami)(RequestFactory().get("/api/whoami/"))
    assert response.status_code == 401


def test_validates_at_proxy_validate_for_cas_2(chains, cas_http) -> None:
    chains.CAS_VERSION = "2"
    cas_http.get(PROXY_VALIDATE, body=proxy_validate_xml())
    assert get().status_code == 200
    assert urlsplit(cas_http.calls[0].request.url).path == "/cas/proxyValidate"


def test_never_sends_renew_or_pgt_url(chains, cas_http) -> None:
    chains.CAS_RENEW = True
    chains.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    assert get().status_code == 200
    assert set(sent(cas_http.calls[0])) == {"ticket", "service"}


def test_accepts_ticket_from_query_parameter(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    response = whoami(RequestFactory().get("/api/whoami/", {"ticket": "PT-2-q"}))
    assert response.status_code == 200
    assert sent(cas_http.calls[0])["ticket"] == ["PT-2-q"]


def test_accepts_service_ticket_without_any_chain_configured(settings, cas_http) -> None:
    cas_http.get(P3_SERVICE_VALIDATE, body=proxy_validate_xml(proxies=()))
    response = get(ticket="ST-1-direct")
    assert response.status_code == 200
    assert body(response)["proxies"] == []


def test_fixed_service_is_what_the_ticket_is_validated_for(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    response = get(view=fixed, path="/api/fixed/?page=2")
    assert response.status_code == 200
    assert sent(cas_http.calls[0])["service"] == [FIXED_SERVICE]


def test_default_service_is_on_public_origin_behind_a_proxy(settings, cas_http) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    cas_http.get(P3_SERVICE_VALIDATE, body=proxy_validate_xml(proxies=()))
    get(path="/api/whoami/?page=2")
    assert sent(cas_http.calls[0])["service"] == ["https://www.example.org/api/whoami/"]


def test_creates_the_user_through_the_backend(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(user="newcomer"))
    assert get().status_code == 200
    assert get_user_model().objects.filter(username="newcomer").exists()


def test_applies_username_case_policy(chains, cas_http) -> None:
    chains.CAS_FORCE_CHANGE_USERNAME_CASE = "lower"
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(user="Alice"))
    assert body(get())["user"] == "alice"


# The chain allow-list


@pytest.mark.parametrize(
    ("allowed", "proxies", "accepted"),
    [
        ([[APP_A]], (APP_A,), True),
        ([[APP_A]], ("https://app-a.example.org/accounts/callback/x",), False),
        ([[r"^https://app-a\.example\.org/.*"]], (APP_A,), True),
        ([[r"^https://app-a\.example\.org/"]], (APP_A,), False),  # full match only
        ([[re.compile(r"https://[a-z-]+\.example\.org/.*")]], (APP_A,), True),
        ([[APP_A]], (APP_A, "https://evil.example.net/"), False),  # lengths must match
        ([[APP_A, "https://b.example/cb"]], (APP_A,), False),
        ([["https://b.example/cb", APP_A]], ("https://b.example/cb", APP_A), True),
        ([["https://b.example/cb", APP_A]], (APP_A, "https://b.example/cb"), False),  # order
        ([["https://other/cb"], [APP_A]], (APP_A,), True),  # any listed chain
        ([], (APP_A,), False),
    ],
)
def test_chain_matching(settings, allowed, proxies, accepted) -> None:
    settings.CAS_PROXY_CHAINS = {SERVICE: allowed}
    assert chain_is_allowed(proxies, SERVICE) is accepted


def test_service_entry_takes_precedence_over_wildcard(settings) -> None:
    settings.CAS_PROXY_CHAINS = {"*": [[APP_A]], SERVICE: [["https://only.example/cb"]]}
    assert not chain_is_allowed((APP_A,), SERVICE)
    assert chain_is_allowed((APP_A,), "https://elsewhere.example/")


def test_service_ticket_is_always_allowed(settings) -> None:
    settings.CAS_PROXY_CHAINS = {}
    assert chain_is_allowed((), SERVICE)


def test_refuses_chain_not_on_allow_list_with_401(settings, cas_http) -> None:
    settings.CAS_PROXY_CHAINS = {SERVICE: [["https://trusted.example/cb"]]}
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(user="mallory"))

    response = get()

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'CAS realm="api"'
    assert response["Content-Type"] == "application/json"
    assert body(response)["code"] == "UNTRUSTED_PROXY_CHAIN"
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_refuses_proxy_ticket_when_no_chain_is_configured(settings, cas_http) -> None:
    cas_http.get(P3_SERVICE_VALIDATE, body=proxy_validate_xml())
    assert body(get())["code"] == "UNTRUSTED_PROXY_CHAIN"


# Refusals


def test_without_ticket_answers_401_without_asking_cas(chains, cas_http) -> None:
    response = get(ticket=None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'CAS realm="api"'
    assert body(response)["code"] == "NO_TICKET"
    assert not cas_http.calls


def test_other_authorization_scheme_counts_as_no_ticket(chains, cas_http) -> None:
    response = whoami(RequestFactory().get("/api/whoami/", HTTP_AUTHORIZATION="Bearer abc"))
    assert body(response)["code"] == "NO_TICKET"


def test_realm_is_configurable(chains) -> None:
    assert get(view=fixed, path="/api/fixed/", ticket=None)["WWW-Authenticate"] == (
        'CAS realm="inventory"'
    )


@pytest.mark.parametrize(
    "ticket",
    [
        "PT-1 abc",
        "PT-" + "x" * 5000,
        "PT-" + "x" * 1100,  # longer than any ticket login accepts
        "PT-\u00e9",
        "PT-1\x00",
        "PT-1<x/>",
        "PT-1&service=https://evil.example/",
        "PT-1'\"",
        "PT-1;x",
    ],
)
def test_malformed_ticket_is_refused_without_asking_cas(chains, cas_http, ticket) -> None:
    response = whoami(RequestFactory().get("/api/whoami/", {"ticket": ticket}))
    assert response.status_code == 401
    assert body(response)["code"] == "INVALID_TICKET"
    assert not cas_http.calls


def test_malformed_ticket_in_header_is_refused_without_asking_cas(chains, cas_http) -> None:
    response = get(ticket="PT-1<x>")
    assert response.status_code == 401
    assert body(response)["code"] == "INVALID_TICKET"
    assert not cas_http.calls


@pytest.mark.parametrize("ticket", ["PT-1-abc", "PT-1-" + "a" * 1019, "eyJhbGciOi.eyJzdWIi.c2ln"])
def test_well_formed_ticket_is_sent_to_cas(chains, cas_http, ticket) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    assert get(ticket=ticket).status_code == 200
    assert sent(cas_http.calls[0])["ticket"] == [ticket]


def test_ticket_refused_by_cas_answers_401_with_its_code(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=failure_xml("INVALID_SERVICE"))
    response = get()
    assert response.status_code == 401
    assert body(response)["code"] == "INVALID_SERVICE"


def test_reused_ticket_is_refused_without_asking_cas_again(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())

    assert get().status_code == 200
    second = get()

    assert len(cas_http.calls) == 1
    assert second.status_code == 401
    assert body(second)["code"] == "TICKET_ALREADY_USED"


@pytest.mark.parametrize(
    "answer",
    [
        requests.ConnectionError("refused"),
        "<cas:serviceResponse",
        '<!DOCTYPE x [<!ENTITY e "alice">]><x>&e;</x>',
    ],
)
def test_unusable_cas_answers_503(chains, cas_http, answer) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=answer)
    response = get()
    assert response.status_code == 503
    assert body(response)["code"] == "CAS_UNAVAILABLE"


def test_cas_5xx_answers_503(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, status=502, body="bad gateway")
    assert get().status_code == 503


def test_unknown_user_refused_when_users_are_not_created(chains, cas_http) -> None:
    chains.CAS_CREATE_USER = False
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(user="stranger"))
    response = get()
    assert response.status_code == 401
    assert body(response)["code"] == "USER_REFUSED"


def test_existing_user_accepted_when_users_are_not_created(chains, cas_http) -> None:
    chains.CAS_CREATE_USER = False
    get_user_model().objects.create_user("alice")
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    assert get().status_code == 200


def test_inactive_user_is_refused(chains, cas_http) -> None:
    get_user_model().objects.create_user("alice", is_active=False)
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    assert body(get())["code"] == "USER_REFUSED"


class PickyBackend(CASBackend):
    def bad_attributes_reject(self, request: Any, username: str, attributes: Any) -> bool:
        return attributes.get("status") == "suspended"


def test_site_backend_hooks_decide(chains, cas_http) -> None:
    chains.AUTHENTICATION_BACKENDS = ["tests.test_proxy_auth.PickyBackend"]
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(attributes={"status": "suspended"}))
    assert body(get())["code"] == "USER_REFUSED"


def test_ticket_is_redacted_in_logs(chains, cas_http, caplog) -> None:
    ticket = "PT-1-0123456789abcdef"
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    cas_http.get(P3_PROXY_VALIDATE, body=failure_xml())
    with caplog.at_level(logging.DEBUG, logger="django_cas_ng"):
        get(ticket=ticket)
        get(ticket=ticket)
    assert caplog.records
    assert ticket not in caplog.text


# Through the middleware stack


@pytest.mark.urls("tests.test_proxy_auth")
def test_post_needs_no_csrf_token_and_opens_no_session(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/whoami/", HTTP_AUTHORIZATION="CAS PT-1-abc")

    assert response.status_code == 200
    assert body(response)["user"] == "alice"
    assert "sessionid" not in response.cookies
    assert "Authorization" in response["Vary"]


@pytest.mark.urls("tests.test_proxy_auth")
def test_session_login_does_not_replace_the_ticket(chains, cas_http, client) -> None:
    client.force_login(get_user_model().objects.create_user("bob"))
    response = client.get("/api/whoami/")
    assert response.status_code == 401


# The building blocks


def test_parse_lists_proxies_most_recent_first() -> None:
    answer = proxy_validate_xml(proxies=("https://b.example/cb", APP_A))
    assert parse_proxy_validation(answer).proxies == ("https://b.example/cb", APP_A)


def test_parse_failure_carries_cas_code_but_not_server_text() -> None:
    with pytest.raises(TicketValidationError) as raised:
        parse_proxy_validation(failure_xml("INVALID_TICKET"))
    assert raised.value.code == "INVALID_TICKET"
    assert "not recognized" not in str(raised.value)


def test_parse_success_without_user_is_a_refusal() -> None:
    with pytest.raises(TicketValidationError):
        parse_proxy_validation(proxy_validate_xml(user=""))


@pytest.mark.parametrize("user", ["", "   "])
def test_success_without_user_answers_401_as_login_refuses_it(chains, cas_http, user) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(user=user))
    response = get()
    assert response.status_code == 401
    assert body(response)["code"] == "USER_REFUSED"


def test_success_without_user_is_refused_even_with_username_attribute(chains, cas_http) -> None:
    # Login refuses it before looking at CAS_USERNAME_ATTRIBUTE; so does this.
    chains.CAS_USERNAME_ATTRIBUTE = "uid"
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(user="", attributes={"uid": "bob"}))
    assert get().status_code == 401
    assert not get_user_model().objects.filter(username="bob").exists()


def test_parse_reads_the_answer_as_login_does() -> None:
    answer = (
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>'
        "<cas:user> alice </cas:user><cas:attributes><cas:email>a@x.org</cas:email>"
        "<cas:group>staff</cas:group><cas:group>dev</cas:group><cas:attraStyle>x</cas:attraStyle>"
        "</cas:attributes><cas:norEduPerson><cas:eppn>alice@x</cas:eppn></cas:norEduPerson>"
        f"<cas:proxies><cas:proxy> {APP_A} </cas:proxy></cas:proxies>"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )
    user, attributes, _ = cas_client.CASClientV3.parse_response_xml(answer.encode())

    parsed = parse_proxy_validation(answer)

    assert (parsed.username, parsed.attributes) == (user, attributes)
    assert parsed.attributes == {"email": "a@x.org", "group": ["staff", "dev"], "eppn": "alice@x"}
    assert parsed.proxies == (APP_A,)


def test_proxy_auth_uses_no_private_name_of_the_client_module() -> None:
    source = Path(proxy_auth.__file__).read_text()
    private = [
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module == "client"
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []
    assert "cas_client._" not in source and "client._" not in source


def test_ticket_from_header_wins_over_query() -> None:
    request = RequestFactory().get("/", {"ticket": "ST-q"}, HTTP_AUTHORIZATION="cas  PT-h ")
    assert ticket_from_request(request) == "PT-h"


def test_service_url_drops_query_string() -> None:
    assert service_url_for(RequestFactory().get("/api/x/?a=1&ticket=t")) == (
        "http://testserver/api/x/"
    )


def test_service_url_is_the_public_url_login_uses() -> None:
    request = RequestFactory().get("/api/x/?a=1")
    with mock.patch.object(proxy_auth, "public_url", return_value="https://shared/") as shared:
        assert service_url_for(request) == "https://shared/"
    shared.assert_called_once_with(request, "/api/x/")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "http://testserver/api/x/"),
        ({"CAS_FORCE_SSL_SERVICE_URL": True}, "https://testserver/api/x/"),
        ({"CAS_ROOT_PROXIED_AS": "https://www.example.org"}, "https://www.example.org/api/x/"),
    ],
)
def test_service_url_origin_matches_the_login_service_url(settings, extra, expected) -> None:
    for name, value in extra.items():
        setattr(settings, name, value)
    settings.CAS_STORE_NEXT = True
    request = RequestFactory().get("/api/x/?a=1")
    assert service_url_for(request) == expected == urls.get_service_url(request)


def test_authenticate_proxy_ticket_returns_what_was_accepted(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    request = RequestFactory().get("/api/whoami/")
    accepted = authenticate_proxy_ticket(request, "PT-1-abc")
    assert (accepted.username, accepted.proxies, accepted.service) == ("alice", (APP_A,), SERVICE)
    assert accepted.user.username == "alice"
