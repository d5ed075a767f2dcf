"""``manage.py cas_doctor``: the deployment doctor's checks and its report."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import responses
from django.core.management import CommandError, call_command

from django_cas_ng import doctor
from django_cas_ng.doctor import Status
from tests.conftest import CAS, failure_xml
from tests.ports import closed_port

# The doctor reads the migration state from the database.
pytestmark = pytest.mark.django_db

HTML_404 = "<!DOCTYPE html><html><body>Not Found</body></html>"


def run_doctor(**options: Any) -> tuple[int, str]:
    """Run the command; return (exit code, printed report)."""
    out = StringIO()
    try:
        call_command("cas_doctor", stdout=out, **options)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def results(check: Any, site_url: str | None = None) -> list[doctor.Result]:
    return list(check(doctor.Context(site_url=site_url)))


def only(check: Any, site_url: str | None = None) -> doctor.Result:
    [result] = results(check, site_url)
    return result


def healthy_cas(mock: responses.RequestsMock, validate_path: str = "p3/serviceValidate") -> None:
    mock.add(responses.HEAD, CAS + "login", status=200)
    mock.add(responses.GET, CAS + validate_path, body=failure_xml(), content_type="text/xml")


# --- Unit tests: CAS answers faked with responses ------------------------------------------


def test_a_cas3_setting_against_a_server_without_the_p3_path_is_an_error(
    cas_http: responses.RequestsMock,
) -> None:
    cas_http.add(responses.HEAD, CAS + "login", status=200)
    cas_http.add(
        responses.GET,
        CAS + "p3/serviceValidate",
        status=404,
        body=HTML_404,
        content_type="text/html",
    )

    result = only(doctor.check_validation)

    assert result.status is Status.ERROR
    assert "HTTP 404 (text/html)" in result.message
    assert "CAS_VERSION (3)" in result.hint


@pytest.mark.parametrize(
    ("version", "path", "body"),
    [
        ("1", "validate", "no\n\n"),
        ("2", "serviceValidate", failure_xml("INVALID_SERVICE")),
        ("3", "p3/serviceValidate", failure_xml()),
    ],
)
def test_a_well_formed_failure_for_the_made_up_ticket_is_ok(
    cas_http: responses.RequestsMock, settings: Any, version: str, path: str, body: str
) -> None:
    settings.CAS_VERSION = version
    cas_http.add(responses.HEAD, CAS + "login", status=200)
    cas_http.add(responses.GET, CAS + path, body=body)

    assert only(doctor.check_validation).status is Status.OK


def test_an_xml_answer_that_is_not_cas_is_an_error(cas_http: responses.RequestsMock) -> None:
    cas_http.add(responses.HEAD, CAS + "login", status=200)
    cas_http.add(responses.GET, CAS + "p3/serviceValidate", body="<html><p>hello</p></html>")

    assert only(doctor.check_validation).status is Status.ERROR


def test_the_made_up_ticket_never_reaches_the_report(cas_http: responses.RequestsMock) -> None:
    healthy_cas(cas_http)

    code, report = run_doctor(site_url="https://localhost")

    sent = [call.request.url for call in cas_http.calls if "ticket=" in (call.request.url or "")]
    assert sent and "ST-doctor-" in sent[0]
    assert "ST-doctor-" not in report
    assert code == 0


def test_the_service_url_comes_from_site_url(cas_http: responses.RequestsMock) -> None:
    result = only(doctor.check_service_url, "https://localhost")

    assert result.status is Status.OK
    assert result.message.startswith("https://localhost/accounts/login/?next=%2F")


@pytest.mark.parametrize("site_url", ["127.0.0.1:8000", "www.example.org", "ftp://example.org"])
def test_a_site_url_that_is_no_http_url_is_refused_naming_the_form(site_url: str) -> None:
    with pytest.raises(CommandError, match=r"--site-url.*https://"):
        call_command("cas_doctor", stdout=StringIO(), site_url=site_url)


def test_the_service_url_comes_from_cas_root_proxied_as(settings: Any) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://public.example.org"

    assert "https://public.example.org/accounts/login/" in only(doctor.check_service_url).message


def test_without_a_host_the_service_url_is_unknown_with_a_hint() -> None:
    result = only(doctor.check_service_url)

    assert result.status is Status.INFO
    assert "--site-url" in result.hint


def test_a_site_url_outside_allowed_hosts_is_an_error() -> None:
    result = only(doctor.check_service_url, "https://elsewhere.example.net")

    assert result.status is Status.ERROR
    assert "ALLOWED_HOSTS" in result.hint


def test_an_http_service_url_is_a_warning() -> None:
    assert only(doctor.check_service_url, "http://localhost:8000").status is Status.WARNING


# The settings alone are the system checks' to judge; the doctor reports what they say.


@pytest.mark.parametrize(
    ("engine", "status"),
    [
        ("django.contrib.sessions.backends.db", Status.OK),
        ("django.contrib.sessions.backends.cached_db", Status.OK),
        ("django.contrib.sessions.backends.cache", Status.OK),
        ("django.contrib.sessions.backends.file", Status.OK),
        ("django.contrib.sessions.backends.signed_cookies", Status.WARNING),
        ("somewhere.custom_sessions", Status.OK),
    ],
)
def test_the_session_engine_decides_whether_single_logout_can_work(
    settings: Any, engine: str, status: Status
) -> None:
    settings.SESSION_ENGINE = engine
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}

    assert only(doctor.check_system).status is status


@pytest.mark.parametrize(
    "engine",
    ["django.contrib.sessions.backends.cache", "django.contrib.sessions.backends.cached_db"],
)
def test_sessions_cached_in_a_per_process_cache_are_a_warning(settings: Any, engine: str) -> None:
    """LocMemCache is per process: a logout request reaching one worker misses the others."""
    settings.SESSION_ENGINE = engine
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    result = only(doctor.check_system)

    assert result.status is Status.WARNING
    assert "LocMemCache" in result.message and "django_cas_ng.W006" in result.message


def test_no_proxy_callback_is_fine() -> None:
    assert only(doctor.check_proxy_callback).status is Status.INFO


def test_an_http_proxy_callback_is_an_error(settings: Any) -> None:
    settings.CAS_PROXY_CALLBACK = "http://app.example.org/accounts/callback/"

    result = only(doctor.check_system)

    assert result.status is Status.ERROR and "not an absolute https URL" in result.message
    assert results(doctor.check_proxy_callback) == []


def test_a_reachable_proxy_callback_is_ok(settings: Any, cas_http: responses.RequestsMock) -> None:
    settings.CAS_PROXY_CALLBACK = "https://app.example.org/accounts/callback/"
    cas_http.add(responses.GET, settings.CAS_PROXY_CALLBACK, status=200)

    assert only(doctor.check_proxy_callback).status is Status.OK


def test_an_unreachable_proxy_callback_is_an_error(
    settings: Any, cas_http: responses.RequestsMock
) -> None:
    settings.CAS_PROXY_CALLBACK = "https://app.example.org/accounts/callback/"
    cas_http.add(responses.GET, settings.CAS_PROXY_CALLBACK, status=404)

    assert only(doctor.check_proxy_callback).status is Status.ERROR


def test_system_check_errors_are_reported_and_fail_the_run(
    settings: Any, cas_http: responses.RequestsMock
) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "sideways"
    healthy_cas(cas_http)

    code, report = run_doctor()

    assert code == 1
    assert "[ERROR  ] System checks: django_cas_ng.E" in report


def test_a_slow_server_is_a_warning(settings: Any, cas_http: responses.RequestsMock) -> None:
    settings.CAS_TIMEOUT = (1.0, 0.0001)
    healthy_cas(cas_http)

    assert results(doctor.check_server)[0].status is Status.WARNING


# --- Against real servers: the CAS server of tests.casserver, a closed port, bad TLS -------


@pytest.fixture(scope="module")
def cas_server() -> Iterator[Any]:
    from tests.casserver import CASServer

    with CASServer(users={"alice": "alice-password"}) as server:
        yield server


@pytest.mark.integration
@pytest.mark.parametrize("version", ["1", "2", "3", "CAS_2_SAML_1_0"])
def test_a_healthy_setup_reports_no_error_and_exits_0(
    cas_server: Any, settings: Any, version: str
) -> None:
    settings.CAS_SERVER_URL = cas_server.url
    settings.CAS_VERSION = version
    if version != "3":
        settings.ROOT_URLCONF = "tests.urls_without_stepup"  # step-up needs CAS 3 (E101)

    code, report = run_doctor(site_url="http://localhost:8000")

    assert code == 0, report
    assert "[ok     ] CAS server: " + cas_server.url + "login answered HTTP 200" in report
    assert "[ok     ] Validation: " in report
    assert "0 error(s)" in report


@pytest.mark.integration
def test_a_wrong_path_prefix_is_an_error(cas_server: Any, settings: Any) -> None:
    settings.CAS_SERVER_URL = cas_server.url.replace("/cas/", "/")

    code, report = run_doctor()

    assert code == 1
    assert "[WARNING] CAS server: " in report and "answered HTTP 404" in report
    assert "[ERROR  ] Validation: " in report


def test_a_closed_port_is_an_error(settings: Any) -> None:
    settings.CAS_SERVER_URL = f"http://127.0.0.1:{closed_port()}/cas/"

    code, report = run_doctor()

    assert code == 1
    assert "cannot reach CAS server" in report
    assert "Validation: Skipped" in report


def test_credentials_in_the_server_url_never_reach_the_report(settings: Any) -> None:
    settings.CAS_SERVER_URL = f"http://app:s3cret@127.0.0.1:{closed_port()}/cas/"

    code, report = run_doctor()

    assert code == 1
    assert "cannot reach CAS server" in report and "127.0.0.1" in report
    assert "s3cret" not in report


def test_credentials_in_the_server_url_never_reach_the_validation_result(
    settings: Any, cas_http: responses.RequestsMock
) -> None:
    settings.CAS_SERVER_URL = server = CAS.replace("://", "://app:s3cret@")
    cas_http.add(responses.HEAD, server + "login", status=200)
    cas_http.add(responses.GET, server + "p3/serviceValidate", body=failure_xml())

    _, report = run_doctor()

    assert "Validation: " in report and "s3cret" not in report


class _FakeCAS(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = failure_xml().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def tls_cas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """An https CAS stand-in; yields (its URL, the CA that signed it, an unrelated CA)."""
    from tests.integration.proxy_tls import make_tls

    directory = tmp_path_factory.mktemp("doctor-tls")
    served, other = make_tls(directory, "served"), make_tls(directory, "other")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeCAS)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(served.cert, served.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/cas/", served.ca, other.ca
    server.shutdown()
    server.server_close()


def test_a_certificate_the_ca_bundle_trusts_verifies(tls_cas: Any, settings: Any) -> None:
    url, trusted, _ = tls_cas
    settings.CAS_SERVER_URL, settings.CAS_CA_BUNDLE = url, str(trusted)

    code, report = run_doctor()

    assert code == 0, report
    assert f"[ok     ] TLS: Certificate verified with {trusted}" in report
    assert "[ok     ] Validation: " in report


def test_a_certificate_the_ca_bundle_does_not_trust_is_an_error(
    tls_cas: Any, settings: Any
) -> None:
    url, _, untrusted = tls_cas
    settings.CAS_SERVER_URL, settings.CAS_CA_BUNDLE = url, str(untrusted)

    code, report = run_doctor()

    assert code == 1
    assert (
        f"[ERROR  ] TLS: TLS handshake with {url[8:-5]} failed, verifying with {untrusted}"
        in report
    )
    assert "hint: Point CAS_CA_BUNDLE" in report


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_turning_verification_off_is_a_warning(tls_cas: Any, settings: Any) -> None:
    url, _, untrusted = tls_cas
    settings.CAS_SERVER_URL, settings.CAS_CA_BUNDLE = url, str(untrusted)
    settings.CAS_VERIFY_SSL_CERTIFICATE = False

    assert only(doctor.check_system).status is Status.WARNING
    assert results(doctor.check_tls) == []


def test_a_callable_server_url_without_a_site_url_is_reported_not_a_crash(settings: Any) -> None:
    settings.CAS_SERVER_URL = lambda request: "https://cas.example.com/cas/"

    result = only(doctor.check_server)

    assert result.status is Status.ERROR
    assert "CAS_SERVER_URL" in result.message


def test_a_wildcard_allowed_hosts_with_a_reachable_server_is_reported_not_a_crash(
    cas_http: responses.RequestsMock, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    healthy_cas(cas_http)

    code, report = run_doctor(site_url="https://wiki.example.org")

    assert code == 1
    assert "[ERROR  ] Service URL: " in report
    assert "CAS_SERVICE_HOSTS" in report


class _PlainHTTPCAS(ThreadingHTTPServer):
    """A CAS stand-in that speaks plain http on its port."""


def test_an_https_server_url_on_a_plain_http_server_blames_the_scheme(settings: Any) -> None:
    server = _PlainHTTPCAS(("127.0.0.1", 0), _FakeCAS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.CAS_SERVER_URL = f"https://127.0.0.1:{server.server_address[1]}/cas/"
        result = only(doctor.check_tls)
    finally:
        server.shutdown()
        server.server_close()

    assert result.status is Status.ERROR
    assert "plain http" in result.message
    assert "CAS_CA_BUNDLE" not in result.hint
    assert "http://127.0.0.1" in result.hint


class _RecordingCAS(_FakeCAS):
    seen: list[str] = []

    def do_HEAD(self) -> None:
        self.seen.append(f"{self.requestline}\n{self.headers}")
        super().do_HEAD()


def test_credentials_in_the_server_url_never_travel_in_the_plain_http_probe(
    settings: Any,
) -> None:
    server = _PlainHTTPCAS(("127.0.0.1", 0), _RecordingCAS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        settings.CAS_SERVER_URL = f"https://app:s3cret@127.0.0.1:{port}/cas/"
        result = only(doctor.check_tls)
    finally:
        server.shutdown()
        server.server_close()

    assert "plain http" in result.message
    assert _RecordingCAS.seen and not any("s3cret" in seen for seen in _RecordingCAS.seen)
    assert "s3cret" not in result.message + result.hint


def test_an_unapplied_migration_of_this_app_is_reported_naming_migrate() -> None:
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    MigrationRecorder(connection).record_unapplied("django_cas_ng", "0006_sessionticket_server_url")

    result = only(doctor.check_migrations)

    assert result.status is Status.ERROR
    assert "0006_sessionticket_server_url" in result.message
    assert "migrate" in result.hint


def test_applied_migrations_are_ok() -> None:
    assert only(doctor.check_migrations).status is Status.OK
