"""The ticket -> session mapping on a real PostgreSQL server: the upsert is one
``INSERT ... ON CONFLICT``, and Single Logout finds rows whatever wrote them, through the index.

Runs in a child process configured for a throwaway PostgreSQL cluster (see
``tests/cluster/services.py``). Skipped when PostgreSQL is not installed (outside CI).
"""

from __future__ import annotations

import json

import pytest

from tests.cluster.services import run_on_postgresql, set_up_django_on_postgresql

pytestmark = pytest.mark.cluster

CHILD = "from tests.test_sessions_postgresql import child; child()"


@pytest.fixture(scope="module")
def outcome() -> dict:
    """What the child observed on PostgreSQL."""
    return run_on_postgresql(CHILD, "PG_DATABASE")


def test_mapping_upsert_is_one_on_conflict_insert_on_postgresql(outcome) -> None:
    assert outcome["upsert_sql"] == [1]
    assert outcome["upserted"] == ["ST-2"]


@pytest.mark.parametrize("path", ["bulk_create", "queryset_update", "raw_insert"])
def test_single_logout_finds_rows_written_by_any_path_on_postgresql(outcome, path) -> None:
    assert outcome["ended"][path] == 1


def test_ticket_lookup_uses_the_ticket_index_on_postgresql(outcome) -> None:
    assert "cas_ng_ticket_prefix_idx" in outcome["plan"]


def child() -> None:
    """In the child: set Django up on ``PG_DATABASE``, write rows every way, print what SLO saw."""
    set_up_django_on_postgresql("PG_DATABASE")

    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_cas_ng._internal.sessions import end_sessions_for_ticket, record_session_ticket
    from django_cas_ng.models import SessionTicket

    def new_session() -> str:
        store = SessionStore()
        store.create()
        return str(store.session_key)

    record_session_ticket("k" * 32, "ST-1")
    with CaptureQueriesContext(connection) as queries:
        record_session_ticket("k" * 32, "ST-2")
    upsert_sql = [q["sql"].count("ON CONFLICT") for q in queries if "INSERT" in q["sql"]]
    upserted = list(SessionTicket.objects.values_list("ticket", flat=True))

    SessionTicket.objects.bulk_create([SessionTicket(session_key=new_session(), ticket="ST-b")])
    key = new_session()
    record_session_ticket(key, "ST-old")
    SessionTicket.objects.filter(session_key=key).update(ticket="ST-u")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_cas_ng_sessionticket (session_key, ticket) VALUES (%s, %s)",
            [new_session(), "ST-r"],
        )
    ended = {
        "bulk_create": end_sessions_for_ticket("ST-b"),
        "queryset_update": end_sessions_for_ticket("ST-u"),
        "raw_insert": end_sessions_for_ticket("ST-r"),
    }

    sql, params = SessionTicket.objects.for_tickets(["ST-x"]).values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    print(
        json.dumps({"upsert_sql": upsert_sql, "upserted": upserted, "ended": ended, "plan": plan})
    )
