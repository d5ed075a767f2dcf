"""What tests/test_identities_round3.py runs in a child process whose ``AUTH_USER_MODEL`` is one
of tests/customusers: each scenario sets Django up, signs in, and prints its outcome as JSON.
Nothing Django is imported before the settings are configured."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any


def _set_up_child() -> None:
    """In the child: the test settings with tests/customusers installed and the overrides."""
    import django
    from django.conf import settings

    from tests import settings as test_settings

    values = {name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
    values["INSTALLED_APPS"] = [*values["INSTALLED_APPS"], "tests.customusers"]
    settings.configure(**{**values, **json.loads(os.environ["CUSTOM_USER_SETTINGS"])})
    django.setup()

    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    call_command("migrate", run_syncdb=True, verbosity=0)
    setup_test_environment()


def _child_sign_in(user: str, ticket: str, **attributes: Any) -> int:
    """In the child: sign in through the login view as CAS's ``user``; the status code."""
    import responses
    from django.test import Client

    from tests.cas_answers import success_xml
    from tests.conftest import CAS

    with responses.RequestsMock() as cas_http:
        cas_http.get(CAS + "p3/serviceValidate", body=success_xml(user, attributes))
        return Client().get(f"/accounts/login/?next=/&ticket={ticket}").status_code


def affiliations_without_superuser_field() -> None:
    _set_up_child()
    from django.contrib.auth import get_user_model

    model = get_user_model()
    status = _child_sign_in("ada@example.org", "ST-1-a", affiliation=["staff", "faculty"])
    user = model._default_manager.get()
    print(
        json.dumps(
            {"status": status, "users": model._default_manager.count(), "staff": user.is_staff}
        )
    )


def id_into_a_primary_key_not_named_id() -> None:
    _set_up_child()
    from django.contrib.auth import get_user_model

    model = get_user_model()
    status = _child_sign_in("ada", "ST-1-a", id="9f0c7a52-3b1e-4d6f-8a2b-5c4d3e2f1a0b")
    user = model._default_manager.get()
    print(json.dumps({"status": status, "pk": str(user.pk), "username": user.get_username()}))


def case_insensitive_natural_key() -> None:
    _set_up_child()
    from django.contrib.auth import get_user_model

    model = get_user_model()
    ada = model._default_manager.create(uuid=uuid.uuid4(), username="ada")
    status = _child_sign_in("Ada", "ST-1-a")
    second = _child_sign_in("ADA", "ST-2-a")
    signed_in = model._default_manager.values_list("last_login", flat=True).get(pk=ada.pk)
    print(
        json.dumps(
            {
                "status": [status, second],
                "users": model._default_manager.count(),
                "signed_in": signed_in is not None,
            }
        )
    )


def name_too_long_for_a_short_username() -> None:
    _set_up_child()
    from django.contrib.auth import get_user_model

    model = get_user_model()
    status = _child_sign_in("a" * 31, "ST-1-a")
    print(json.dumps({"status": status, "users": model._default_manager.count()}))


def stable_id_into_a_primary_key_not_named_id() -> None:
    _set_up_child()
    from django.contrib.auth import get_user_model

    model = get_user_model()
    key = "3c5e8d1a-7b2f-4e90-a6c4-1d8e9f0b2a7c"
    status = _child_sign_in("grace", "ST-1-g", id=key, employeeNumber="E-77")
    user = model._default_manager.get()
    print(json.dumps({"status": status, "pk": str(user.pk), "username": user.get_username()}))


def exact_name_before_natural_key() -> None:
    _set_up_child()
    from django.contrib.auth import get_user_model

    model = get_user_model()
    model._default_manager.create(uuid=uuid.uuid4(), username="ada")
    # Made by 5.1 for the CAS name "Ada", beside "ada": the natural key finds two.
    twin = model._default_manager.create(uuid=uuid.uuid4(), username="Ada")
    status = _child_sign_in("Ada", "ST-1-a")
    signed_in = model._default_manager.values_list("last_login", flat=True).get(pk=twin.pk)
    print(json.dumps({"status": status, "twin_signed_in": signed_in is not None}))
