"""Several CAS servers per site: a callable CAS_SERVER_URL, the per-request configuration
(CAS_CONFIG_RESOLVER), the server remembered with each session, and server-scoped SLO."""

from __future__ import annotations

import logging
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from django_cas_ng._internal import tenancy
from django_cas_ng._internal.sessions import get_user_from_session
from django_cas_ng._internal.urls import get_server_url, get_service_url
from django_cas_ng.checks import check_settings
from django_cas_ng.client import get_cas_client, get_proxy_validate_client
from django_cas_ng.conf import cas_settings
from django_cas_ng.exceptions import TenantConfigurationError
from django_cas_ng.models import ProxyGrantingTicket, SessionTicket
from tests import tenants
from tests.cas_answers import failure_xml, logout_request, proxy_success, success_xml
from tests.tenants import CAS_A, CAS_B

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.fixture
def two_servers(settings):
    """Hosts a.example and b.example, each signing in at its own CAS server (CAS 3)."""
    settings.ALLOWED_HOSTS = ["a.example", "b.example", "c.example", "testserver"]
    settings.CAS_SERVER_URL = tenants.server_for_host
    return settings


@pytest.fixture
def with_resolver(settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example", "testserver"]
    settings.CAS_CONFIG_RESOLVER = "tests.tenants.resolver"
    tenants.calls.clear()
    return settings


def sign_in(client: Client, host: str, cas_http: responses.RequestsMock, ticket: str) -> None:
    server = tenants.SERVERS[host]
    cas_http.get(server + "p3/serviceValidate", body=success_xml("alice"))
    response = client.get(f"{LOGIN}?ticket={ticket}", HTTP_HOST=host)
    assert response.status_code == 302, response.content


def request_at(host: str, path: str = LOGIN):
    return RequestFactory().get(path, HTTP_HOST=host)


# Choosing the server


def test_callable_server_url_sends_each_host_to_its_own_server(two_servers, client) -> None:
    to_a = client.get(LOGIN, HTTP_HOST="a.example")
    to_b = client.get(LOGIN, HTTP_HOST="b.example")
    assert to_a.url.startswith(CAS_A + "login?")
    assert to_b.url.startswith(CAS_B + "login?")
    assert query(to_b.url)["service"] == ["http://b.example/accounts/login/?next=%2F"]


def test_validation_goes_to_the_server_of_the_requests_host(two_servers, client, cas_http) -> None:
    sign_in(client, "b.example", cas_http, "ST-1-b")
    assert cas_http.calls[0].request.url.startswith(CAS_B + "p3/serviceValidate?")


def test_a_ticket_of_server_b_is_refused_on_host_a(two_servers, client, cas_http) -> None:
    # Server B issued ST-1-b; host A asks its own server, which knows no such ticket.
    cas_http.get(CAS_A + "p3/serviceValidate", body=failure_xml())
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("alice"))
    response = client.get(f"{LOGIN}?ticket=ST-1-b", HTTP_HOST="a.example")
    assert response.status_code == 403
    assert [call.request.url.split("?")[0] for call in cas_http.calls] == [
        CAS_A + "p3/serviceValidate"
    ]
    assert "_auth_user_id" not in client.session


def test_every_url_of_a_request_uses_its_server(two_servers) -> None:
    request = request_at("b.example")
    service = get_service_url(request, "/")
    assert get_server_url(request) == CAS_B
    assert get_cas_client(service, request).get_login_url().startswith(CAS_B + "login?")
    assert get_cas_client(service, request).get_logout_url().startswith(CAS_B + "logout")
    assert get_cas_client(service, request).get_proxy_url("PGT-1").startswith(CAS_B + "proxy?")
    validate = get_proxy_validate_client(service, request)
    assert validate.get_login_url().startswith(CAS_B)


def test_a_callable_server_url_without_a_request_is_a_configuration_error(two_servers) -> None:
    with pytest.raises(TenantConfigurationError, match="needs a request"):
        get_server_url(None)


@pytest.mark.parametrize("answer", [None, "", "ftp://cas.example.org/", "//evil.example/cas/", 42])
def test_an_unusable_server_url_gives_503_and_an_operator_log_line(
    settings, client, caplog, answer
) -> None:
    settings.CAS_SERVER_URL = lambda request: answer
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        response = client.get(LOGIN)
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content
    assert "CAS_SERVER_URL for host 'testserver'" in caplog.text


def test_a_server_url_callable_that_raises_gives_503(two_servers, client, caplog) -> None:
    def broken(request):
        raise RuntimeError("tenant table is down")

    two_servers.CAS_SERVER_URL = broken
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        response = client.get(LOGIN, HTTP_HOST="a.example")
    assert response.status_code == 503
    assert "RuntimeError: tenant table is down" in caplog.text


def test_an_unknown_host_gets_503_not_a_500(two_servers, client) -> None:
    assert client.get(LOGIN, HTTP_HOST="c.example").status_code == 503


def test_a_disallowed_host_stays_a_400(two_servers, client) -> None:
    assert client.get(LOGIN, HTTP_HOST="evil.example").status_code == 400


def test_a_relative_server_url_from_the_callable_is_put_on_the_request_host(settings) -> None:
    settings.CAS_SERVER_URL = lambda request: "/cas"
    assert get_server_url(request_at("testserver")) == "http://testserver/cas/"


# The per-request configuration


def test_single_server_sites_use_the_project_settings_object(settings) -> None:
    request = request_at("testserver")
    assert tenancy.request_config(request) is cas_settings
    assert not hasattr(request, tenancy.REQUEST_ATTRIBUTE)


def test_resolver_is_called_once_per_request_and_cached_on_it(with_resolver) -> None:
    request = request_at("b.example")
    get_cas_client("https://b.example/", request).get_login_url()
    get_server_url(request)
    assert tenants.calls == ["b.example"]
    assert request.cas_config.version == "2"


def test_resolver_sets_version_and_renew_per_tenant(with_resolver) -> None:
    client_a = get_cas_client("https://a.example/", request_at("a.example"))
    client_b = get_cas_client("https://b.example/", request_at("b.example"))
    assert (client_a.server_url, client_a.url_suffix, client_a.renew) == (
        CAS_A,
        "p3/serviceValidate",
        False,
    )
    assert (client_b.server_url, client_b.url_suffix, client_b.renew) == (
        CAS_B,
        "serviceValidate",
        True,
    )
    assert "renew=true" in client_b.get_login_url()


def test_resolver_sets_extra_login_params_and_public_origin(settings) -> None:
    settings.CAS_CONFIG_RESOLVER = lambda request: {
        "CAS_EXTRA_LOGIN_PARAMS": {"tenant": "b"},
        "CAS_ROOT_PROXIED_AS": "https://b.example.org",
    }
    request = request_at("testserver")
    service = get_service_url(request, "/")
    assert service == "https://b.example.org/accounts/login/?next=%2F"
    assert query(get_cas_client(service, request).get_login_url())["tenant"] == ["b"]


def test_settings_not_overridden_keep_the_project_value(with_resolver) -> None:
    config = tenancy.request_config(request_at("a.example"))
    assert config.username_attribute == cas_settings.username_attribute
    assert config.proxy_callback is None


def test_resolver_may_not_override_a_project_wide_setting(settings, client, caplog) -> None:
    settings.CAS_CONFIG_RESOLVER = "tests.tenants.resolver_of_global_setting"
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        assert client.get(LOGIN).status_code == 503
    assert "CAS_CREATE_USER, which cannot vary per tenant" in caplog.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"CAS_VERSION": "4"},
        {"CAS_ROOT_PROXIED_AS": "b.example"},
        {"CAS_EXTRA_LOGIN_PARAMS": ["tenant"]},
        ["CAS_VERSION"],
    ],
)
def test_a_resolver_answer_of_the_wrong_shape_gives_503(settings, client, overrides) -> None:
    settings.CAS_CONFIG_RESOLVER = lambda request: overrides
    assert client.get(LOGIN).status_code == 503


TENANT_VALUES_THE_CHECKS_REFUSE = [
    ("CAS_VERSION", True, "E003"),
    ("CAS_PROXY_CALLBACK", "http://b.example/accounts/callback/", "E010"),
    ("CAS_ROOT_PROXIED_AS", "/b/", "E011"),
    ("CAS_SERVER_URL", "//b.example/cas/", "E002"),
]


@pytest.mark.parametrize(("name", "value", "check_id"), TENANT_VALUES_THE_CHECKS_REFUSE)
def test_a_tenant_value_is_refused_by_the_rule_the_system_checks_apply(
    settings, client, name, value, check_id
) -> None:
    settings.CAS_CONFIG_RESOLVER = lambda request: {name: value}
    assert client.get(LOGIN).status_code == 503
    settings.CAS_CONFIG_RESOLVER = None
    setattr(settings, name, value)
    assert f"django_cas_ng.{check_id}" in ids(check_settings())


def test_a_failing_resolver_gives_503(settings, client, caplog) -> None:
    settings.CAS_CONFIG_RESOLVER = "tests.tenants.failing_resolver"
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        assert client.get(LOGIN).status_code == 503
    assert "no tenant configured for this host" in caplog.text


def test_a_resolver_that_cannot_be_imported_gives_503(settings, client) -> None:
    settings.CAS_CONFIG_RESOLVER = "tests.tenants.missing"
    assert client.get(LOGIN).status_code == 503


def test_request_config_can_be_replaced_by_setting_the_request_attribute(settings) -> None:
    settings.CAS_CONFIG_RESOLVER = "tests.tenants.failing_resolver"
    request = request_at("testserver")
    request.cas_config = cas_settings
    assert get_server_url(request) == cas_settings.server_url


# The server remembered with the session


def test_login_remembers_the_server_that_issued_the_ticket(two_servers, client, cas_http) -> None:
    sign_in(client, "b.example", cas_http, "ST-1-b")
    mapping = SessionTicket.objects.get()
    assert (mapping.ticket, mapping.server_url) == ("ST-1-b", CAS_B)


def test_single_server_sites_record_no_server(client, cas_http) -> None:
    cas_http.get(cas_settings.server_url + "p3/serviceValidate", body=success_xml())
    client.get(f"{LOGIN}?ticket=ST-1-abc")
    assert SessionTicket.objects.get().server_url is None


def test_logout_goes_to_the_server_that_issued_the_sessions_ticket(
    two_servers, client, cas_http
) -> None:
    sign_in(client, "b.example", cas_http, "ST-1-b")
    # The tenant has moved to another server since: the session's own server ends it.
    two_servers.CAS_SERVER_URL = lambda request: CAS_A
    response = client.get(LOGOUT, HTTP_HOST="b.example")
    assert response.url.startswith(CAS_B + "logout?")


def test_logout_without_a_recorded_server_goes_to_the_requests_server(two_servers, client) -> None:
    response = client.get(LOGOUT, HTTP_HOST="a.example")
    assert response.url.startswith(CAS_A + "logout?")


def test_a_new_session_key_keeps_the_recorded_server(two_servers, client, cas_http) -> None:
    sign_in(client, "b.example", cas_http, "ST-1-b")
    old_key = client.session.session_key
    store = import_module(django_settings.SESSION_ENGINE).SessionStore(session_key=old_key)
    from django_cas_ng._internal.sessions import follow_session_key

    request = request_at("b.example")
    request.session = store
    store.cycle_key()
    follow_session_key(request)
    mapping = SessionTicket.objects.get()
    assert mapping.session_key == store.session_key != old_key
    assert mapping.server_url == CAS_B


def test_proxy_tickets_are_asked_of_the_sessions_server(two_servers, client, cas_http) -> None:
    two_servers.CAS_PROXY_CALLBACK = "https://b.example/accounts/callback/"
    sign_in(client, "b.example", cas_http, "ST-1-b")
    user = get_user_model().objects.get(username="alice")
    key = client.session.session_key
    ProxyGrantingTicket.objects.create(session_key=key, user=user, pgt="PGT-1-b")
    cas_http.get(CAS_B + "proxy", body=proxy_success("PT-1-b"))
    two_servers.CAS_SERVER_URL = lambda request: CAS_A
    request = request_at("b.example", "/")
    request.session = import_module(django_settings.SESSION_ENGINE).SessionStore(session_key=key)
    request.user = get_user_from_session(request.session)
    assert ProxyGrantingTicket.retrieve_pt(request, "https://api.example.org/") == "PT-1-b"


def test_proxy_callback_can_be_set_per_tenant(settings, client) -> None:
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    settings.CAS_CONFIG_RESOLVER = lambda request: (
        {"CAS_PROXY_CALLBACK": "https://b.example/accounts/callback/"}
        if request.get_host() == "b.example"
        else {}
    )
    pair = {"pgtIou": "PGTIOU-1", "pgtId": "PGT-1"}
    client.get("/accounts/callback/", pair, HTTP_HOST="a.example")
    assert not ProxyGrantingTicket.objects.exists()
    client.get("/accounts/callback/", pair, HTTP_HOST="b.example")
    assert ProxyGrantingTicket.objects.get().pgt == "PGT-1"


# Single Logout scoped to its sender's server


def signed_in_at(client: Client, host: str, cas_http, ticket: str) -> str:
    sign_in(client, host, cas_http, ticket)
    return str(client.session.session_key)


def session_exists(key: str) -> bool:
    return import_module(django_settings.SESSION_ENGINE).SessionStore().exists(key)


def test_single_logout_from_a_server_ends_its_sessions(two_servers, cas_http) -> None:
    key = signed_in_at(Client(), "a.example", cas_http, "ST-1-a")
    response = Client().post(
        LOGIN, {"logoutRequest": logout_request("ST-1-a")}, HTTP_HOST="a.example"
    )
    assert response.status_code == 200
    assert not session_exists(key)


def test_single_logout_arriving_for_another_tenant_ends_nothing(two_servers, cas_http) -> None:
    key_a = signed_in_at(Client(), "a.example", cas_http, "ST-same")
    key_b = signed_in_at(Client(), "b.example", cas_http, "ST-same")
    Client().post(LOGIN, {"logoutRequest": logout_request("ST-same")}, HTTP_HOST="b.example")
    assert session_exists(key_a)
    assert not session_exists(key_b)
    assert SessionTicket.objects.get().server_url == CAS_A


def test_single_logout_still_ends_mappings_recorded_without_a_server(two_servers) -> None:
    from tests.test_slo import signed_in_session

    key = signed_in_session("ST-old")
    Client().post(LOGIN, {"logoutRequest": logout_request("ST-old")}, HTTP_HOST="b.example")
    assert not session_exists(key)


# System checks


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_checks_accept_a_callable_server_url(two_servers) -> None:
    assert not {"django_cas_ng.E001", "django_cas_ng.E002", "django_cas_ng.E009"} & set(
        ids(check_settings())
    )


def test_checks_accept_an_importable_resolver(with_resolver) -> None:
    assert not [
        i for i in ids(check_settings()) if i in ("django_cas_ng.E030", "django_cas_ng.E009")
    ]


@pytest.mark.parametrize("path", ["tests.tenants.missing", "no_such_module.resolver"])
def test_a_resolver_that_cannot_be_imported_is_e030(settings, path) -> None:
    settings.CAS_CONFIG_RESOLVER = path
    assert "django_cas_ng.E030" in ids(check_settings())


def test_a_resolver_that_is_not_callable_is_e030(settings) -> None:
    settings.CAS_CONFIG_RESOLVER = "tests.tenants.NOT_CALLABLE"
    assert "django_cas_ng.E030" in ids(check_settings())


def test_a_resolver_of_the_wrong_type_is_e009(settings) -> None:
    settings.CAS_CONFIG_RESOLVER = 42
    assert "django_cas_ng.E009" in ids(check_settings())


def test_a_tenants_public_origin_is_a_safe_landing_host(settings) -> None:
    from django_cas_ng._internal.urls import allowed_hosts

    settings.CAS_CONFIG_RESOLVER = lambda request: {"CAS_ROOT_PROXIED_AS": "https://b.example.org"}
    assert "b.example.org" in allowed_hosts(request_at("testserver"))
