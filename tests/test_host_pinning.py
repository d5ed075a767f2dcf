"""Service URLs are built only from a pinned host (issue 10.2): a ticket the CAS server issued
to another service cannot be replayed here with that service's Host header."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from django_cas_ng._internal.presented import proxy_ticket_required
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VALIDATE = CAS + "p3/serviceValidate"
VICTIM_SERVICE_HOST = "wiki.example.org"


def service_of(response) -> str:
    return parse_qs(urlsplit(response.url).query)["service"][0]


@pytest.fixture
def any_host(settings) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False


def test_a_ticket_replayed_with_another_services_host_signs_no_one_in(
    client: Client, any_host: None, cas_http, caplog: pytest.LogCaptureFixture
) -> None:
    cas_http.get(VALIDATE, body=success_xml("victim"))

    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        response = client.get(LOGIN + "?ticket=ST-1-stolen", HTTP_HOST=VICTIM_SERVICE_HOST)

    assert response.status_code == 503
    assert "_auth_user_id" not in client.session
    assert len(cas_http.calls) == 0


def test_the_refusal_is_the_unavailable_page_and_a_log_line_naming_the_settings(
    client: Client, any_host: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        response = client.get(LOGIN, HTTP_HOST=VICTIM_SERVICE_HOST)

    assert response.status_code == 503
    assert b"not set up correctly" in response.content
    assert "CAS_SERVICE_HOSTS" in caplog.text
    assert "CAS_ROOT_PROXIED_AS" in caplog.text
    assert VICTIM_SERVICE_HOST in caplog.text


def test_a_dot_domain_allowed_hosts_is_not_a_pin(client: Client, settings) -> None:
    settings.ALLOWED_HOSTS = [".example.org"]
    assert client.get(LOGIN, HTTP_HOST=VICTIM_SERVICE_HOST).status_code == 503


def test_exact_allowed_hosts_pin_the_host(client: Client, settings) -> None:
    settings.ALLOWED_HOSTS = ["www.example.org"]
    response = client.get(LOGIN, HTTP_HOST="www.example.org")
    assert service_of(response) == "http://www.example.org/accounts/login/?next=%2F"


def test_root_proxied_as_pins_the_origin_whatever_the_host(
    client: Client, any_host: None, settings
) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    response = client.get(LOGIN, HTTP_HOST=VICTIM_SERVICE_HOST)
    assert service_of(response) == "https://www.example.org/accounts/login/?next=%2F"


def test_service_hosts_admit_a_listed_host(client: Client, any_host: None, settings) -> None:
    settings.CAS_SERVICE_HOSTS = ["www.example.org", "intranet.example.org:8443"]
    response = client.get(LOGIN, HTTP_HOST="intranet.example.org:8443")
    assert service_of(response).startswith("http://intranet.example.org:8443/accounts/login/")


def test_service_hosts_refuse_an_unlisted_host(client: Client, any_host: None, settings) -> None:
    settings.CAS_SERVICE_HOSTS = ["www.example.org"]
    assert client.get(LOGIN, HTTP_HOST=VICTIM_SERVICE_HOST).status_code == 503


def test_service_hosts_narrow_exact_allowed_hosts(client: Client, settings) -> None:
    settings.ALLOWED_HOSTS = ["www.example.org", "old.example.org"]
    settings.CAS_SERVICE_HOSTS = ["www.example.org"]
    assert client.get(LOGIN, HTTP_HOST="old.example.org").status_code == 503


def test_a_service_hosts_origin_fixes_the_scheme(client: Client, any_host: None, settings) -> None:
    settings.CAS_SERVICE_HOSTS = ["https://www.example.org"]
    response = client.get(LOGIN, HTTP_HOST="WWW.example.org")
    assert service_of(response).startswith("https://www.example.org/accounts/login/")


@pytest.mark.parametrize(
    "host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "app.localhost"]
)
def test_debug_accepts_loopback_hosts_without_a_pin(client: Client, settings, host: str) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = True
    response = client.get(LOGIN, HTTP_HOST=host)
    assert service_of(response).startswith(f"http://{host}/accounts/login/")


def test_debug_still_refuses_other_hosts_without_a_pin(client: Client, settings) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = True
    assert client.get(LOGIN, HTTP_HOST=VICTIM_SERVICE_HOST).status_code == 503


def test_a_post_to_login_is_refused_too(client: Client, any_host: None) -> None:
    assert client.post(LOGIN, HTTP_HOST=VICTIM_SERVICE_HOST).status_code == 503


def test_logout_return_url_is_refused_too(client: Client, any_host: None) -> None:
    assert client.get("/accounts/logout/", HTTP_HOST=VICTIM_SERVICE_HOST).status_code == 503


def test_stepup_is_refused_too(client: Client, any_host: None, django_user_model) -> None:
    user = django_user_model.objects.create_user("alice")
    client.force_login(user)
    response = client.get("/accounts/stepup/?next=/private/", HTTP_HOST=VICTIM_SERVICE_HOST)
    assert response.status_code == 503


def test_a_presented_proxy_ticket_is_not_validated_for_an_unpinned_host(
    rf, any_host: None, cas_http
) -> None:
    view = proxy_ticket_required(lambda request: None)
    request = rf.get("/api/x/", HTTP_AUTHORIZATION="CAS PT-1-abc", HTTP_HOST=VICTIM_SERVICE_HOST)

    response = view(request)

    assert response.status_code == 503
    assert len(cas_http.calls) == 0


def test_the_doctor_reports_an_unpinned_site_url_as_an_error(any_host: None) -> None:
    from django_cas_ng import doctor
    from tests.test_doctor import only

    result = only(doctor.check_service_url, "https://wiki.example.org")

    assert result.status is doctor.Status.ERROR
    assert "CAS_SERVICE_HOSTS" in result.message


@pytest.fixture
def exact_hosts(settings) -> None:
    settings.ALLOWED_HOSTS = ["app.example.org"]
    settings.DEBUG = False


def test_a_ticket_replayed_with_the_pinned_name_on_another_port_signs_no_one_in(
    client: Client, exact_hosts: None, cas_http
) -> None:
    cas_http.get(VALIDATE, body=success_xml("victim"))

    response = client.get(LOGIN + "?ticket=ST-1-stolen", HTTP_HOST="app.example.org:8443")

    assert response.status_code == 503
    assert "_auth_user_id" not in client.session
    assert len(cas_http.calls) == 0


def test_a_proxy_ticket_presented_with_the_pinned_name_on_another_port_is_not_validated(
    rf, exact_hosts: None, cas_http
) -> None:
    view = proxy_ticket_required(lambda request: None)
    request = rf.get("/api/x/", HTTP_AUTHORIZATION="CAS PT-1-abc", HTTP_HOST="app.example.org:8443")

    assert view(request).status_code == 503
    assert len(cas_http.calls) == 0


def test_a_service_hosts_entry_with_the_port_admits_that_port(
    client: Client, exact_hosts: None, settings
) -> None:
    settings.CAS_SERVICE_HOSTS = ["app.example.org:8443"]
    response = client.get(LOGIN, HTTP_HOST="app.example.org:8443")
    assert service_of(response).startswith("http://app.example.org:8443/accounts/login/")


def test_an_unpinned_host_is_named_as_the_sites_own_error_not_an_unavailable_cas(
    client: Client, any_host: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        response = client.get(LOGIN, HTTP_HOST=VICTIM_SERVICE_HOST)

    assert response.status_code == 503
    assert b"did not answer" not in response.content
    assert b"not set up to sign you in at the address you used" in response.content
    assert "CAS server unavailable" not in caplog.text
    assert caplog.text.count("not the CAS server") == 1
