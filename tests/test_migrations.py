"""A database migrated by django-cas-ng 5.1 (0001-0003) migrates forward with its rows intact."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

APP = "django_cas_ng"
UPSTREAM_LAST = [(APP, "0003_auto_20210813_1226")]


def migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def upstream_db():
    """The schema and rows a 5.1 site has, then the latest migration state restored after."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes(APP)
    apps = migrate(UPSTREAM_LAST)
    yield apps
    migrate(latest)


def test_upstream_migration_names_are_kept() -> None:
    executor = MigrationExecutor(connection)
    names = {name for app, name in executor.loader.disk_migrations if app == APP}
    assert {"0001_initial", "0002_auto_20201023_1400", "0003_auto_20210813_1226"} <= names


def test_upstream_schema_matches_5_1(upstream_db) -> None:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(
            cursor, "django_cas_ng_sessionticket"
        )
        constraints = connection.introspection.get_constraints(
            cursor, "django_cas_ng_sessionticket"
        )
    sizes = {column.name: column.display_size for column in description}
    assert sizes == {"id": None, "session_key": 736, "ticket": 1024}
    assert [name for name, c in constraints.items() if c["index"] or c["unique"]] == []


def test_rows_survive_the_upgrade(upstream_db) -> None:
    SessionTicket = upstream_db.get_model(APP, "SessionTicket")
    PGT = upstream_db.get_model(APP, "ProxyGrantingTicket")
    SessionTicket.objects.create(session_key="a" * 32, ticket="ST-1")
    SessionTicket.objects.create(session_key="b" * 32, ticket="ST-" + "x" * 1000)
    PGT.objects.create(session_key="a" * 32, pgtiou="IOU-1", pgt="PGT-1")

    apps = migrate([(APP, "0004_sessionticket_lookup_indexes")])

    rows = dict(apps.get_model(APP, "SessionTicket").objects.values_list("session_key", "ticket"))
    assert rows == {"a" * 32: "ST-1", "b" * 32: "ST-" + "x" * 1000}
    assert apps.get_model(APP, "ProxyGrantingTicket").objects.get().pgt == "PGT-1"


def test_upgrade_fills_the_ticket_digest_used_by_single_logout(upstream_db) -> None:
    upstream_db.get_model(APP, "SessionTicket").objects.create(session_key="a" * 32, ticket="ST-1")
    apps = migrate([(APP, "0004_sessionticket_lookup_indexes")])
    row = apps.get_model(APP, "SessionTicket").objects.get()
    assert row.ticket_digest == hashlib.sha256(b"ST-1").hexdigest()


def test_upgrade_keeps_the_newest_of_duplicate_session_mappings(upstream_db) -> None:
    SessionTicket = upstream_db.get_model(APP, "SessionTicket")
    SessionTicket.objects.create(session_key="a" * 32, ticket="ST-old")
    SessionTicket.objects.create(session_key="a" * 32, ticket="ST-new")
    apps = migrate([(APP, "0004_sessionticket_lookup_indexes")])
    assert list(apps.get_model(APP, "SessionTicket").objects.values_list("ticket", flat=True)) == [
        "ST-new"
    ]


def test_upgraded_rows_are_found_by_ticket_through_the_index(upstream_db) -> None:
    SessionTicket = upstream_db.get_model(APP, "SessionTicket")
    SessionTicket.objects.create(session_key="a" * 32, ticket="ST-1")
    SessionTicket.objects.create(session_key="b" * 32, ticket="ST-" + "x" * 1000)
    migrate([(APP, "0005_sessionticket_ticket_index")])
    from django_cas_ng.models import SessionTicket as Current

    found = Current.objects.for_tickets(["ST-1", "ST-" + "x" * 1000]).values_list(
        "session_key", flat=True
    )
    assert sorted(found) == ["a" * 32, "b" * 32]


def test_upgraded_rows_have_no_server_and_are_ended_by_any_servers_logout(upstream_db) -> None:
    upstream_db.get_model(APP, "SessionTicket").objects.create(session_key="a" * 32, ticket="ST-1")
    apps = migrate([(APP, "0006_sessionticket_server_url")])
    from django_cas_ng.models import SessionTicket as Current

    assert apps.get_model(APP, "SessionTicket").objects.get().server_url is None
    found = Current.objects.for_tickets(["ST-1"]).issued_by("https://cas-b.example.org/cas/")
    assert list(found.values_list("session_key", flat=True)) == ["a" * 32]


def test_identities_migrate_forward_from_5_1_data(upstream_db) -> None:
    upstream_db.get_model(APP, "SessionTicket").objects.create(session_key="a" * 32, ticket="ST-1")
    apps = migrate([(APP, "0007_casidentity")])
    assert apps.get_model(APP, "SessionTicket").objects.get().ticket == "ST-1"
    assert not apps.get_model(APP, "CASIdentity").objects.exists()


def test_identities_migrate_forward_from_main_data() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes(APP)
    apps = migrate([(APP, "0006_sessionticket_server_url")])
    try:
        apps.get_model(APP, "SessionTicket").objects.create(
            session_key="b" * 32, ticket="ST-2", server_url="https://cas-a.example.org/cas/"
        )
        apps = migrate([(APP, "0007_casidentity")])
        row = apps.get_model(APP, "SessionTicket").objects.get()
        assert (row.ticket, row.server_url) == ("ST-2", "https://cas-a.example.org/cas/")
        user = apps.get_model("auth", "User").objects.create(username="alice")
        identity = apps.get_model(APP, "CASIdentity")
        identity.objects.create(server_url="https://cas-a.example.org/cas/", uid="alice", user=user)
    finally:
        migrate(latest)
