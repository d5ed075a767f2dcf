"""Deployment checks run from inside a site: can it reach its CAS server and use it correctly?

Each ``check_*`` function returns :class:`Result` objects; ``manage.py cas_doctor`` prints them.
They probe the network; what is wrong in the settings alone is the system checks' to say
(``checks.py``), which the report includes.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core import checks as django_checks
from django.core.exceptions import DisallowedHost
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from ._internal.http import get_http_session
from ._internal.urls import get_server_url, get_service_url
from ._internal.xml import parse_xml
from .client import get_cas_client, validate_ticket
from .conf import CASSettings, cas_settings
from .exceptions import (
    CASConfigurationError,
    CASUnavailable,
    TicketValidationError,
    UnpinnedHost,
)

__all__ = [
    "Result",
    "Status",
    "has_errors",
    "run",
]

#: Service sent with the made-up ticket when the site's own host is unknown.
PLACEHOLDER_SERVICE = "https://django-cas-ng-doctor.invalid/"
SAML_PROTOCOL_NS = "urn:oasis:names:tc:SAML:1.0:protocol"
VERSION_LABELS = {"CAS_2_SAML_1_0": "SAML 1.1"}
VALIDATION_PATHS = {
    "1": "validate",
    "2": "serviceValidate",
    "3": "p3/serviceValidate",
    "CAS_2_SAML_1_0": "samlValidate",
}


class Status(Enum):
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Result:
    """One finding: what was checked, how it went, and what to do about it."""

    check: str
    status: Status
    message: str
    hint: str = ""


@dataclass
class Context:
    """What the checks share: the site's public URL (if known) and the server probe's outcome."""

    site_url: str | None = None
    probe: _Probe | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Probe:
    url: str
    status_code: int | None
    seconds: float
    error: str | None


def _probe_server(context: Context) -> _Probe:
    """Ask for the CAS login page once through the package's transport (timeouts, TLS options)."""
    if context.probe is None:
        url = "(unknown)"
        started = time.monotonic()
        try:
            # A callable CAS_SERVER_URL needs the site's host (--site-url) to name a server.
            url = get_server_url(_site_request(context)) + "login"
            # HEAD: the login page is HTML, which the transport refuses as a CAS answer.
            response = get_http_session().request("HEAD", url)
        except (CASUnavailable, CASConfigurationError) as error:
            context.probe = _Probe(url, None, time.monotonic() - started, str(error))
        else:
            context.probe = _Probe(url, response.status_code, time.monotonic() - started, None)
    return context.probe


def check_server(context: Context) -> Iterator[Result]:
    """The CAS server answers its login page within ``CAS_TIMEOUT``."""
    name = "CAS server"
    if not cas_settings.server_url:
        return  # the system check E001 reports it
    probe = _probe_server(context)
    connect, read = cas_settings.timeout
    limits = f"CAS_TIMEOUT connect {connect:g} s, read {read:g} s"
    if probe.error is not None:
        hint = "Check CAS_SERVER_URL, DNS, firewalls and outgoing proxies from this host."
        yield Result(name, Status.ERROR, f"{_shown(probe.url)}: {probe.error} ({limits}).", hint)
        return
    took = f"in {probe.seconds * 1000:.0f} ms"
    if probe.status_code in (200, 302, 303, 401, 405):
        status = Status.WARNING if probe.seconds > read / 2 else Status.OK
        hint = (
            "Slow answers: users wait this long at every sign-in."
            if status is Status.WARNING
            else ""
        )
        yield Result(
            name,
            status,
            f"{_shown(probe.url)} answered HTTP {probe.status_code} {took} ({limits}).",
            hint,
        )
    else:
        yield Result(
            name,
            Status.WARNING,
            f"{_shown(probe.url)} answered HTTP {probe.status_code} {took}; "
            "a CAS login page answers 200.",
            "CAS_SERVER_URL may miss or have a wrong path prefix (e.g. '/cas/').",
        )


def check_tls(context: Context) -> Iterator[Result]:
    """TLS to the CAS server verifies with ``CAS_CA_BUNDLE`` and ``CAS_CLIENT_CERT``."""
    name = "TLS"
    server_url = cas_settings.server_url
    if not server_url:
        return
    probe = _probe_server(context)
    if urlsplit(probe.url).scheme != "https":
        yield Result(
            name, Status.INFO, f"{_shown(probe.url)} is plain http: no certificate to verify."
        )
        return
    bundle = cas_settings.ca_bundle or "the default CA bundle of requests (certifi)"
    cert = cas_settings.client_cert
    with_cert = (
        f", client certificate {cert[0] if isinstance(cert, tuple) else cert}" if cert else ""
    )
    if not cas_settings.verify_ssl_certificate:
        return  # the system check W001 reports it
    plain_http = _plain_http_result(name, probe)
    if plain_http is not None:
        yield plain_http
    elif probe.error is not None and "SSL" in probe.error:
        yield Result(
            name,
            Status.ERROR,
            f"TLS handshake with {_host(probe.url)} failed, verifying with {bundle}"
            f"{with_cert}: {probe.error}.",
            "Point CAS_CA_BUNDLE at the CA that signed the CAS server's certificate; check "
            "CAS_CLIENT_CERT if the server asks for one.",
        )
    elif probe.error is None:
        yield Result(name, Status.OK, f"Certificate verified with {bundle}{with_cert}.")


def _host(url: str) -> str:
    """The host (and port) of ``url``, never the credentials it may carry."""
    return urlsplit(url).netloc.rpartition("@")[2]


def _shown(url: str) -> str:
    """``url`` as the report shows it: without the credentials it may carry."""
    parts = urlsplit(url)
    return parts._replace(netloc=_host(url)).geturl() if "@" in parts.netloc else url


def _plain_http_result(name: str, probe: _Probe) -> Result | None:
    """The finding when an https ``CAS_SERVER_URL`` names a server speaking plain http."""
    if probe.error is None or "SSL" not in probe.error or not _speaks_plain_http(probe.url):
        return None
    plain = _shown(probe.url).replace("https://", "http://", 1)
    return Result(
        name,
        Status.ERROR,
        f"{_host(probe.url)} speaks plain http, not TLS: CAS_SERVER_URL says "
        "https, so every call fails before any certificate is seen.",
        f"Serve the CAS server over https, or (on a trusted network only) use {plain}.",
    )


def _speaks_plain_http(url: str) -> bool:
    """True when the server behind an https URL answers a plain http request instead."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "", parts.port or 443), timeout=cas_settings.timeout[0]
        ) as connection:
            connection.sendall(f"HEAD / HTTP/1.0\r\nHost: {_host(url)}\r\n\r\n".encode())
            connection.settimeout(cas_settings.timeout[1])
            return connection.recv(5) == b"HTTP/"
    except OSError:
        return False


def _site_request(context: Context) -> Any:
    """A GET of the login view as it would arrive at the site's public URL, or None."""
    base = context.site_url or cas_settings.root_proxied_as
    if not base:
        return None
    parts = urlsplit(base)
    try:
        path = reverse(cas_settings.login_url_name)
    except NoReverseMatch:
        path = "/"
    request = RequestFactory().get(path, HTTP_HOST=parts.netloc, secure=parts.scheme == "https")
    if not context.site_url:
        # Behind a proxy the public host may differ from the ones ALLOWED_HOSTS lists for the
        # proxied requests; CAS_ROOT_PROXIED_AS is trusted configuration, so it is not checked.
        request.get_host = lambda: parts.netloc  # type: ignore[method-assign]
    return request


def service_url(context: Context) -> str | None:
    """The service URL the login view sends for a visitor with no ``next``, if the host is known."""
    request = _site_request(context)
    if request is None:
        return None
    return get_service_url(request)


def check_service_url(context: Context) -> Iterator[Result]:
    """Show the service URL the site sends, which the CAS server's service registry must allow."""
    name = "Service URL"
    try:
        reverse(cas_settings.login_url_name)
    except NoReverseMatch:
        yield Result(
            name,
            Status.ERROR,
            f"The login view ({cas_settings.login_url_name!r}) is not in the URLconf.",
            "Include django_cas_ng's LoginView under that name, or set CAS_LOGIN_URL_NAME.",
        )
        return
    try:
        service = service_url(context)
    except DisallowedHost as error:
        yield Result(name, Status.ERROR, str(error), "Add the site's host to ALLOWED_HOSTS.")
        return
    except UnpinnedHost as error:
        yield Result(name, Status.ERROR, str(error), "Pin the public host (docs/checks.rst E016).")
        return
    if service is None:
        yield Result(
            name,
            Status.INFO,
            "Unknown: the site's host comes from each request.",
            "Pass --site-url https://your.site or set CAS_ROOT_PROXIED_AS to see it.",
        )
        return
    if urlsplit(service).scheme != "https":
        yield Result(
            name,
            Status.WARNING,
            f"{service} is http: the service ticket returns over plain http.",
            "Serve the site over https, or set CAS_FORCE_SSL_SERVICE_URL behind a TLS proxy.",
        )
        return
    yield Result(name, Status.OK, f"{service} (register it, or a pattern for it, at CAS).")


class _Recorder:
    """Stands in for the client's ``requests`` session to keep the last raw response."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self.response: requests.Response | None = None

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, data=data, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.response = self.session.request(method, url, **kwargs)
        return self.response


VALIDATION = "Validation"


def check_validation(context: Context) -> Iterator[Result]:
    """A made-up ticket gets the well-formed failure of ``CAS_VERSION``: version and path fit."""
    if not cas_settings.server_url:
        return
    version = cas_settings.version
    if not CASSettings.version.accepts(version):
        return  # the system check E003 reports it
    if _probe_server(context).error is not None:
        yield Result(VALIDATION, Status.INFO, "Skipped: the CAS server cannot be reached.")
    else:
        yield _validate_made_up_ticket(context, version)


def _wrong_path_hint(version: str) -> str:
    return (
        f"Check that CAS_VERSION ({version}) is one the server speaks and that "
        "CAS_SERVER_URL has the right prefix."
    )


def _validate_made_up_ticket(context: Context, version: str) -> Result:
    """Send a ticket the server never issued through the site's own client, and judge the
    answer."""
    try:
        service = service_url(context) or PLACEHOLDER_SERVICE
    except (DisallowedHost, UnpinnedHost):  # reported by check_service_url
        service = PLACEHOLDER_SERVICE
    client = get_cas_client(service_url=service, request=_site_request(context))
    recorder = _Recorder(client.session)
    client.session = recorder  # type: ignore[assignment]
    label = VERSION_LABELS.get(version, f"CAS {version}")
    endpoint = _shown(get_server_url(_site_request(context)) + VALIDATION_PATHS[version])
    try:
        username, _, _ = validate_ticket(client, f"ST-doctor-{secrets.token_hex(8)}")
    except TicketValidationError as error:
        message = f"{endpoint} refused a made-up ticket as {label} should ({error.code})."
        return Result(VALIDATION, Status.OK, message)
    except CASUnavailable as error:
        message = f"{endpoint}: {_describe(recorder, error)}"
        return Result(VALIDATION, Status.ERROR, message, _wrong_path_hint(version))
    return _judge_answer(endpoint, version, username, recorder.response)


def _judge_answer(
    endpoint: str, version: str, username: str | None, answer: requests.Response | None
) -> Result:
    """The verdict on an answer python-cas did not turn into an error."""
    label = VERSION_LABELS.get(version, f"CAS {version}")
    hint = _wrong_path_hint(version)
    if answer is None:
        return Result(VALIDATION, Status.ERROR, f"{endpoint}: no answer.", hint)
    if username:
        message = f"{endpoint} accepted a made-up ticket as {username!r}."
        return Result(VALIDATION, Status.ERROR, message, "This is not a CAS server to trust.")
    if answer.status_code != 200:
        message = f"{endpoint} answered HTTP {answer.status_code}."
        return Result(VALIDATION, Status.ERROR, message, hint)
    if _is_well_formed_failure(version, answer.content):
        message = f"{endpoint} refused a made-up ticket as {label} should."
        return Result(VALIDATION, Status.OK, message)
    message = (
        f"{endpoint} answered something that is not a {label} failure ({_content_type(answer)})."
    )
    return Result(VALIDATION, Status.ERROR, message, hint)


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "no content type").split(";")[0]


def _describe(recorder: _Recorder, error: CASUnavailable) -> str:
    answer = recorder.response
    if answer is not None and answer.status_code != 200:
        return f"answered HTTP {answer.status_code} ({_content_type(answer)}), not a CAS answer."
    return f"{error}."


def _is_well_formed_failure(version: str, body: bytes) -> bool:
    """CAS 1 answers ``no``; SAML 1.1 a Response whose StatusCode is not Success."""
    if version == "1":
        return body.splitlines()[:1] == [b"no"]
    if version == "CAS_2_SAML_1_0":
        try:
            root = parse_xml(body)
        except CASUnavailable:
            return False
        codes = [code.get("Value", "") for code in root.iter(f"{{{SAML_PROTOCOL_NS}}}StatusCode")]
        return bool(codes) and not codes[0].endswith("Success")
    return False


def check_proxy_callback(context: Context) -> Iterator[Result]:
    """``CAS_PROXY_CALLBACK`` is https and answers (seen from this host)."""
    name = "Proxy callback"
    callback = cas_settings.proxy_callback
    if not callback:
        yield Result(name, Status.INFO, "CAS_PROXY_CALLBACK is not set: no proxy tickets.")
        return
    if urlsplit(callback).scheme != "https":
        return  # the system check E010 reports it
    connect, read = cas_settings.timeout
    try:
        response = get_http_session().get(callback, timeout=(connect, read), allow_redirects=False)
    except requests.RequestException as error:
        yield Result(
            name,
            Status.ERROR,
            f"{callback} is not reachable from this host: {error.__class__.__name__}.",
            "The CAS server must reach it too, with a certificate it trusts.",
        )
        return
    if response.status_code >= 400:
        yield Result(
            name,
            Status.ERROR,
            f"{callback} answered HTTP {response.status_code}.",
            "Point CAS_PROXY_CALLBACK at django_cas_ng's CallbackView.",
        )
        return
    yield Result(name, Status.OK, f"{callback} answered HTTP {response.status_code}.")


def check_migrations(context: Context) -> Iterator[Result]:
    """Every migration of this app is applied to its database (``manage.py migrate``)."""
    from django.db import DatabaseError, connections, router
    from django.db.migrations.loader import MigrationLoader

    from .models import SessionTicket

    name = "Migrations"
    try:
        loader = MigrationLoader(connections[router.db_for_write(SessionTicket)])
    except DatabaseError as error:
        yield Result(name, Status.ERROR, f"The database cannot be read: {error}.")
        return
    label = SessionTicket._meta.app_label
    unapplied = sorted(
        key[1]
        for key in loader.graph.nodes
        if key[0] == label and key not in loader.applied_migrations
    )
    if unapplied:
        yield Result(
            name,
            Status.ERROR,
            f"{len(unapplied)} migration(s) of {label} not applied: {', '.join(unapplied)}; "
            "sign-in answers 503 until they are.",
            "Run 'python manage.py migrate'.",
        )
    else:
        yield Result(name, Status.OK, f"Every migration of {label} is applied.")


def check_system(context: Context) -> Iterator[Result]:
    """Django's system checks, ours included, as the ``check`` command would report them."""
    name = "System checks"
    messages = [m for m in django_checks.run_checks() if not m.is_silenced()]
    for message in messages:
        if message.level >= django_checks.ERROR:
            status = Status.ERROR
        elif message.level >= django_checks.WARNING:
            status = Status.WARNING
        else:
            status = Status.INFO
        yield Result(
            name,
            status,
            f"{message.id}: {message.msg}" if message.id else str(message.msg),
            str(message.hint or ""),
        )
    if not messages:
        yield Result(name, Status.OK, "No issues.")


CHECKS: tuple[Callable[[Context], Iterable[Result]], ...] = (
    check_server,
    check_tls,
    check_validation,
    check_service_url,
    check_proxy_callback,
    check_migrations,
    check_system,
)


def run(site_url: str | None = None) -> list[Result]:
    """Every check, in report order."""
    context = Context(site_url=site_url)
    return [result for check in CHECKS for result in check(context)]


def has_errors(results: Iterable[Result]) -> bool:
    return any(result.status is Status.ERROR for result in results)
