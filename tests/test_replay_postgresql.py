"""Single-use tickets on a real PostgreSQL server: the claim is one ``INSERT ... ON CONFLICT DO
NOTHING`` whose row count tells the first presentation from a replay.

Runs in a child process on a throwaway PostgreSQL cluster (``tests/cluster/services.py``);
skipped when PostgreSQL is not installed (outside CI).
"""

from __future__ import annotations

import json

import pytest

from tests.cluster.services import run_on_postgresql, set_up_django_on_postgresql

pytestmark = pytest.mark.cluster

CHILD = "from tests.test_replay_postgresql import child; child()"


@pytest.fixture(scope="module")
def outcome() -> dict:
    """What the child observed on PostgreSQL."""
    return run_on_postgresql(CHILD, "PG_DATABASE")


def test_first_claim_wins_and_the_second_is_refused_on_postgresql(outcome) -> None:
    assert outcome["claims"] == [True, False]
    assert outcome["rows"] == 1


def test_each_claim_is_one_on_conflict_insert_on_postgresql(outcome) -> None:
    assert outcome["statements"] == ["ON CONFLICT DO NOTHING"] * 2


def child() -> None:
    """In the child: set Django up on ``PG_DATABASE``, claim one ticket twice, print the result."""
    set_up_django_on_postgresql("PG_DATABASE")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_cas_ng._internal import replay
    from django_cas_ng.models import UsedTicket

    with CaptureQueriesContext(connection) as queries:
        claims = [replay.claim("ST-1-pg"), replay.claim("ST-1-pg")]
    statements = [
        "ON CONFLICT DO NOTHING" if "ON CONFLICT DO NOTHING" in q["sql"] else q["sql"]
        for q in queries
    ]
    print(
        json.dumps({"claims": claims, "rows": UsedTicket.objects.count(), "statements": statements})
    )
