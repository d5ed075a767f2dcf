"""Who a user is, round 3: one CAS name in two Unicode forms, and a username attribute that is
padded or has several values."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import models

from django_cas_ng.models import CASIdentity
from django_cas_ng.stepup import is_signed_in_user
from tests import tenants, test_backends
from tests.cas_answers import apereo_saml_success, cas1_success, success_xml
from tests.conftest import CAS
from tests.test_backends import sign_in

pytestmark = pytest.mark.django_db

login_request = test_backends.login_request
release = test_backends.release

User = get_user_model()

#: "José" as most systems send it (one code point for é) and as macOS-fed directories
#: and some LDAP servers do (e followed by a combining acute accent).
COMPOSED = unicodedata.normalize("NFC", "José")
DECOMPOSED = unicodedata.normalize("NFD", "José")


def test_a_decomposed_name_signs_in_to_the_account_made_with_create_user(
    login_request, release
) -> None:
    # create_user (and the admin's form) store the composed form.
    jose = User.objects.create_user(DECOMPOSED)
    release(DECOMPOSED)
    assert sign_in(login_request) == jose
    assert User.objects.count() == 1


def test_both_forms_of_a_new_name_sign_in_to_one_account(login_request, release) -> None:
    release(DECOMPOSED)
    first = sign_in(login_request)
    release(COMPOSED)
    assert sign_in(login_request, ticket="ST-2-abc") == first
    assert first.username == COMPOSED
    assert User.objects.count() == 1


def test_an_account_stored_decomposed_before_the_upgrade_stays_reachable(
    login_request, release
) -> None:
    # 5.1 stored the name exactly as CAS sent it.
    jose = User.objects.create(username=DECOMPOSED)
    release(DECOMPOSED)
    assert sign_in(login_request) == jose
    release(COMPOSED)
    assert sign_in(login_request, ticket="ST-2-abc") == jose
    assert User.objects.count() == 1


def test_without_create_user_a_decomposed_name_finds_the_composed_account(
    login_request, release, settings
) -> None:
    settings.CAS_CREATE_USER = False
    jose = User.objects.create_user(COMPOSED)
    release(DECOMPOSED)
    assert sign_in(login_request) == jose


def test_a_compatibility_form_is_not_folded_into_another_users_name(login_request, release) -> None:
    # Full-width letters look different: merging them with "root" would hand the
    # superuser to whoever registers the look-alike at the CAS server.
    root = User.objects.create_superuser("root", password="x")
    release("\uff52\uff4f\uff4f\uff54")  # "root" in full-width letters
    user = sign_in(login_request)
    assert user is not None and user != root
    assert not user.is_superuser


def test_with_several_servers_both_forms_of_a_name_are_one_identity(
    settings, login_request, cas_http
) -> None:
    settings.ALLOWED_HOSTS = ["a.example", "testserver"]
    settings.CAS_SERVER_URL = tenants.server_for_host
    login_request.META["HTTP_HOST"] = "a.example"
    validate = tenants.SERVERS["a.example"] + "p3/serviceValidate"
    cas_http.get(validate, body=success_xml(DECOMPOSED))
    first = sign_in(login_request)
    cas_http.get(validate, body=success_xml(COMPOSED))
    assert sign_in(login_request, ticket="ST-2-abc") == first
    assert CASIdentity.objects.get().uid == COMPOSED


def test_an_identity_stored_decomposed_stays_reachable(settings, login_request, cas_http) -> None:
    settings.ALLOWED_HOSTS = ["a.example", "testserver"]
    settings.CAS_SERVER_URL = tenants.server_for_host
    login_request.META["HTTP_HOST"] = "a.example"
    server = tenants.SERVERS["a.example"]
    jose = User.objects.create(username=DECOMPOSED)
    CASIdentity.objects.create(server_url=server, uid=DECOMPOSED, name=DECOMPOSED, user=jose)
    cas_http.get(server + "p3/serviceValidate", body=success_xml(COMPOSED))
    assert sign_in(login_request) == jose
    assert CASIdentity.objects.count() == 1


# --- CAS_USERNAME_ATTRIBUTE -------------------------------------------------------------------


def test_a_username_attribute_padded_with_white_space_is_the_same_user(
    login_request, release, settings
) -> None:
    settings.CAS_USERNAME_ATTRIBUTE = "uid"
    alice = User.objects.create_user("alice")
    release("x1", {"uid": "\n      alice\n    "})
    assert sign_in(login_request) == alice


def test_a_username_attribute_with_two_values_is_refused(
    login_request, release, settings, caplog
) -> None:
    # Directories do not keep the order of a multi-valued attribute: the first value
    # could name another account at the next sign-in.
    settings.CAS_USERNAME_ATTRIBUTE = "mail"
    User.objects.create_user("shared@example.org")
    release("x1", {"mail": ["shared@example.org", "alice@example.org"]})
    with caplog.at_level(logging.WARNING, logger="django_cas_ng.login"):
        assert sign_in(login_request) is None
    assert "no single mail" in caplog.text
    assert User.objects.count() == 1


def test_a_username_attribute_repeating_one_value_signs_in(
    login_request, release, settings
) -> None:
    settings.CAS_USERNAME_ATTRIBUTE = "uid"
    release("x1", {"uid": ["alice", "alice"]})
    assert sign_in(login_request).username == "alice"


@pytest.mark.parametrize(
    "released",
    [
        "\u212aevin",  # Kelvin sign, which NFC replaces by "K"
        "\u212bngstr\u00f6m",  # Angstrom sign, which NFC replaces by "Å"
    ],
)
def test_a_look_alike_letter_is_not_composed_into_another_users_name(
    login_request, release, released
) -> None:
    taken = unicodedata.normalize("NFC", released)
    owner = User.objects.create_user(taken)
    decomposed = unicodedata.normalize("NFD", taken)
    if decomposed != taken:  # as 5.1 stored a name sent decomposed
        User.objects.create(username=decomposed)
    release(released)
    user = sign_in(login_request)
    assert user is not None and user.pk != owner.pk
    assert user.username == released


# --- custom user models (each in a child process: AUTH_USER_MODEL is fixed at start-up) --------


def on_user_model(model: str, scenario: str, **overrides: Any) -> dict[str, Any]:
    """Run ``scenario`` (a function of this module) in a child Python whose user model is
    ``model`` (of tests/customusers) and whose settings add ``overrides``; its JSON outcome."""
    code = f"from tests.customusers import scenarios; scenarios.{scenario}()"
    config = json.dumps({"AUTH_USER_MODEL": model, **overrides})
    child = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "CUSTOM_USER_SETTINGS": config},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return outcome


def test_staff_and_admin_affiliations_sign_in_a_user_model_without_superuser_or_groups() -> None:
    # 5.1 set the flag on the instance and saved it all; is_superuser is not a field here.
    outcome = on_user_model(
        "customusers.EmailUser",
        "affiliations_without_superuser_field",
        CAS_STAFF_AFFILIATION="staff",
        CAS_ADMIN_AFFILIATION="faculty",
        CAS_MAP_AFFILIATIONS=True,
    )
    assert outcome == {"status": 302, "users": 1, "staff": True}


def test_create_user_with_id_fills_a_primary_key_not_named_id() -> None:
    outcome = on_user_model(
        "customusers.KeyedUser", "id_into_a_primary_key_not_named_id", CAS_CREATE_USER_WITH_ID=True
    )
    assert outcome == {
        "status": 302,
        "pk": "9f0c7a52-3b1e-4d6f-8a2b-5c4d3e2f1a0b",
        "username": "ada",
    }


def test_a_managers_case_insensitive_natural_key_finds_the_user_when_creating_users() -> None:
    # The model says "Ada" is "ada" (as for a password sign-in): no second account.
    outcome = on_user_model("customusers.KeyedUser", "case_insensitive_natural_key")
    assert outcome == {"status": [302, 302], "users": 1, "signed_in": True}


def test_a_name_longer_than_a_30_character_username_is_refused_not_a_500() -> None:
    outcome = on_user_model("customusers.KeyedUser", "name_too_long_for_a_short_username")
    assert outcome == {"status": 403, "users": 0}


def test_a_recheck_naming_the_decomposed_name_of_a_5_1_account_is_the_same_user(rf) -> None:
    request = rf.get("/")
    request.session = SessionStore()
    request.user = User.objects.create(username=DECOMPOSED)
    assert is_signed_in_user(request, DECOMPOSED, {})
    assert is_signed_in_user(request, COMPOSED, {})
    assert not is_signed_in_user(request, "Jose", {})


def test_a_stable_id_user_created_with_id_fills_a_primary_key_not_named_id() -> None:
    outcome = on_user_model(
        "customusers.KeyedUser",
        "stable_id_into_a_primary_key_not_named_id",
        CAS_CREATE_USER_WITH_ID=True,
        CAS_USER_ID_ATTRIBUTE="employeeNumber",
    )
    assert outcome == {
        "status": 302,
        "pk": "3c5e8d1a-7b2f-4e90-a6c4-1d8e9f0b2a7c",
        "username": "grace",
    }


def test_an_account_holding_the_exact_name_wins_over_the_managers_natural_key() -> None:
    outcome = on_user_model("customusers.KeyedUser", "exact_name_before_natural_key")
    assert outcome == {"status": 302, "twin_signed_in": True}


def test_a_saml_username_attribute_with_two_values_is_refused_as_with_cas_3(
    login_request, cas_http, settings
) -> None:
    # python-cas takes the first value for SAML 1.1: the same answer refused over CAS 3
    # must not sign in someone over SAML.
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    settings.CAS_USERNAME_ATTRIBUTE = "mail"
    User.objects.create_user("shared@example.org")
    answer = apereo_saml_success("x1", {"mail": ["shared@example.org", "grace@example.org"]})
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(login_request) is None


def test_a_saml_username_attribute_with_one_value_signs_in(
    login_request, cas_http, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    settings.CAS_USERNAME_ATTRIBUTE = "mail"
    answer = apereo_saml_success("x1", {"mail": ["grace@example.org"]})
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(login_request).username == "grace@example.org"


def test_a_stable_id_user_stored_decomposed_is_not_renamed_for_the_composed_spelling(
    login_request, release, settings
) -> None:
    settings.CAS_USER_ID_ATTRIBUTE = "employeeNumber"
    jose = User.objects.create(username=DECOMPOSED)
    CASIdentity.objects.create(server_url="", uid="E-5", name=DECOMPOSED, user=jose)
    release(DECOMPOSED, {"employeeNumber": "E-5"})
    assert sign_in(login_request) == jose
    jose.refresh_from_db()
    assert jose.username == DECOMPOSED


# --- white space: only what XML pretty-printing adds is trimmed ------------------------------

#: Characters Python's str.strip() removes but no pretty-printer writes: a name ending in one
#: looks like the name without it.
INVISIBLE_PADDING = ["\u00a0", "\u3000", "\u2003", "\u2028", "\x85"]


@pytest.mark.parametrize("pad", INVISIBLE_PADDING)
def test_a_cas_3_name_padded_with_unicode_space_is_not_another_users(
    login_request, release, pad
) -> None:
    root = User.objects.create_superuser("root", password="x")
    release(f"\n   root{pad}\n  ")
    user = sign_in(login_request)
    assert user is not None and user.pk != root.pk
    assert user.username == f"root{pad}"


@pytest.mark.parametrize("pad", INVISIBLE_PADDING[:2])
def test_a_cas_1_name_padded_with_unicode_space_is_not_another_users(
    login_request, cas_http, settings, pad
) -> None:
    settings.CAS_VERSION = "1"
    root = User.objects.create_superuser("root", password="x")
    cas_http.get(
        CAS + "validate", body=cas1_success(f"root{pad}"), headers={"Content-Type": "text/plain"}
    )
    user = sign_in(login_request)
    assert user is not None and user.pk != root.pk


def test_a_saml_name_padded_with_unicode_space_is_not_another_users(
    login_request, cas_http, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    root = User.objects.create_superuser("root", password="x")
    cas_http.post(CAS + "samlValidate", body=apereo_saml_success("root\u00a0", {}))
    user = sign_in(login_request)
    assert user is not None and user.pk != root.pk


def test_a_username_attribute_padded_with_unicode_space_is_not_another_users(
    login_request, release, settings
) -> None:
    settings.CAS_USERNAME_ATTRIBUTE = "uid"
    root = User.objects.create_superuser("root", password="x")
    release("x1", {"uid": "root\u3000"})
    user = sign_in(login_request)
    assert user is not None and user.pk != root.pk


def test_a_default_manager_without_a_natural_key_still_creates_users(
    login_request, release, monkeypatch
) -> None:
    # A CAS-only site may give its user model a plain Manager; 5.1 only called get_or_create.
    plain = models.Manager()
    plain.model = User
    monkeypatch.setattr(User._meta, "default_manager", plain)
    release("grace")
    assert sign_in(login_request).username == "grace"
