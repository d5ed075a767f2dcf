"""The life of a session, round 3: what a sign-in leaves in the session when the browser still
carries an earlier sign-in whose user no longer loads, and other key changes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module
from io import StringIO
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.signed_cookies import SessionStore as CookieStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection
from django.test import AsyncClient, Client
from django.utils import timezone

from django_cas_ng._internal.sessions import clean_deleted_sessions, record_session_ticket
from django_cas_ng.models import ProxyGrantingTicket, SessionTicket
from django_cas_ng.session_age import SESSION_KEY as SIGNED_IN_KEY
from django_cas_ng.signals import cas_user_logout
from tests import test_sessions as session_urls
from tests.account_sessions import AccountSession
from tests.cas_answers import front_channel, logout_request, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db


def sign_in(client: Client, cas_http, ticket: str, username: str = "alice") -> str:
    answer = success_xml(username, {"email": f"{username}@example.org"})
    cas_http.get(CAS + "p3/serviceValidate", body=answer)
    response = client.get(f"/accounts/login/?ticket={ticket}")
    assert response.status_code == 302
    return client.session.session_key


#: The suite's URLs and a view changing the password (as in test_sessions).
urlpatterns = session_urls.urlpatterns


def deactivate(username: str) -> None:
    get_user_model().objects.filter(username=username).update(is_active=False)


def test_a_sign_in_over_a_deactivated_users_session_keeps_its_own_attributes(
    client, cas_http
) -> None:
    sign_in(client, cas_http, "ST-1-alice", "alice")
    deactivate("alice")
    sign_in(client, cas_http, "ST-2-bob", "bob")
    assert client.session["attributes"] == {"email": "bob@example.org"}


def test_a_sign_in_over_a_deleted_users_session_is_bounded_by_the_max_age(client, cas_http) -> None:
    sign_in(client, cas_http, "ST-1-alice", "alice")
    get_user_model().objects.filter(username="alice").delete()
    sign_in(client, cas_http, "ST-2-bob", "bob")
    assert SIGNED_IN_KEY in client.session


@pytest.mark.urls(__name__)
def test_single_logout_after_a_password_change_ends_a_sign_in_over_a_stale_session(
    client, cas_http
) -> None:
    sign_in(client, cas_http, "ST-1-alice", "alice")
    deactivate("alice")
    sign_in(client, cas_http, "ST-2-bob", "bob")
    client.get("/change-password/")
    key = client.session.session_key

    Client().post("/accounts/login/", {"logoutRequest": logout_request("ST-2-bob")})

    assert not import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


def test_a_stale_sign_in_replaced_by_a_new_one_leaves_no_mapping_or_pgt(client, cas_http) -> None:
    old_key = sign_in(client, cas_http, "ST-1-alice", "alice")
    ProxyGrantingTicket.objects.create(session_key=old_key, pgtiou="PGTIOU-1", pgt="PGT-1")
    deactivate("alice")
    new_key = sign_in(client, cas_http, "ST-2-bob", "bob")
    assert list(SessionTicket.objects.values_list("session_key", "ticket")) == [
        (new_key, "ST-2-bob")
    ]
    assert not ProxyGrantingTicket.objects.exists()


class SessionStore(CookieStore):
    """A site's own engine on signed cookies: this module is ``SESSION_ENGINE = __name__``."""


COOKIES = "django.contrib.sessions.backends.signed_cookies"


def test_w002_warns_about_a_site_engine_built_on_signed_cookies(settings) -> None:
    settings.SESSION_ENGINE = __name__
    assert "django_cas_ng.W002" in [message.id for message in run_checks()]


@pytest.mark.parametrize("engine", [COOKIES, __name__])
def test_single_logout_on_signed_cookies_ends_nothing_and_says_why(
    engine, client, cas_http, settings, caplog
) -> None:
    settings.SESSION_ENGINE = engine
    sign_in(client, cas_http, "ST-1-alice")
    sent: list[object] = []

    def receiver(sender: object, **kwargs: object) -> None:
        sent.append(sender)

    cas_user_logout.connect(receiver, weak=False)
    try:
        with caplog.at_level(logging.INFO, logger="django_cas_ng.slo"):
            answer = Client().post(
                "/accounts/login/", {"logoutRequest": logout_request("ST-1-alice")}
            )
    finally:
        cas_user_logout.disconnect(receiver)
    assert answer.status_code == 200
    assert sent == []
    [line] = caplog.records
    assert line.levelname == "WARNING" and "signed cookies" in line.getMessage()
    assert client.get("/private/").status_code == 200  # as docs/slo.rst says: it cannot work


RECHECK = "django_cas_ng.recheck.SessionRecheckMiddleware"


@pytest.fixture
def rechecked(client: Client, cas_http, settings) -> Client:
    """Alice, signed in with ST-1 and re-checked at CAS with ST-2 (issued for the page)."""
    from django_cas_ng.recheck import CHECKED_KEY

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, RECHECK]
    settings.CAS_RECHECK_INTERVAL = 600
    sign_in(client, cas_http, "ST-1-signin")
    session = client.session
    session[CHECKED_KEY] = 0
    session.save()
    to_cas = client.get("/private/", HTTP_ACCEPT="text/html")
    service = parse_qs(urlsplit(to_cas.url).query)["service"][0]
    back = urlsplit(f"{service}&ticket=ST-2-recheck")
    assert client.get(f"{back.path}?{back.query}", HTTP_ACCEPT="text/html").status_code == 302
    client.recheck_page = f"{back.path}?{urlsplit(service).query}"  # type: ignore[attr-defined]
    return client


def test_a_recheck_maps_the_session_to_the_ticket_it_validated(rechecked) -> None:
    key = rechecked.session.session_key
    assert list(SessionTicket.objects.values_list("session_key", "ticket")) == [
        (key, "ST-2-recheck")
    ]


def test_the_logout_request_of_a_recheck_ticket_posted_to_its_page_ends_the_session(
    rechecked,
) -> None:
    cas_server = Client(enforce_csrf_checks=True)
    answer = cas_server.post(
        rechecked.recheck_page, {"logoutRequest": logout_request("ST-2-recheck")}
    )
    assert answer.status_code == 200
    assert rechecked.get("/private/").status_code == 302


@pytest.fixture
def account_sessions(settings) -> Iterator[type[AbstractBaseSession]]:
    """``SESSION_ENGINE`` on a custom session model, its table created for the test."""
    with connection.schema_editor() as editor:
        editor.create_model(AccountSession)
    settings.SESSION_ENGINE = "tests.account_sessions"
    yield AccountSession
    with connection.schema_editor() as editor:
        editor.delete_model(AccountSession)


@pytest.mark.django_db(transaction=True)
def test_single_logout_ends_a_session_of_a_custom_session_model(
    account_sessions, client, cas_http
) -> None:
    key = sign_in(client, cas_http, "ST-1-alice")
    other = Client()
    sign_in(other, cas_http, "ST-2-alice")
    assert account_sessions.objects.get(session_key=key).account_id is not None

    Client().post("/accounts/login/", {"logoutRequest": logout_request("ST-1-alice")})

    assert not account_sessions.objects.filter(session_key=key).exists()
    assert client.get("/private/").status_code == 302
    assert other.get("/private/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_cleanup_with_a_custom_session_model_keeps_live_mappings_only(
    account_sessions, client, cas_http
) -> None:
    live = sign_in(client, cas_http, "ST-1-alice")
    expired = sign_in(Client(), cas_http, "ST-2-alice")
    account_sessions.objects.filter(session_key=expired).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    record_session_ticket("gone" * 8, "ST-3-gone")
    out = StringIO()
    call_command("django_cas_ng_clean_sessions", stdout=out)
    assert "Removed 2 session mapping(s)" in out.getvalue()
    assert list(SessionTicket.objects.values_list("session_key", flat=True)) == [live]


def test_the_front_channel_logout_of_a_recheck_ticket_at_its_page_ends_the_session(
    rechecked,
) -> None:
    xml = front_channel(logout_request("ST-2-recheck"))
    answer = Client().get(f"{rechecked.recheck_page}&{urlencode({'logoutRequest': xml})}")
    assert answer.status_code == 200 and answer.content == b"ok\n"
    assert rechecked.get("/private/").status_code == 302


def test_the_logout_request_of_a_recheck_ticket_is_served_under_asgi(rechecked) -> None:
    post = async_to_sync(AsyncClient(enforce_csrf_checks=True).post)
    answer = post(rechecked.recheck_page, {"logoutRequest": logout_request("ST-2-recheck")})
    assert answer.status_code == 200
    assert rechecked.get("/private/").status_code == 302


def test_cleanup_keeps_the_mapping_of_a_live_session_in_a_sites_own_cache(settings) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "s"},
    }
    settings.SESSION_ENGINE = "tests.own_cache_sessions"
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.create()
    record_session_ticket(store.session_key, "ST-live")
    record_session_ticket("gone" * 8, "ST-gone")

    assert clean_deleted_sessions().mappings == 1
    assert SessionTicket.objects.get().ticket == "ST-live"
