"""``CASProxyTicketAuthentication``: the DRF face of proxy-ticket acceptance."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from django_cas_ng._internal.responses import CAS_UNAVAILABLE_DETAIL
from django_cas_ng.contrib.drf import CASProxyTicketAuthentication
from tests.cas_answers import APP_A, failure_xml, proxy_validate_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

P3_PROXY_VALIDATE = CAS + "p3/proxyValidate"
SERVICE = "http://testserver/api/items/"


class Items(APIView):
    authentication_classes = [CASProxyTicketAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]

    def get(self, request: Request) -> Response:
        return Response(
            {"user": request.user.get_username(), "proxies": list(request.auth.proxies)}
        )


class InventoryAuthentication(CASProxyTicketAuthentication):
    service_url = "https://api.example.org/"
    www_authenticate_realm = "inventory"


class Inventory(Items):
    authentication_classes = [InventoryAuthentication]


@pytest.fixture
def chains(settings):
    settings.CAS_PROXY_CHAINS = {SERVICE: [[APP_A]], "https://api.example.org/": [[APP_A]]}
    return settings


def call(
    view: type[APIView] = Items,
    ticket: str | None = "PT-1-abc",
    query: dict[str, str] | None = None,
) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"CAS {ticket}"} if ticket else {}
    request = APIRequestFactory().get("/api/items/", query or {}, **headers)
    return view.as_view()(request).render()


def test_accepted_ticket_gives_user_and_chain(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    response = call()
    assert response.status_code == 200
    assert response.data == {"user": "alice", "proxies": [APP_A]}


def test_ticket_in_query_parameter_is_accepted(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    assert call(ticket=None, query={"ticket": "PT-2-q"}).status_code == 200
    assert "ticket=PT-2-q" in cas_http.calls[0].request.url


def test_without_ticket_answers_401_with_www_authenticate(chains, cas_http) -> None:
    response = call(ticket=None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'CAS realm="api"'
    assert "detail" in response.data
    assert not cas_http.calls


def test_untrusted_chain_answers_401_json(settings, cas_http) -> None:
    settings.CAS_PROXY_CHAINS = {SERVICE: [["https://trusted.example/cb"]]}
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    response = call()
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == 'CAS realm="api"'
    assert response.data["detail"].code == "UNTRUSTED_PROXY_CHAIN"


def test_refused_ticket_answers_401(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=failure_xml("INVALID_TICKET"))
    response = call()
    assert response.status_code == 401
    assert response.data["detail"].code == "INVALID_TICKET"


@pytest.mark.parametrize("ticket", ["PT-1<x>", "PT-" + "x" * 1100])
def test_malformed_ticket_answers_401_without_asking_cas(chains, cas_http, ticket) -> None:
    response = call(ticket=None, query={"ticket": ticket})
    assert response.status_code == 401
    assert response.data["detail"].code == "INVALID_TICKET"
    assert not cas_http.calls


def test_success_without_user_answers_401_not_503(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(user=""))
    response = call()
    assert response.status_code == 401
    assert response.data["detail"].code == "USER_REFUSED"


def test_cas_unreachable_answers_503(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=requests.ConnectionError("refused"))
    response = call()
    assert response.status_code == 503
    assert response.data["detail"].code == "cas_unavailable"


def test_cas_unreachable_says_what_every_json_503_says(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=requests.ConnectionError("refused"))
    response = call()
    assert str(response.data["detail"]) == str(CAS_UNAVAILABLE_DETAIL)


def test_subclass_sets_service_url_and_realm(chains, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml())
    assert call(Inventory).status_code == 200
    assert "service=https%3A%2F%2Fapi.example.org%2F" in cas_http.calls[0].request.url
    assert call(Inventory, ticket=None)["WWW-Authenticate"] == 'CAS realm="inventory"'


def test_request_without_ticket_is_left_to_the_next_class(chains, cas_http) -> None:
    request = Request(APIRequestFactory().get("/api/items/"))
    assert CASProxyTicketAuthentication().authenticate(request) is None
