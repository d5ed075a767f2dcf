"""Which proxy chains a presented ticket may come through (issue 10.8) and how a validation
answer's chain is read (issue 10.9): the policy is keyed on the canonical service, and an
answer whose chain has an unknown shape is refused, never read as "no proxy"."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory

from django_cas_ng._internal.presented import allowed_chains, proxy_ticket_required
from tests.cas_answers import APP_A, CAS_NS, proxy_validate_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

P3_PROXY_VALIDATE = CAS + "p3/proxyValidate"
P3_SERVICE_VALIDATE = CAS + "p3/serviceValidate"
PATH = "/api/whoami/"
STRICT = [["https://trusted.example/cb"]]


@proxy_ticket_required
def whoami(request):
    from django.http import JsonResponse

    return JsonResponse({"user": request.user.get_username()})


def present(host: str = "www.example.org", secure: bool = True, ticket: str = "PT-1-abc"):
    request = RequestFactory().get(
        PATH, HTTP_HOST=host, secure=secure, HTTP_AUTHORIZATION=f"CAS {ticket}"
    )
    return whoami(request)


def code(response) -> str:
    return str(json.loads(response.content)["code"])


def answer_with_chain(chain_xml: str, user: str = "alice") -> str:
    return (
        f"<cas:serviceResponse {CAS_NS}><cas:authenticationSuccess>"
        f"<cas:user>{user}</cas:user>{chain_xml}"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )


@pytest.fixture
def aliases(settings):
    settings.ALLOWED_HOSTS = ["www.example.org", "alias.example.org"]
    settings.CAS_PROXY_CHAINS = {"https://www.example.org" + PATH: STRICT, "*": [[APP_A]]}
    return settings


# 10.8: the policy follows the service, not the Host header or the scheme


def test_an_alias_host_gets_the_services_strict_entry_not_the_wildcard(aliases, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(proxies=(APP_A,)))
    response = present(host="alias.example.org")
    assert response.status_code == 401
    assert code(response) == "UNTRUSTED_PROXY_CHAIN"


def test_plain_http_gets_the_services_strict_entry_not_the_wildcard(aliases, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=proxy_validate_xml(proxies=(APP_A,)))
    response = present(secure=False)
    assert code(response) == "UNTRUSTED_PROXY_CHAIN"


def test_the_strict_entry_still_admits_its_chain_through_an_alias(aliases, cas_http) -> None:
    cas_http.get(
        P3_PROXY_VALIDATE, body=proxy_validate_xml(proxies=("https://trusted.example/cb",))
    )
    assert present(host="alias.example.org", secure=False).status_code == 200


def test_a_pinned_origin_keys_the_policy(settings) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    settings.CAS_PROXY_CHAINS = {"http://www.example.org" + PATH: STRICT, "*": [[APP_A]]}
    assert allowed_chains("https://www.example.org" + PATH) == STRICT


def test_another_sites_service_keeps_its_exact_key(aliases) -> None:
    aliases.CAS_PROXY_CHAINS = {"https://api.example.net/": STRICT, "*": [[APP_A]]}
    assert allowed_chains("https://api.example.net/") == STRICT
    assert allowed_chains("http://api.example.net/") == [[APP_A]]


def test_entries_for_two_aliases_of_one_path_allow_only_their_common_chains(aliases) -> None:
    both = [["https://both.example/cb"]]
    aliases.CAS_PROXY_CHAINS = {
        "https://www.example.org" + PATH: [*STRICT, *both],
        "https://alias.example.org" + PATH: both,
    }
    assert allowed_chains("http://www.example.org" + PATH) == both


# 10.9: with no chain allowed the CAS server refuses proxy tickets itself


@pytest.mark.parametrize(
    ("version", "endpoint"), [("3", "/cas/p3/serviceValidate"), ("2", "/cas/serviceValidate")]
)
def test_without_an_allowed_chain_tickets_are_validated_at_service_validate(
    settings, cas_http, version: str, endpoint: str
) -> None:
    settings.ALLOWED_HOSTS = ["www.example.org"]
    settings.CAS_VERSION = version
    cas_http.get(CAS.rstrip("/") + endpoint.removeprefix("/cas"), body=answer_with_chain(""))

    assert present(ticket="ST-1-direct").status_code == 200
    assert urlsplit(cas_http.calls[0].request.url).path == endpoint


def test_with_an_allowed_chain_tickets_are_validated_at_proxy_validate(aliases, cas_http) -> None:
    cas_http.get(P3_PROXY_VALIDATE, body=answer_with_chain(""))
    assert present(ticket="ST-1-direct").status_code == 200
    assert urlsplit(cas_http.calls[0].request.url).path == "/cas/p3/proxyValidate"


def test_a_chain_in_a_service_validate_answer_is_still_refused(settings, cas_http) -> None:
    settings.ALLOWED_HOSTS = ["www.example.org"]
    cas_http.get(P3_SERVICE_VALIDATE, body=proxy_validate_xml(proxies=(APP_A,)))
    assert code(present()) == "UNTRUSTED_PROXY_CHAIN"


NON_CONFORMING = {
    "other children in proxies": f"<cas:proxies><cas:other>{APP_A}</cas:other></cas:proxies>",
    "proxy outside proxies": f"<cas:proxy>{APP_A}</cas:proxy>",
    "text-only proxies": f"<cas:proxies>{APP_A}</cas:proxies>",
    "text beside the proxies": f"<cas:proxies><cas:proxy>{APP_A}</cas:proxy>x</cas:proxies>",
    "proxies without namespace": f"<proxies><proxy>{APP_A}</proxy></proxies>",
    "two proxies blocks": (
        f"<cas:proxies><cas:proxy>{APP_A}</cas:proxy></cas:proxies>"
        "<cas:proxies><cas:proxy>https://evil.example/cb</cas:proxy></cas:proxies>"
    ),
    "empty proxy": "<cas:proxies><cas:proxy> </cas:proxy></cas:proxies>",
    "empty proxies": "<cas:proxies/>",
    "nested proxy": f"<cas:proxies><cas:proxy><cas:proxy>{APP_A}</cas:proxy></cas:proxy></cas:proxies>",
}


@pytest.mark.parametrize("chain_xml", NON_CONFORMING.values(), ids=NON_CONFORMING.keys())
def test_a_non_conforming_chain_is_refused_not_read_as_no_proxy(
    settings, cas_http, chain_xml: str
) -> None:
    settings.ALLOWED_HOSTS = ["www.example.org"]
    settings.CAS_PROXY_CHAINS = {"https://www.example.org" + PATH: STRICT}
    cas_http.get(P3_PROXY_VALIDATE, body=answer_with_chain(chain_xml))

    response = present()

    assert response.status_code == 401
    assert code(response) == "UNTRUSTED_PROXY_CHAIN"


def test_a_conforming_chain_is_read_most_recent_first(settings, cas_http) -> None:
    settings.ALLOWED_HOSTS = ["www.example.org"]
    settings.CAS_PROXY_CHAINS = {"*": [["https://b.example/cb", APP_A]]}
    chain = f"<cas:proxies><cas:proxy>https://b.example/cb</cas:proxy><cas:proxy>{APP_A}</cas:proxy></cas:proxies>"
    cas_http.get(P3_PROXY_VALIDATE, body=answer_with_chain(chain))
    assert present().status_code == 200


def test_an_attribute_named_proxies_is_not_a_chain(settings, cas_http) -> None:
    settings.ALLOWED_HOSTS = ["www.example.org"]
    attributes = f"<cas:attributes><cas:proxies>{APP_A}</cas:proxies></cas:attributes>"
    cas_http.get(P3_SERVICE_VALIDATE, body=answer_with_chain(attributes))
    assert present(ticket="ST-1-direct").status_code == 200
