"""Two tenants of one site, told apart by host, each signing in at its own real CAS server:
tenant A is the live server reached as 127.0.0.1, tenant B the same server reached as localhost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.urls import path

from django_cas_ng._internal.http import reset_http_sessions
from django_cas_ng._internal.presented import proxy_ticket_required
from django_cas_ng.models import SessionTicket
from tests import urls as suite_urls
from tests.cas_answers import logout_request
from tests.casserver import CASServer
from tests.integration.browser import Browser, query_of
from tests.integration.conftest import ATTRIBUTES, USERS

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]


@proxy_ticket_required
def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(request.user.pk))


urlpatterns = [*suite_urls.urlpatterns, path("api/whoami/", whoami)]


@pytest.fixture(scope="module")
def second_cas_server() -> Iterator[CASServer]:
    """Tenant B's CAS server: another django-cas-server process on another port."""
    with CASServer(users=USERS, attributes=ATTRIBUTES) as server:
        yield server


@pytest.fixture
def tenants(
    live_server: Any, cas_server: CASServer, second_cas_server: CASServer, settings: Any
) -> dict[str, tuple[str, CASServer]]:
    """host -> (our app's origin under that host, the tenant's CAS server)."""
    port = urlsplit(live_server.url).port
    chosen = {"127.0.0.1": cas_server, "localhost": second_cas_server}

    def server_for_host(request: HttpRequest) -> str | None:
        server = chosen.get(request.get_host().rsplit(":", 1)[0])
        return server.url if server else None

    settings.CAS_SERVER_URL = server_for_host
    settings.CAS_VERSION = "3"
    reset_http_sessions()
    return {host: (f"http://{host}:{port}", server) for host, server in chosen.items()}


@pytest.fixture
def browser_at(tenants: dict[str, tuple[str, CASServer]]) -> Iterator[Any]:
    made: list[Browser] = []

    def make(host: str) -> Browser:
        live, server = tenants[host]
        browser = Browser(live=live, cas=server)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.session.close()


def test_each_tenant_signs_in_at_its_own_server(browser_at: Any) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")

    a_flow = a.sign_in("alice")  # start_login checks the redirect goes to a.cas
    b_flow = b.sign_in("bob")

    assert a_flow.landing.status_code == 302 and b_flow.landing.status_code == 302
    assert a.is_signed_in() and b.is_signed_in()
    assert a.get("/").text == "home alice"
    assert b.get("/").text == "home bob"
    rows = dict(SessionTicket.objects.values_list("ticket", "server_url"))
    assert rows == {a_flow.ticket: a.cas.url, b_flow.ticket: b.cas.url}


def test_a_ticket_from_the_other_tenants_server_is_refused(browser_at: Any) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")
    # Server B issues a ticket for a service URL of tenant A ...
    _, service, _ = a.obtain_ticket_url("alice")
    answer = b.cas.login(b.session, service, "alice", "alice-password")
    assert answer.status_code == 302
    ticket_url = answer.headers["Location"]
    assert "ticket=" in ticket_url

    # ... and tenant A validates it at server A, which never issued it.
    landing = a.get(ticket_url)

    assert landing.status_code == 403
    assert not a.is_signed_in()
    assert not SessionTicket.objects.exists()


def test_single_logout_from_one_server_ends_only_its_sessions(browser_at: Any) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")
    a.sign_in("alice")
    b_ticket = b.sign_in("bob").ticket

    # Server A signs alice out and POSTs its logout request to tenant A.
    a.session.get(a.cas.url + "logout", cookies=a.cas_cookies(), allow_redirects=False, timeout=15)

    assert not a.is_signed_in()
    assert b.is_signed_in()
    assert list(SessionTicket.objects.values_list("ticket", flat=True)) == [b_ticket]


def test_a_logout_request_arriving_for_tenant_a_cannot_end_a_session_of_server_b(
    browser_at: Any,
) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")
    b_ticket = b.sign_in("bob").ticket

    refused = a.session.post(
        a.live + "/accounts/login/", data={"logoutRequest": logout_request(b_ticket)}, timeout=15
    )
    assert refused.status_code == 200  # the same answer whatever was ended
    assert b.is_signed_in()

    b.session.get(b.cas.url + "logout", cookies=b.cas_cookies(), allow_redirects=False, timeout=15)
    assert not b.is_signed_in()


def test_logout_goes_to_the_tenants_server(browser_at: Any) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")
    a.sign_in("alice")
    b.sign_in("bob")

    a_logout = a.get("/accounts/logout/")
    b_logout = b.get("/accounts/logout/")

    assert a_logout.headers["Location"].startswith(a.cas.url + "logout?")
    assert b_logout.headers["Location"].startswith(b.cas.url + "logout?")
    # Following it ends the SSO session at that server only.
    b.session.get(b_logout.headers["Location"], timeout=15)
    assert not b.has_cas_sso_session()
    assert not a.is_signed_in() and not b.is_signed_in()


def user_id_of(browser: Browser) -> str:
    """The user our app's session of ``browser`` is signed in as."""
    return str(SessionStore(session_key=browser.session_key)["_auth_user_id"])


def test_server_bs_alice_is_not_server_as_alice(browser_at: Any) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")
    a.sign_in("alice")
    b.sign_in("alice")

    assert a.is_signed_in() and b.is_signed_in()
    assert user_id_of(a) != user_id_of(b)
    assert a.get("/").text == "home alice"
    assert b.get("/").text.startswith("home alice@127.0.0.1:")


def test_a_session_signed_in_at_server_b_is_not_signed_in_on_host_a(browser_at: Any) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")
    b.sign_in("alice")
    # The same session cookie, presented to tenant A's host.
    a.session.cookies.set("sessionid", b.session_key, domain="127.0.0.1")

    assert not a.is_signed_in()
    assert a.get("/").text == "home "
    assert b.is_signed_in()


def test_a_ticket_validated_by_server_b_is_not_server_as_user(browser_at: Any) -> None:
    a, b = browser_at("127.0.0.1"), browser_at("localhost")
    a.sign_in("alice")
    api = b.live + "/api/whoami/"
    answer = b.cas.login(b.session, api, "alice", "alice-password")
    ticket = query_of(answer.headers["Location"])["ticket"][0]

    called = b.get(api, headers={"Authorization": f"CAS {ticket}"})

    assert called.status_code == 200, called.text
    assert called.text != user_id_of(a)
