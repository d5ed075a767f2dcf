"""The ticket -> session mapping across session engines, and the cleanup command."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone

from django_cas_ng._internal.sessions import (
    clean_deleted_sessions,
    end_sessions_for_ticket,
    record_session_ticket,
)
from django_cas_ng.models import ProxyGrantingTicket, SessionTicket
from tests.cas_answers import logout_request, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
    "django.contrib.sessions.backends.file",
]


@pytest.fixture
def engine(request, settings, tmp_path):
    settings.SESSION_ENGINE = request.param
    settings.SESSION_FILE_PATH = str(tmp_path)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return request.param


def sign_in(client: Client, cas_http, ticket: str) -> str:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    response = client.get(f"/accounts/login/?ticket={ticket}")
    assert response.status_code == 302
    return client.session.session_key


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_single_logout_ends_session_of_every_server_side_engine(engine, client, cas_http) -> None:
    key = sign_in(client, cas_http, "ST-1-abc")
    Client().post("/accounts/login/", {"logoutRequest": logout_request("ST-1-abc")})
    assert not import_module(engine).SessionStore().exists(key)
    assert client.get("/private/").status_code == 302


def change_password(request: HttpRequest) -> HttpResponse:
    request.user.set_password("new")
    request.user.save()
    update_session_auth_hash(request, request.user)
    return HttpResponse("changed")


urlpatterns = [path("change-password/", change_password), path("", include("tests.urls"))]


@pytest.mark.urls(__name__)
def test_single_logout_ends_the_session_after_update_session_auth_hash(client, cas_http) -> None:
    first_key = sign_in(client, cas_http, "ST-1-abc")
    client.get("/change-password/")
    new_key = client.session.session_key
    assert new_key != first_key

    Client().post("/accounts/login/", {"logoutRequest": logout_request("ST-1-abc")})
    assert not import_module(settings.SESSION_ENGINE).SessionStore().exists(new_key)
    assert client.get("/private/").status_code == 302


@pytest.mark.urls(__name__)
def test_mapping_and_pgts_follow_the_new_session_key(client, cas_http) -> None:
    first_key = sign_in(client, cas_http, "ST-1-abc")
    ProxyGrantingTicket.objects.create(session_key=first_key, pgtiou="IOU-1", pgt="PGT-1")
    client.get("/change-password/")
    new_key = client.session.session_key
    assert list(SessionTicket.objects.values_list("session_key", "ticket")) == [
        (new_key, "ST-1-abc")
    ]
    assert ProxyGrantingTicket.objects.get().session_key == new_key


def test_a_request_that_does_not_change_the_session_writes_no_mapping(client, cas_http) -> None:
    sign_in(client, cas_http, "ST-1-abc")
    with CaptureQueriesContext(connection) as queries:
        client.get("/private/")
    assert not [q for q in queries if "django_cas_ng_sessionticket" in q["sql"]]


def test_mapping_is_written_with_one_query() -> None:
    with CaptureQueriesContext(connection) as queries:
        record_session_ticket("k" * 32, "ST-1")
    assert len(queries) == 1


def test_mapping_upsert_replaces_ticket_of_same_session() -> None:
    record_session_ticket("k" * 32, "ST-1")
    record_session_ticket("k" * 32, "ST-2")
    assert list(SessionTicket.objects.values_list("ticket", flat=True)) == ["ST-2"]


def test_long_tickets_are_stored_and_found() -> None:
    ticket = "ST-" + "x" * 1000
    record_session_ticket("k" * 32, ticket)
    assert SessionTicket.objects.get().ticket == ticket


def make_session(expired: bool = False) -> str:
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store.create()
    if expired:
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
    return str(store.session_key)


def test_cleanup_removes_mappings_of_deleted_and_expired_sessions() -> None:
    live = make_session()
    expired = make_session(expired=True)
    for n, key in enumerate([live, expired, "gone" * 8]):
        record_session_ticket(key, f"ST-{n}")
    result = clean_deleted_sessions()
    assert result.mappings == 2
    assert list(SessionTicket.objects.values_list("session_key", flat=True)) == [live]


def test_cleanup_removes_pgts_of_deleted_sessions_and_stale_unclaimed_ones() -> None:
    live = make_session()
    ProxyGrantingTicket.objects.create(session_key=live, pgtiou="IOU-1", pgt="PGT-1")
    ProxyGrantingTicket.objects.create(session_key="gone" * 8, pgtiou="IOU-2", pgt="PGT-2")
    stale = ProxyGrantingTicket.objects.create(pgtiou="IOU-3", pgt="PGT-3")
    ProxyGrantingTicket.objects.filter(pk=stale.pk).update(date=timezone.now() - timedelta(hours=1))
    fresh = ProxyGrantingTicket.objects.create(pgtiou="IOU-4", pgt="PGT-4")
    assert clean_deleted_sessions().pgts == 2
    assert set(ProxyGrantingTicket.objects.values_list("pgtiou", flat=True)) == {
        "IOU-1",
        fresh.pgtiou,
    }


def test_cleanup_walks_the_table_in_batches() -> None:
    keys = [make_session() for _ in range(5)]
    for n, key in enumerate([*keys, "gone" * 8, "lost" * 8]):
        record_session_ticket(key, f"ST-{n}")
    assert clean_deleted_sessions(batch_size=2).mappings == 2
    assert SessionTicket.objects.count() == 5


@pytest.mark.parametrize("engine", ENGINES[1:], indirect=True)
def test_cleanup_works_for_non_database_engines(engine) -> None:
    store = import_module(engine).SessionStore()
    store.create()
    record_session_ticket(store.session_key, "ST-live")
    record_session_ticket("gone" * 8, "ST-gone")
    assert clean_deleted_sessions().mappings == 1
    assert SessionTicket.objects.get().ticket == "ST-live"


def test_command_dry_run_counts_without_removing() -> None:
    record_session_ticket("gone" * 8, "ST-1")
    out = StringIO()
    call_command("django_cas_ng_clean_sessions", "--dry-run", stdout=out)
    assert "Would remove 1 session mapping(s)" in out.getvalue()
    assert SessionTicket.objects.count() == 1


def test_command_reports_what_it_removed() -> None:
    record_session_ticket("gone" * 8, "ST-1")
    out = StringIO()
    call_command("django_cas_ng_clean_sessions", stdout=out)
    assert "Removed 1 session mapping(s) and 0 proxy granting ticket(s)." in out.getvalue()
    assert not SessionTicket.objects.exists()


def test_mapping_upsert_is_one_insert_on_conflict_where_supported() -> None:
    record_session_ticket("k" * 32, "ST-1")
    with CaptureQueriesContext(connection) as queries:
        record_session_ticket("k" * 32, "ST-2")
    assert [q["sql"].count("ON CONFLICT") for q in queries] == [1]
    assert list(SessionTicket.objects.values_list("ticket", flat=True)) == ["ST-2"]


def test_mapping_upsert_replaces_the_issuing_server_and_keeps_it_when_none_is_given() -> None:
    record_session_ticket("k" * 32, "ST-1", "https://cas-a.example.org/cas/")
    record_session_ticket("k" * 32, "ST-2", "https://cas-b.example.org/cas/")
    assert list(SessionTicket.objects.values_list("ticket", "server_url")) == [
        ("ST-2", "https://cas-b.example.org/cas/")
    ]
    record_session_ticket("k" * 32, "ST-3")
    assert list(SessionTicket.objects.values_list("ticket", "server_url")) == [
        ("ST-3", "https://cas-b.example.org/cas/")
    ]


def test_mapping_upsert_on_another_database_vendor_goes_through_the_orm(monkeypatch) -> None:
    from django_cas_ng import models

    def no_raw_sql(*args: object) -> None:
        raise AssertionError("the raw upsert is only for PostgreSQL and SQLite")

    monkeypatch.setattr(connection, "vendor", "mysql")
    monkeypatch.setattr(models, "_upsert_sql", no_raw_sql)
    record_session_ticket("k" * 32, "ST-1", "https://cas-a.example.org/cas/")
    with CaptureQueriesContext(connection) as queries:
        record_session_ticket("k" * 32, "ST-2")
    assert [q["sql"].count("ON CONFLICT") for q in queries] == [1]
    assert list(SessionTicket.objects.values_list("ticket", "server_url")) == [
        ("ST-2", "https://cas-a.example.org/cas/")
    ]


class MappingsWrittenElsewhere:
    """Writes ``SessionTicket`` rows to the ``sessions`` database, reads from ``default``."""

    def db_for_write(self, model, **hints):
        return "sessions" if model is SessionTicket else None


@pytest.mark.django_db(databases=["default", "sessions"])
def test_mapping_upsert_writes_to_the_database_routed_for_writes(settings) -> None:
    settings.DATABASE_ROUTERS = [MappingsWrittenElsewhere()]
    record_session_ticket("k" * 32, "ST-1")
    assert SessionTicket.objects.using("sessions").get().ticket == "ST-1"
    assert not SessionTicket.objects.using("default").exists()


def test_a_login_writes_its_mapping_once(client: Client, cas_http) -> None:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/login/", {"ticket": "ST-1-once", "next": "/"})
    writes = [q for q in queries if "INSERT INTO" in q["sql"] and "sessionticket" in q["sql"]]
    assert len(writes) == 1


#: SQL statements of a login by a known user, BEGIN and COMMIT included: the floor's count
#: (bench/bench_floor.py, 10) plus the one INSERT of the replay guard (docs/sessions.rst). A
#: feature that must cost a statement per login raises it on purpose.
LOGIN_STATEMENTS = 11


@pytest.mark.django_db(transaction=True)
def test_a_login_runs_no_more_statements_than_the_floor(client: Client, cas_http) -> None:
    get_user_model().objects.create(username="alice")
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/accounts/login/", {"ticket": "ST-1-floor", "next": "/"})
    assert response.status_code == 302
    statements = [q["sql"][:60] for q in queries]
    assert len(statements) == LOGIN_STATEMENTS, statements


def test_mapping_upsert_without_on_conflict_support_still_keeps_one_row(monkeypatch) -> None:
    monkeypatch.setattr(connection.features, "supports_update_conflicts", False)
    record_session_ticket("k" * 32, "ST-1")
    record_session_ticket("k" * 32, "ST-2")
    assert list(SessionTicket.objects.values_list("ticket", flat=True)) == ["ST-2"]


# --- rows written by any path are found by Single Logout -------------------------------------


def test_single_logout_finds_a_mapping_made_with_bulk_create() -> None:
    key = make_session()
    SessionTicket.objects.bulk_create([SessionTicket(session_key=key, ticket="ST-bulk")])
    assert end_sessions_for_ticket("ST-bulk") == 1


def test_single_logout_finds_a_mapping_whose_ticket_a_queryset_update_changed() -> None:
    key = make_session()
    record_session_ticket(key, "ST-old")
    SessionTicket.objects.filter(session_key=key).update(ticket="ST-new")
    assert end_sessions_for_ticket("ST-new") == 1


def test_single_logout_finds_a_mapping_inserted_with_raw_sql() -> None:
    key = make_session()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_cas_ng_sessionticket (session_key, ticket) VALUES (%s, %s)",
            [key, "ST-raw"],
        )
    assert end_sessions_for_ticket("ST-raw") == 1


def test_tickets_sharing_the_indexed_prefix_are_told_apart() -> None:
    prefix = "ST-" + "p" * 300
    keys = [make_session(), make_session()]
    record_session_ticket(keys[0], prefix + "a")
    record_session_ticket(keys[1], prefix + "b")
    assert end_sessions_for_ticket(prefix + "b") == 1
    assert list(SessionTicket.objects.values_list("session_key", flat=True)) == [keys[0]]


def test_ticket_lookup_uses_the_ticket_index() -> None:
    query = SessionTicket.objects.for_tickets(["ST-1", "ST-2"]).values("session_key").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "cas_ng_ticket_prefix_idx" in plan


class SessionsElsewhere:
    """Keeps ``django_session`` in the ``sessions`` database, everything else in ``default``."""

    def db_for_read(self, model, **hints):
        return "sessions" if model._meta.app_label == "sessions" else None

    db_for_write = db_for_read


@pytest.mark.django_db(databases=["default", "sessions"])
def test_cleanup_checks_liveness_in_the_session_models_own_database(settings) -> None:
    settings.DATABASE_ROUTERS = [SessionsElsewhere()]
    live = make_session()
    assert Session.objects.using("sessions").filter(session_key=live).exists()
    record_session_ticket(live, "ST-live")
    record_session_ticket("gone" * 8, "ST-gone")
    assert clean_deleted_sessions().mappings == 1
    assert SessionTicket.objects.get().ticket == "ST-live"


@pytest.mark.django_db(databases=["default", "sessions"])
def test_single_logout_ends_a_session_kept_in_another_database(settings) -> None:
    settings.DATABASE_ROUTERS = [SessionsElsewhere()]
    key = make_session()
    record_session_ticket(key, "ST-1")
    assert end_sessions_for_ticket("ST-1") == 1
    assert not Session.objects.using("sessions").filter(session_key=key).exists()
