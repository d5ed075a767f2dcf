"""Row 21.4 of docs/security.rst on a real PostgreSQL server, which refuses a value longer
than its column (SQLite stores it).

Runs in a child process configured for a throwaway PostgreSQL cluster (see
``tests/cluster/services.py``); skipped when PostgreSQL is not installed (outside CI).
"""

from __future__ import annotations

import json

import pytest

from tests.cluster.services import run_on_postgresql, set_up_django_on_postgresql

pytestmark = pytest.mark.cluster

CHILD = "from tests.test_attacks_round3_postgresql import long_group; long_group()"
READERS = "cn=app-readers,ou=groups,dc=example,dc=org"


def test_a_group_name_too_long_for_its_column_is_no_500_on_postgresql() -> None:
    """The sign-in releasing such a group was a 500, for that user at every sign-in."""
    outcome = run_on_postgresql(CHILD, "LONG_GROUP_DATABASE", timeout=120)

    assert outcome == {"status": 302, "groups": [READERS]}


def long_group() -> None:
    """In the child: sign in with a released group name longer than ``Group.name``."""
    set_up_django_on_postgresql(
        "LONG_GROUP_DATABASE", CAS_GROUPS_ATTRIBUTE="memberOf", CAS_MANAGED_GROUPS="cn=app-"
    )

    import responses
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tests.cas_answers import success_xml
    from tests.conftest import CAS
    from tests.test_attacks_round3 import LONG_DN

    setup_test_environment()
    released = {"memberOf": [READERS, LONG_DN]}
    with responses.RequestsMock() as cas_http:
        cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice", released))
        browser = Client(raise_request_exception=False)
        status = browser.get("/accounts/login/?next=/&ticket=ST-1-pg").status_code
    users = get_user_model().objects.filter(username="alice")
    groups = [group.name for group in users[0].groups.all()] if users else []
    print(json.dumps({"status": status, "groups": groups}))
