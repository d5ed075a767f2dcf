"""Row 20.12 of docs/security.rst on a real PostgreSQL server, which cannot store a NUL.

Runs in a child process configured for a throwaway PostgreSQL cluster (see
``tests/cluster/services.py``); skipped when PostgreSQL is not installed (outside CI).
"""

from __future__ import annotations

import json

import pytest

from tests.cluster.services import run_on_postgresql, set_up_django_on_postgresql

pytestmark = pytest.mark.cluster

CHILD = "from tests.test_attacks_postgresql import nul_name; nul_name()"


def test_a_cas1_name_or_attribute_with_nul_is_no_500_on_postgresql() -> None:
    outcome = run_on_postgresql(CHILD, "NUL_DATABASE", timeout=120)

    assert outcome == {"status": 403, "users": 1, "first_name": "", "last_name": "Liddell"}


def nul_name() -> None:
    """In the child: sign in with a CAS 1 name holding NUL; apply an attribute holding one."""
    set_up_django_on_postgresql("NUL_DATABASE", CAS_VERSION="1", CAS_APPLY_ATTRIBUTES_TO_USER=True)

    import responses
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from django_cas_ng.backends import CASBackend
    from tests.cas_answers import cas1_success
    from tests.conftest import CAS

    setup_test_environment()
    with responses.RequestsMock() as cas_http:
        cas_http.get(
            CAS + "validate",
            body=cas1_success("alice\x00root"),
            headers={"Content-Type": "text/plain"},
        )
        status = Client().get("/accounts/login/?next=/&ticket=ST-1-nul").status_code
    user = get_user_model().objects.create_user("bob")
    CASBackend().apply_attributes(user, {"first_name": "B\x00b", "last_name": "Liddell"})
    user.refresh_from_db()
    outcome = {
        "status": status,
        "users": get_user_model().objects.count(),
        "first_name": user.first_name,
        "last_name": user.last_name,
    }
    print(json.dumps(outcome))
