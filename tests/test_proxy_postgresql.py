"""Two late claims of one PGT racing on a real PostgreSQL server (read committed).

The race runs in a child process configured for a throwaway PostgreSQL cluster (see
``tests/cluster/services.py``): request 2 reads the unclaimed row, then request 1 claims it
while request 2 waits. Without a row lock, request 1 commits and request 2 then deletes the
row request 1 has just claimed; with it, request 1 waits for request 2 and finds the row
claimed. Skipped when PostgreSQL is not installed (outside CI).
"""

from __future__ import annotations

import json

import pytest

from tests.cluster.services import run_on_postgresql, set_up_django_on_postgresql

pytestmark = pytest.mark.cluster

CHILD = "from tests.test_proxy_postgresql import race; race()"


def test_concurrent_late_claims_keep_the_pgt_on_postgresql() -> None:
    outcome = run_on_postgresql(CHILD, "RACE_DATABASE", timeout=120)

    assert outcome["rows"] == [["PGT-1", "session-1"]]
    assert outcome["claimed"] == {"first": True, "second": True}


def race() -> None:
    """In the child: set Django up on ``RACE_DATABASE`` and race two claims; print the outcome."""
    import threading
    import time

    set_up_django_on_postgresql(
        "RACE_DATABASE", CAS_PROXY_CALLBACK="https://testserver/accounts/callback/"
    )

    import psycopg
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from django_cas_ng import proxy
    from django_cas_ng.models import ProxyGrantingTicket

    user = get_user_model().objects.create_user("alice")
    ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-1", pgt="PGT-1")
    database = settings.DATABASES["default"]

    second_has_read = threading.Event()
    first_done = threading.Event()
    first_pid: list[int] = []
    claimed: dict[str, bool] = {}

    def first() -> None:
        try:
            connection.ensure_connection()
            first_pid.append(connection.connection.info.backend_pid)
            second_has_read.wait(30)
            claimed["first"] = proxy._claim("PGTIOU-1", user, "session-1")
        finally:
            first_done.set()
            connection.close()

    def first_finished_or_waits_for_a_lock() -> None:
        """Until request 1 committed (no lock held it) or is blocked on request 2's lock."""
        with psycopg.connect(
            host=database["HOST"],
            port=database["PORT"],
            user=database["USER"],
            dbname=database["NAME"],
            autocommit=True,
        ) as monitor:
            deadline = time.monotonic() + 30
            while not first_done.is_set() and time.monotonic() < deadline:
                row = monitor.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", first_pid
                ).fetchone()
                if row and row[0] == "Lock":
                    return
                time.sleep(0.01)

    def after_first_read(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        result = execute(sql, params, many, context)
        if not second_has_read.is_set() and sql.startswith("SELECT") and "pgtiou" in sql:
            second_has_read.set()
            first_finished_or_waits_for_a_lock()
        return result

    thread = threading.Thread(target=first)
    thread.start()
    while not first_pid and thread.is_alive():
        time.sleep(0.01)
    with connection.execute_wrapper(after_first_read):
        claimed["second"] = proxy._claim("PGTIOU-1", user, "session-1")
    thread.join(60)
    rows = [list(row) for row in ProxyGrantingTicket.objects.values_list("pgt", "session_key")]
    print(json.dumps({"rows": rows, "claimed": claimed}))
