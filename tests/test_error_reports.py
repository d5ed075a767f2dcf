"""No ticket, PGT or IOU in an error report (docs/security.rst, rows 22.n): a 500 while one is
in a frame's locals, rendered by Django's exception reporter, mailed to ADMINS with its HTML,
and on the ``DEBUG`` page with :class:`~django_cas_ng.views.RedactingExceptionReporter`."""

from __future__ import annotations

import logging
import sys
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import django
import pytest
import requests
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.signals import got_request_exception
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pprint
from django.test import Client
from django.urls import path
from django.utils.log import AdminEmailHandler
from django.views import debug

from django_cas_ng._internal.observe import hide_secrets
from django_cas_ng.backends import CASBackend
from django_cas_ng.decorators import proxy_ticket_required
from django_cas_ng.models import ProxyGrantingTicket, mapping_key
from django_cas_ng.recheck import CHECKED_KEY
from django_cas_ng.signals import cas_user_authenticated
from django_cas_ng.stepup import stepup_required
from tests import urls as suite_urls
from tests.cas_answers import logout_request, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
OPS = ["ops@example.org"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.org")]
REPORTER = "django_cas_ng.views.RedactingExceptionReporter"
#: The part of each secret a redacted form never shows.
TICKET, PGTIOU, PGT, PT, SLO = (
    "ST-1-loginsecret",
    "PGTIOU-1-iousecret",
    "PGT-1-pgtsecret",
    "PT-1-ptsecret",
    "ST-1-slosecret",
)
MARKERS = ("loginsecret", "iousecret", "pgtsecret", "ptsecret", "slosecret")


@proxy_ticket_required
def api_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("api")


@proxy_ticket_required
async def async_api_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async api")


@stepup_required
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


def proxying_page(request: HttpRequest) -> HttpResponse:
    """A site's view obtaining a proxy ticket for a back end, not handling ``ProxyError``."""
    return HttpResponse(ProxyGrantingTicket.retrieve_pt(request, "https://api.example.org/"))


urlpatterns = [
    *suite_urls.urlpatterns,
    path("api/", api_page),
    path("async-api/", async_api_page),
    path("payroll/", payroll),
    path("proxying/", proxying_page),
]


Failure = tuple[HttpRequest, Any]


@pytest.fixture
def failures() -> Iterator[list[Failure]]:
    """Each unhandled exception of a request, with the request, as Django's handler sees it."""
    seen: list[Failure] = []

    def grab(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
        seen.append((request, sys.exc_info()))

    got_request_exception.connect(grab)
    yield seen
    got_request_exception.disconnect(grab)


@pytest.fixture
def html_mail(settings) -> Iterator[None]:
    """ADMINS get each 500 with its HTML report (``include_html=True``)."""
    settings.ADMINS = OPS
    logger = logging.getLogger("django.request")
    handler = AdminEmailHandler(include_html=True)
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)


@contextmanager
def database_refusing(words: tuple[str, ...] = ("INSERT",)) -> Iterator[None]:
    """The database fails each query whose SQL holds one of ``words`` (a full disk, a lock)."""

    def refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if any(word in sql for word in words):
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


def leaked(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker in text]


def mailed_reports() -> str:
    """Every mail to ADMINS, text and HTML."""
    parts = []
    for message in mail.outbox:
        parts.append(str(message.body))
        parts.extend(str(content) for content, _ in getattr(message, "alternatives", []))
    return "\n".join(parts)


def frame_variables(failure: Failure) -> str:
    """Every frame's locals as Django's configured filter shows them (``DEBUG`` off), but the
    request's own repr, alone or in a view's ``args`` (its query: the mail and the package's
    reporter redact it)."""
    request, (_, _, tb) = failure
    report_filter = debug.get_default_exception_reporter_filter()
    shown = []
    while tb is not None:
        for name, value in report_filter.get_traceback_frame_variables(request, tb.tb_frame):
            if not isinstance(value, HttpRequest) and not (
                isinstance(value, tuple) and any(isinstance(v, HttpRequest) for v in value)
            ):
                shown.append(f"{tb.tb_frame.f_code.co_name}.{name}={pprint(value)}")
        tb = tb.tb_next
    return "\n".join(shown).replace("\n ", " ")


def debug_page(failure: Failure, settings) -> str:
    """The ``DEBUG`` 500 page, HTML and text, with the package's reporter configured."""
    settings.DEBUG = True
    settings.DEFAULT_EXCEPTION_REPORTER = REPORTER
    request, exc_info = failure
    reporter = debug.get_exception_reporter_class(request)(request, *exc_info)
    return reporter.get_traceback_html() + reporter.get_traceback_text()


def assert_no_secret_reported(failure: Failure, settings) -> None:
    assert mail.outbox, "the 500 was mailed"
    assert not leaked(mailed_reports())
    assert not [line for line in frame_variables(failure).splitlines() if leaked(line)]
    assert not leaked(debug_page(failure, settings))


def one_failure(failures: list[Failure], response: HttpResponse) -> Failure:
    assert response.status_code == 500
    assert len(failures) == 1
    return failures[0]


# --- 22.1 The database fails during a sign-in -----------------------------------------------


def test_a_database_outage_at_sign_in_reports_no_ticket(failures, html_mail, settings) -> None:
    with database_refusing():
        response = Client(raise_request_exception=False).get(
            "/accounts/login/", {"next": "/", "ticket": TICKET}
        )
    assert_no_secret_reported(one_failure(failures, response), settings)


def test_the_reports_locals_still_show_what_is_no_secret(failures, html_mail, settings) -> None:
    """Redaction hides the secrets, not the report: the landing page is still shown."""
    with database_refusing():
        Client(raise_request_exception=False).get(
            "/accounts/login/", {"next": "/x", "ticket": TICKET}
        )
    shown = frame_variables(failures[0])
    assert "login.ticket='********************'" in shown
    assert "'/x'" in debug_page(failures[0], settings)


def test_the_debug_page_without_the_packages_reporter_shows_the_ticket(failures, settings) -> None:
    """Django's own ``DEBUG`` page shows every local and the query: why sites opt in."""
    with database_refusing():
        Client(raise_request_exception=False).get("/accounts/login/", {"ticket": TICKET})
    settings.DEBUG = True
    request, exc_info = failures[0]
    assert leaked(debug.ExceptionReporter(request, *exc_info).get_traceback_html())


# --- 22.2 A receiver of cas_user_authenticated, or the site's mapping, raises ---------------


def test_a_failing_receiver_after_a_posted_ticket_reports_no_ticket_or_iou(
    failures, html_mail, cas_http, settings
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", pgtiou=PGTIOU))

    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("the receiver has a bug")

    cas_user_authenticated.connect(broken)
    try:
        response = Client(raise_request_exception=False).post(
            "/accounts/login/?next=/", {"ticket": TICKET}
        )
    finally:
        cas_user_authenticated.disconnect(broken)
    failure = one_failure(failures, response)
    assert_no_secret_reported(failure, settings)
    settings.DEBUG = False
    posted = debug.ExceptionReporter(failure[0], *failure[1]).get_traceback_text()
    assert "ticket = '********************'" in posted  # sensitive_post_parameters


def test_a_bug_on_the_cas_answer_reports_no_ticket_or_iou(
    failures, html_mail, cas_http, settings, monkeypatch
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice", pgtiou=PGTIOU))

    def buggy(self: CASBackend, request: Any, username: str, attributes: Any) -> Any:
        raise KeyError("a site's mapping has a bug")

    monkeypatch.setattr(CASBackend, "user_from_answer", buggy)
    response = Client(raise_request_exception=False).get("/accounts/login/", {"ticket": TICKET})
    assert_no_secret_reported(one_failure(failures, response), settings)


# --- 22.3 The PGT callback's INSERT fails ---------------------------------------------------


def test_a_failing_pgt_insert_reports_no_pgt_or_iou(failures, html_mail, settings) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    with database_refusing():
        response = Client(raise_request_exception=False).get(
            "/accounts/callback/", {"pgtIou": PGTIOU, "pgtId": PGT}
        )
    assert_no_secret_reported(one_failure(failures, response), settings)


# --- 22.4 A presented proxy ticket on an API view --------------------------------------------


@pytest.mark.urls(__name__)
def test_a_database_outage_on_an_api_call_reports_no_proxy_ticket(
    failures, html_mail, settings
) -> None:
    with database_refusing():
        response = Client(raise_request_exception=False).get(
            "/api/", HTTP_AUTHORIZATION=f"CAS {PT}"
        )
    assert_no_secret_reported(one_failure(failures, response), settings)


@pytest.mark.urls(__name__)
def test_a_proxy_ticket_in_the_query_of_an_api_call_is_not_reported(
    failures, html_mail, settings
) -> None:
    with database_refusing():
        response = Client(raise_request_exception=False).get("/api/", {"ticket": PT})
    assert_no_secret_reported(one_failure(failures, response), settings)


@pytest.mark.urls(__name__)
def test_a_database_outage_on_an_async_api_call_reports_no_proxy_ticket(
    failures, html_mail, settings
) -> None:
    """The check runs in a worker thread (``sync_to_async``) below the async view."""
    with database_refusing():
        response = Client(raise_request_exception=False).get(
            "/async-api/", HTTP_AUTHORIZATION=f"CAS {PT}"
        )
    assert_no_secret_reported(one_failure(failures, response), settings)


# --- 22.5 Back-channel Single Logout ---------------------------------------------------------


def test_a_database_outage_at_back_channel_logout_reports_no_ticket(
    failures, html_mail, settings
) -> None:
    with database_refusing(("django_cas_ng_sessionticket",)):
        response = Client(raise_request_exception=False).post(
            "/accounts/login/", {"logoutRequest": logout_request(SLO)}
        )
    assert_no_secret_reported(one_failure(failures, response), settings)


# --- 22.6 A step-up's returning ticket --------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_database_outage_at_step_up_reports_no_ticket(failures, html_mail, settings) -> None:
    browser = Client(raise_request_exception=False)
    browser.force_login(get_user_model().objects.create_user("alice"))
    to_stepup = browser.get("/payroll/")
    assert to_stepup.status_code == 302
    with database_refusing():
        response = browser.get(f"{to_stepup.url}&ticket={TICKET}")
    assert_no_secret_reported(one_failure(failures, response), settings)


# --- 22.6 (cont.) The re-check's returning ticket ---------------------------------------------


def test_a_database_outage_at_the_recheck_reports_no_ticket(
    failures, html_mail, cas_http, settings
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django_cas_ng.recheck.SessionRecheckMiddleware"]
    settings.CAS_RECHECK_INTERVAL = 600
    browser = Client(raise_request_exception=False)
    cas_http.get(VALIDATE, body=success_xml("alice"))
    assert browser.get("/accounts/login/", {"ticket": "ST-1-signin"}).status_code == 302
    session = browser.session
    session[CHECKED_KEY] = time.time() - 601
    session.save()
    to_cas = browser.get("/private/", HTTP_ACCEPT="text/html")
    service = urlsplit(parse_qs(urlsplit(to_cas.url).query)["service"][0])
    with database_refusing():
        response = browser.get(f"{service.path}?{service.query}&ticket={TICKET}")
    assert_no_secret_reported(one_failure(failures, response), settings)


# --- 22.7 A site's view obtaining a proxy ticket ------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_failing_proxy_ticket_request_reports_no_pgt(
    failures, html_mail, cas_http, settings
) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    browser = Client(raise_request_exception=False)
    user = get_user_model().objects.create_user("alice")
    browser.force_login(user)
    key = mapping_key(browser.session.session_key or "")
    ProxyGrantingTicket.objects.create(pgtiou=PGTIOU, pgt=PGT, user=user, session_key=key)
    cas_http.get(CAS + "proxy", body=requests.ConnectionError("refused"))
    response = browser.get("/proxying/")
    assert_no_secret_reported(one_failure(failures, response), settings)


# --- The decorator's cost on the sign-in path -----------------------------------------------


def test_the_decorators_cost_per_call_is_a_fraction_of_a_microsecond() -> None:
    """``sensitive_variables`` wraps two frames of a sign-in (the view and the backend)."""

    def plain(a: int, b: int) -> int:
        return a + b

    wrapped = hide_secrets(plain)
    calls = 20_000
    cost = (
        timeit.timeit(lambda: wrapped(1, 2), number=calls)
        - timeit.timeit(lambda: plain(1, 2), number=calls)
    ) / calls
    assert cost < 5e-6  # measured ~0.14 µs; generous for a loaded CI machine
