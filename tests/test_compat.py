"""The django-cas-ng 5.1 public API (spec/compat.md): every name where 5.1 code imports it,
with the call shape 5.1 code uses."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import cas
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import models as db_models
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.views import View

from django_cas_ng import backends, decorators, middleware, models, signals, utils, views
from tests.cas_answers import logout_request
from tests.conftest import CAS

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "http://testserver/accounts/login/"


def params(func: object) -> list[str]:
    return [name for name in inspect.signature(func).parameters if name != "self"]  # type: ignore[arg-type]


@pytest.fixture
def bare_request(rf: RequestFactory) -> HttpRequest:
    """What 5.1 users' tests build: a RequestFactory request with session and user attached."""
    request = rf.get("/accounts/login/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    return request


# --- django_cas_ng.backends ------------------------------------------------------------------


def test_cas_backend_is_a_model_backend() -> None:
    assert issubclass(backends.CASBackend, ModelBackend)


def test_cas_backend_authenticate_takes_request_ticket_service() -> None:
    assert params(backends.CASBackend.authenticate) == ["request", "ticket", "service"]


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        ("clean_username", ["username"]),
        ("configure_user", ["user"]),
        ("bad_attributes_reject", ["request", "username", "attributes"]),
        ("get_user_id", ["attributes"]),
        ("user_can_authenticate", ["user"]),
    ],
)
def test_cas_backend_override_points_keep_their_arguments(
    method: str, arguments: list[str]
) -> None:
    assert params(getattr(backends.CASBackend, method)) == arguments


@pytest.mark.django_db
def test_authenticate_calls_the_get_cas_client_that_tests_patch_in_backends(bare_request) -> None:
    fake = mock.Mock()
    fake.verify_ticket.return_value = ("alice", {}, None)
    with mock.patch("django_cas_ng.backends.get_cas_client", return_value=fake) as factory:
        user = backends.CASBackend().authenticate(bare_request, "ST-1-abc", SERVICE)
    assert factory.call_args.kwargs["service_url"] == SERVICE
    assert fake.verify_ticket.call_args.args[0] == "ST-1-abc"
    assert user is not None and user.get_username() == "alice"


# --- django_cas_ng.views ---------------------------------------------------------------------


@pytest.mark.parametrize(
    # A GET of the logout view that no page of the site started asks for confirmation
    # (logout CSRF, issue 18.5); called directly, LogoutView().get() still signs out.
    ("name", "status"),
    [("LoginView", 302), ("LogoutView", 403), ("CallbackView", 200)],
)
def test_views_are_class_based_and_as_view_answers(
    bare_request, db, name: str, status: int
) -> None:
    view = getattr(views, name)
    assert issubclass(view, View)
    assert view.as_view()(bare_request).status_code == status


def test_login_view_successful_login_takes_request_and_next_page() -> None:
    assert params(views.LoginView.successful_login) == ["request", "next_page"]


def test_login_view_get_works_on_a_bare_request(bare_request) -> None:
    response = views.LoginView().get(bare_request)
    assert response.status_code == 302
    assert response["Location"].startswith(CAS + "login?service=")


@pytest.mark.django_db
def test_login_view_get_signs_in_on_a_bare_request_with_a_ticket(rf) -> None:
    """As in 5.1's own tests: messages storage attached, python-cas's verify_ticket patched."""
    request = rf.get("/accounts/login/", {"ticket": "ST-1-abc", "next": "/private/"})
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = default_storage(request)
    with mock.patch("cas.CASClientV2.verify_ticket", return_value=("alice", {}, None)):
        response = views.LoginView().get(request)
    assert (response.status_code, response["Location"]) == (302, "/private/")
    assert request.user.username == "alice"


@pytest.mark.django_db
def test_login_view_post_accepts_a_single_logout_on_a_bare_request(rf) -> None:
    request = rf.post(
        "/accounts/login/",
        urlencode({"logoutRequest": logout_request("ST-1-abc")}),
        content_type="application/x-www-form-urlencoded",
    )
    request.session = SessionStore()
    request.user = AnonymousUser()
    assert views.LoginView().post(request).status_code == 200


def test_logout_view_get_works_on_a_bare_request(bare_request, db) -> None:
    response = views.LogoutView().get(bare_request)
    assert response.status_code == 302
    assert response["Location"].startswith(CAS + "logout")


@pytest.mark.parametrize(
    ("host_url", "url", "local"),
    [
        ("https://site.example/mysite/", "/other/", True),
        ("https://site.example/mysite/", "https://site.example/mysite/page/", True),
        ("https://site.example/mysite/", "https://site.example/other/", False),
        ("https://site.example/mysite/", "https://evil.example/mysite/", False),
        ("https://site.example/", "http://site.example/", False),
        ("https://site.example/", "//evil.example/", False),
    ],
)
def test_is_local_url(host_url: str, url: str, local: bool) -> None:
    assert views.is_local_url(host_url, url) is local


def test_clean_next_page_returns_a_local_url(bare_request) -> None:
    assert views.clean_next_page(bare_request, "/private/") == "/private/"


def test_clean_next_page_passes_an_empty_value_through(bare_request) -> None:
    assert views.clean_next_page(bare_request, None) is None


def test_clean_next_page_raises_redirect_exception_for_another_site(bare_request) -> None:
    with pytest.raises(utils.RedirectException):
        views.clean_next_page(bare_request, "https://evil.example/")


def test_clean_next_page_allows_any_url_without_check_next(bare_request, settings) -> None:
    settings.CAS_CHECK_NEXT = False
    assert views.clean_next_page(bare_request, "https://evil.example/") == "https://evil.example/"


def test_views_module_still_exposes_redirect_exception() -> None:
    assert views.RedirectException is utils.RedirectException


# --- django_cas_ng.signals -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cas_user_authenticated", "cas_user_logout"])
def test_signals_exist(name: str) -> None:
    assert isinstance(getattr(signals, name), Signal)


# --- django_cas_ng.models --------------------------------------------------------------------


def test_session_key_maxlength_is_736() -> None:
    assert models.SESSION_KEY_MAXLENGTH == 736


def test_session_ticket_fields() -> None:
    fields = {f.name for f in models.SessionTicket._meta.get_fields()}
    assert {"session_key", "ticket"} <= fields


def test_proxy_granting_ticket_fields() -> None:
    fields = {f.name: f for f in models.ProxyGrantingTicket._meta.get_fields()}
    assert {"session_key", "user", "pgtiou", "pgt", "date"} <= set(fields)
    assert isinstance(fields["user"], db_models.ForeignKey)
    assert fields["user"].related_model is get_user_model()


def test_proxy_error_is_importable_from_models() -> None:
    assert issubclass(models.ProxyError, Exception)


@pytest.mark.django_db
def test_retrieve_pt_raises_proxy_error_without_a_pgt(bare_request) -> None:
    bare_request.user = get_user_model().objects.create(username="alice")
    bare_request.session.save()
    with pytest.raises(models.ProxyError):
        models.ProxyGrantingTicket.retrieve_pt(bare_request, "https://api.example.org/")


def live_session_key() -> str:
    session = SessionStore()
    session["signed_in"] = True
    session.save()
    assert session.session_key
    return session.session_key


@pytest.mark.django_db
def test_session_ticket_clean_deleted_sessions_drops_mappings_of_gone_sessions() -> None:
    live = live_session_key()
    models.SessionTicket.objects.create(session_key=live, ticket="ST-1-live")
    models.SessionTicket.objects.create(session_key="gone", ticket="ST-2-gone")
    models.SessionTicket.clean_deleted_sessions()
    assert list(models.SessionTicket.objects.values_list("ticket", flat=True)) == ["ST-1-live"]


@pytest.mark.django_db
def test_proxy_granting_ticket_clean_deleted_sessions_drops_pgts_of_gone_sessions() -> None:
    user = get_user_model().objects.create(username="alice")
    live = live_session_key()
    for key in (live, "gone"):
        models.ProxyGrantingTicket.objects.create(
            session_key=key, user=user, pgtiou=f"PGTIOU-{key}", pgt=f"PGT-{key}"
        )
    models.ProxyGrantingTicket.clean_deleted_sessions()
    assert list(models.ProxyGrantingTicket.objects.values_list("session_key", flat=True)) == [live]


@pytest.mark.django_db
def test_clean_sessions_management_command_drops_mappings_of_gone_sessions() -> None:
    live = live_session_key()
    models.SessionTicket.objects.create(session_key=live, ticket="ST-1-live")
    models.SessionTicket.objects.create(session_key="gone", ticket="ST-2-gone")
    call_command("django_cas_ng_clean_sessions", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert list(models.SessionTicket.objects.values_list("session_key", flat=True)) == [live]


# --- django_cas_ng.utils ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "client_class"),
    [
        ("1", cas.CASClientV1),
        ("2", cas.CASClientV2),
        ("3", cas.CASClientV3),
        ("CAS_2_SAML_1_0", cas.CASClientWithSAMLV1),
        (1, cas.CASClientV1),
        (2, cas.CASClientV2),
        (3, cas.CASClientV3),
    ],
)
def test_get_cas_client_returns_the_python_cas_client_of_cas_version(
    settings, version: object, client_class: type
) -> None:
    settings.CAS_VERSION = version
    client = utils.get_cas_client(service_url="http://testserver/accounts/login/")
    assert isinstance(client, client_class)
    assert client.service_url == "http://testserver/accounts/login/"
    assert client.server_url == CAS


def test_get_cas_client_takes_service_url_and_request() -> None:
    assert params(utils.get_cas_client) == ["service_url", "request"]


def test_get_service_url(bare_request) -> None:
    service = utils.get_service_url(bare_request, "/private/")
    assert service == "http://testserver/accounts/login/?next=%2Fprivate%2F"


def test_get_redirect_url(rf) -> None:
    assert utils.get_redirect_url(rf.get("/accounts/login/", {"next": "/private/"})) == "/private/"


def test_get_protocol(rf) -> None:
    assert utils.get_protocol(rf.get("/")) == "http"
    assert utils.get_protocol(rf.get("/", secure=True)) == "https"


@pytest.mark.django_db
def test_get_user_from_session(client) -> None:
    user = get_user_model().objects.create(username="alice")
    client.force_login(user, backend="django_cas_ng.backends.CASBackend")
    assert utils.get_user_from_session(SessionStore(client.session.session_key)) == user


def test_get_user_from_session_is_anonymous_for_an_empty_session(db) -> None:
    assert utils.get_user_from_session(SessionStore()).is_anonymous


# --- middleware, decorators ------------------------------------------------------------------


def test_middleware_hands_ordinary_requests_to_the_view(bare_request) -> None:
    def get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse("the page")

    response = middleware.CASMiddleware(get_response)(bare_request)
    assert response.content == b"the page"


@pytest.mark.parametrize(
    "decorate",
    [
        decorators.login_required,
        decorators.permission_required("auth.view_user"),
        decorators.user_passes_test(lambda user: user.is_staff),
    ],
    ids=["login_required", "permission_required", "user_passes_test"],
)
def test_decorators_send_anonymous_users_to_login(bare_request, decorate: Any) -> None:
    view = decorate(lambda request: HttpResponse("secret"))
    response = view(bare_request)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/login/"


# --- no import-time side effects -------------------------------------------------------------

IMPORT_EVERYTHING = """
import importlib, json, pkgutil
from django.conf import settings
settings.INSTALLED_APPS  # load the settings module, then look at what it holds
before = {k: repr(v) for k, v in vars(settings._wrapped).items()}
import django
django.setup()
import django_cas_ng
for module in pkgutil.walk_packages(django_cas_ng.__path__, "django_cas_ng."):
    importlib.import_module(module.name)
after = {k: repr(v) for k, v in vars(settings._wrapped).items()}
print(json.dumps({"added": sorted(set(after) - set(before)),
                  "changed": sorted(k for k in before if before[k] != after.get(k))}))
"""
# django.setup() itself fills in connection defaults in DATABASES, with or without this app.
DJANGO_OWN_WRITES = {"DATABASES"}


def test_importing_django_cas_ng_writes_nothing_into_settings() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    writes = json.loads(result.stdout.splitlines()[-1])
    assert writes["added"] == []
    assert set(writes["changed"]) <= DJANGO_OWN_WRITES
