"""The optional login nonce (issue 10.16): a ticket is validated only in the browser session
that was sent to CAS for it, so an attacker's ticket link signs no victim in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from django_cas_ng._internal import login
from tests.cas_answers import failure_xml, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VALIDATE = CAS + "p3/serviceValidate"


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def start(client: Client, path: str = LOGIN + "?next=/private/") -> str:
    """The service URL our login view sends to CAS."""
    response = client.get(path)
    assert response.url.startswith(CAS + "login?"), response.url
    return query(response.url)["service"][0]


def ticket_link(service: str, ticket: str = "ST-1-abc") -> str:
    """What CAS redirects the browser to: the service URL plus the ticket."""
    return f"{service}&ticket={ticket}"


def validated_services(cas_http) -> list[str]:
    return [query(call.request.url)["service"][0] for call in cas_http.calls]


@pytest.fixture
def nonce_on(settings) -> None:
    settings.CAS_LOGIN_NONCE = True


def test_the_nonce_is_off_by_default(client: Client) -> None:
    assert login.NONCE_PARAM not in query(start(client))


def test_the_service_url_carries_a_nonce_the_session_holds(client: Client, nonce_on) -> None:
    service = start(client)
    [nonce] = query(service)[login.NONCE_PARAM]
    assert client.session[login.NONCE_SESSION_KEY] == [nonce]


def test_a_ticket_is_validated_with_exactly_the_service_url_sent(
    client: Client, nonce_on, cas_http
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    service = start(client)

    response = client.get(ticket_link(service))

    assert response.url == "/private/"
    assert validated_services(cas_http) == [service]
    assert client.session[login.NONCE_SESSION_KEY] == []


def test_a_ticket_link_from_another_browser_is_refused_without_asking_cas(
    client: Client, nonce_on, cas_http
) -> None:
    attacker = Client()
    attackers_link = ticket_link(start(attacker), "ST-1-attackers")
    start(client)  # the victim's own sign-in under way does not help the attacker

    response = client.get(attackers_link)

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert len(cas_http.calls) == 0


def test_a_ticket_without_a_nonce_is_refused_without_asking_cas(
    client: Client, nonce_on, cas_http
) -> None:
    start(client)
    response = client.get(LOGIN + "?next=/private/&ticket=ST-1-abc")
    assert response.status_code == 403
    assert len(cas_http.calls) == 0


def test_a_nonce_works_once(client: Client, nonce_on, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    service = start(client)
    assert client.get(ticket_link(service, "ST-1-first")).status_code == 403

    assert client.get(ticket_link(service, "ST-2-second")).status_code == 403
    assert len(cas_http.calls) == 1


def test_a_refused_nonce_with_retry_login_goes_back_to_cas_with_a_fresh_one(
    client: Client, nonce_on, settings, cas_http
) -> None:
    settings.CAS_RETRY_LOGIN = True
    attackers_link = ticket_link(start(Client()), "ST-1-attackers")

    response = client.get(attackers_link)

    assert response.url.startswith(CAS + "login?")
    [fresh] = query(query(response.url)["service"][0])[login.NONCE_PARAM]
    assert fresh not in attackers_link
    assert client.session[login.NONCE_SESSION_KEY] == [fresh]
    assert len(cas_http.calls) == 0


def test_several_tabs_each_sign_in_with_their_own_nonce(client: Client, nonce_on, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    first_tab, second_tab = start(client), start(client)

    assert client.get(ticket_link(first_tab)).url == "/private/"
    assert validated_services(cas_http) == [first_tab]
    assert len(client.session[login.NONCE_SESSION_KEY]) == 1
    assert second_tab != first_tab


def test_the_session_keeps_a_bounded_number_of_nonces(client: Client, nonce_on, cas_http) -> None:
    services = [start(client) for _ in range(login.MAX_NONCES + 2)]

    assert len(client.session[login.NONCE_SESSION_KEY]) == login.MAX_NONCES
    assert client.get(ticket_link(services[0])).status_code == 403
    assert len(cas_http.calls) == 0


def test_gateway_with_a_nonce_signs_in(client: Client, nonce_on, settings, cas_http) -> None:
    settings.CAS_GATEWAY = True
    cas_http.get(VALIDATE, body=success_xml("alice"))
    response = client.get(LOGIN + "?next=/private/")
    assert query(response.url)["gateway"] == ["true"]
    service = query(response.url)["service"][0]
    assert query(service)["gatewayed"] == ["1"]

    assert client.get(ticket_link(service)).url == "/private/"
    assert validated_services(cas_http) == [service]


def test_gateway_return_without_ticket_still_ends_the_attempt(
    client: Client, nonce_on, settings
) -> None:
    settings.CAS_GATEWAY = True
    service = start(client)
    assert client.get(service).url == "/private/"


def test_store_next_with_a_nonce_lands_on_the_stored_page(
    client: Client, nonce_on, settings, cas_http
) -> None:
    settings.CAS_STORE_NEXT = True
    cas_http.get(VALIDATE, body=success_xml("alice"))
    service = start(client)
    assert set(query(service)) == {login.NONCE_PARAM}

    assert client.get(ticket_link(service)).url == "/private/"
    assert validated_services(cas_http) == [service]


@pytest.mark.parametrize("value", ["", "short", "x" * 200, "A" * 21 + "!"])
def test_a_malformed_nonce_is_refused(client: Client, nonce_on, cas_http, value: str) -> None:
    start(client)
    response = client.get(LOGIN, {"next": "/private/", "nonce": value, "ticket": "ST-1-a"})
    assert response.status_code == 403
    assert len(cas_http.calls) == 0


def test_the_api_401_leads_to_a_sign_in_that_issues_the_nonce(
    client: Client, nonce_on, cas_http
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    answer = client.get("/private/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 401

    service = start(client, answer.json()["login_url"])
    response = client.get(ticket_link(service))

    assert login.NONCE_PARAM in query(service)
    assert response.url == "/private/"
    assert "_auth_user_id" in client.session


def test_a_stepup_carries_a_nonce_and_refuses_a_ticket_link_without_it(
    client: Client, nonce_on, cas_http, django_user_model
) -> None:
    client.force_login(django_user_model.objects.create_user("alice"))
    to_cas = client.get("/accounts/stepup/?next=/private/")
    service = query(to_cas.url)["service"][0]
    assert query(service)[login.NONCE_PARAM] == client.session[login.NONCE_SESSION_KEY]

    attacker = "/accounts/stepup/?next=/private/&ticket=ST-1-attackers"
    response = client.get(attacker)

    assert response.status_code == 403
    assert len(cas_http.calls) == 0


def test_a_stepup_with_the_nonce_on_comes_back_stepped_up(
    client: Client, nonce_on, cas_http, django_user_model
) -> None:
    from tests.test_stepup import BACKEND, stepup_answer

    client.force_login(django_user_model.objects.create_user("alice"), backend=BACKEND)
    cas_http.get(VALIDATE, body=stepup_answer())
    service = query(client.get("/accounts/stepup/?next=/private/").url)["service"][0]

    response = client.get(ticket_link(service))

    assert response.url == "/private/"
    assert validated_services(cas_http) == [service]
