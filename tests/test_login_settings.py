"""Login and logout behaviour under the settings that change where browsers go."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.test import Client

from django_cas_ng.views import LoginView
from tests.cas_answers import failure_xml, front_channel, logout_request, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VALIDATE = CAS + "p3/serviceValidate"


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def service_of(response) -> str:
    return query(response.url)["service"][0]


class TestGateway:
    @pytest.fixture(autouse=True)
    def _gateway(self, settings) -> None:
        settings.CAS_GATEWAY = True

    def test_first_visit_asks_cas_with_gateway(self, client: Client) -> None:
        response = client.get(LOGIN + "?next=/private/")
        assert query(response.url)["gateway"] == ["true"]

    def test_coming_back_without_ticket_lands_anonymously_on_next(self, client: Client) -> None:
        client.get(LOGIN + "?next=/private/")
        response = client.get(LOGIN + "?next=/private/")
        assert response.url == "/private/"

    def test_a_second_explicit_sign_in_shows_the_cas_form(self, client: Client) -> None:
        client.get(LOGIN + "?next=/private/")
        client.get(LOGIN + "?next=/private/")
        response = client.get(LOGIN + "?next=/private/")
        assert response.url.startswith(CAS + "login?")
        assert "gateway" not in query(response.url)

    def test_gateway_keeps_stored_next(self, client: Client, settings) -> None:
        settings.CAS_STORE_NEXT = True
        client.get(LOGIN + "?next=/private/")
        assert client.get(LOGIN).url == "/private/"

    def test_gateway_with_a_ticket_signs_in(self, client: Client, cas_http) -> None:
        cas_http.get(VALIDATE, body=success_xml())
        client.get(LOGIN + "?next=/private/")
        assert client.get(LOGIN + "?next=/private/&ticket=ST-1").url == "/private/"
        assert "_cas_gateway" not in client.session

    def test_the_gateway_attempt_is_marked_in_the_service_url(self, client: Client) -> None:
        service = service_of(client.get(LOGIN + "?next=/private/"))
        assert query(service) == {"next": ["/private/"], "gatewayed": ["1"]}

    def test_a_client_without_cookies_lands_on_next_at_its_first_return(self) -> None:
        """A crawler keeps no cookies: the mark in the service URL ends the gateway loop."""
        service = service_of(Client().get(LOGIN + "?next=/private/"))
        sessions = Session.objects.count()
        response = Client().get(service)
        assert (response.status_code, response.url) == (302, "/private/")
        assert Session.objects.count() == sessions

    def test_the_mark_stays_out_of_the_landing_page_with_store_next(
        self, client: Client, settings
    ) -> None:
        settings.CAS_STORE_NEXT = True
        service = service_of(client.get(LOGIN + "?next=/private/"))
        assert service == "http://testserver/accounts/login/?gatewayed=1"
        assert client.get(service).url == "/private/"

    def test_a_ticket_after_a_gateway_attempt_is_validated_for_the_marked_service(
        self, client: Client, cas_http
    ) -> None:
        cas_http.get(VALIDATE, body=success_xml())
        service = service_of(client.get(LOGIN + "?next=/private/"))
        response = client.get(service + "&ticket=ST-1")
        assert response.url == "/private/"
        assert query(cas_http.calls[0].request.url)["service"] == [service]


class TestStoreNext:
    def test_service_url_carries_no_next(self, client: Client, settings) -> None:
        settings.CAS_STORE_NEXT = True
        assert (
            service_of(client.get(LOGIN + "?next=/private/")) == "http://testserver/accounts/login/"
        )

    def test_stored_next_is_the_landing_after_login(
        self, client: Client, settings, cas_http
    ) -> None:
        settings.CAS_STORE_NEXT = True
        cas_http.get(VALIDATE, body=success_xml())
        client.get(LOGIN + "?next=/private/")
        assert client.get(LOGIN + "?ticket=ST-1").url == "/private/"


def test_login_next_page_overrides_next(client: Client, settings, cas_http) -> None:
    settings.CAS_LOGIN_NEXT_PAGE = "/staff/"
    cas_http.get(VALIDATE, body=success_xml())
    assert client.get(LOGIN + "?next=/private/&ticket=ST-1").url == "/staff/"


def test_retry_login_goes_back_to_cas_once_then_refuses(client: Client, settings, cas_http) -> None:
    settings.CAS_RETRY_LOGIN = True
    cas_http.get(VALIDATE, body=failure_xml())
    assert client.get(LOGIN + "?ticket=ST-1").url.startswith(CAS + "login?")
    assert client.get(LOGIN + "?ticket=ST-2").status_code == 403


def test_required_parameter_retries_once(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    assert client.get(LOGIN + "?ticket=ST-1&required=1").status_code == 302
    assert client.get(LOGIN + "?ticket=ST-2&required=1").status_code == 403


def test_force_ssl_service_url(client: Client, settings) -> None:
    settings.CAS_FORCE_SSL_SERVICE_URL = True
    assert service_of(client.get(LOGIN)).startswith("https://testserver/accounts/login/")


def test_root_proxied_as_gives_the_public_service_url(client: Client, settings) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    assert service_of(client.get(LOGIN)) == "https://www.example.org/accounts/login/?next=%2F"


def test_root_proxied_as_anchors_a_path_server_url(client: Client, settings) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    settings.CAS_SERVER_URL = "/cas/"
    response = client.get(LOGIN, HTTP_HOST="localhost")
    assert response.url.startswith("https://www.example.org/cas/login?")


def test_secure_proxy_header_makes_the_service_url_https(client: Client, settings) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get(LOGIN, HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="testserver")
    assert service_of(response).startswith("https://testserver/")


def test_forwarded_proto_is_ignored_unless_django_trusts_it(client: Client) -> None:
    response = client.get(LOGIN, HTTP_X_FORWARDED_PROTO="https")
    assert service_of(response).startswith("http://testserver/")


@pytest.mark.parametrize("next_page", ["@evil.example/", ".evil.example/", ":x@evil.example/"])
def test_logout_return_url_behind_proxy_stays_on_the_site(
    client: Client, settings, next_page
) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    response = client.get("/accounts/logout/", {"next": next_page})
    returned = query(response.url)["service"][0]
    assert urlsplit(returned).hostname == "www.example.org"


def test_posted_next_is_honoured(client: Client) -> None:
    response = client.post(LOGIN, {"next": "/private/"})
    assert query(service_of(response))["next"] == ["/private/"]


@pytest.mark.parametrize("ticket", ["ST-<&>", "ST 1", "x" * 1025, "ST-1\n"])
def test_malformed_ticket_is_refused_without_asking_cas(client: Client, cas_http, ticket) -> None:
    response = client.get(LOGIN, {"ticket": ticket})
    assert response.status_code == 403
    assert not cas_http.calls


def test_refused_login_raises_permission_denied_for_direct_callers(rf, cas_http) -> None:
    """5.1 users' tests call ``LoginView().get(request)`` and expect PermissionDenied."""
    cas_http.get(VALIDATE, body=failure_xml())
    request = rf.get(LOGIN, {"ticket": "ST-1"})
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    with pytest.raises(PermissionDenied):
        LoginView().get(request)


def test_front_channel_is_off_when_slo_senders_are_restricted(client: Client, settings) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    response = client.get(LOGIN, {"logoutRequest": front_channel(logout_request("ST-1"))})
    assert response.status_code == 302
    assert response.url.startswith(CAS + "login?")


def test_front_channel_can_be_enabled_explicitly(client: Client, settings) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.CAS_SLO_FRONT_CHANNEL = True
    response = client.get(LOGIN, {"logoutRequest": front_channel(logout_request("ST-1"))})
    assert response.status_code == 200


def test_redirect_url_on_the_sites_own_host_lands_on_its_path(
    client: Client, settings, cas_http
) -> None:
    """As in 5.1, an absolute ``CAS_REDIRECT_URL`` on this host is used as a path."""
    settings.CAS_REDIRECT_URL = "http://testserver/landing/"
    cas_http.get(VALIDATE, body=success_xml())
    assert client.get(LOGIN + "?ticket=ST-1").url == "/landing/"


def test_stored_next_is_none_after_the_login_that_used_it(
    client: Client, settings, cas_http
) -> None:
    """As in 5.1, ``session['CASNEXT']`` stays readable (``None``) once used up."""
    settings.CAS_STORE_NEXT = True
    cas_http.get(VALIDATE, body=success_xml())
    client.get(LOGIN + "?next=/private/")
    client.get(LOGIN + "?ticket=ST-1")
    assert "CASNEXT" in client.session
    assert client.session["CASNEXT"] is None
