"""CASBackend: every setting and override point of the 5.1 contract, with CAS faked over HTTP."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group, UserManager
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models.query import QuerySet
from django.http import HttpRequest
from django.test import RequestFactory

from django_cas_ng.backends import CASBackend, MappedUser
from django_cas_ng.checks import check_settings
from tests.cas_answers import failure_xml, saml_success, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

User = get_user_model()

SERVICE = "http://testserver/accounts/login/?next=%2F"
VALIDATE = CAS + "p3/serviceValidate"


@pytest.fixture
def login_request(rf: RequestFactory) -> HttpRequest:
    """The request a ticket comes back on, with a session as SessionMiddleware gives it."""
    request = rf.get("/accounts/login/", {"ticket": "ST-1-abc"})
    request.session = SessionStore()
    return request


@pytest.fixture
def release(cas_http: responses.RequestsMock) -> Callable[..., None]:
    """Make the fake CAS server accept the next ticket for ``user`` with these attributes."""

    def answer(user: str = "alice", attributes: dict[str, Any] | None = None, **kw: Any) -> None:
        cas_http.get(VALIDATE, body=success_xml(user, attributes, **kw))

    return answer


def sign_in(
    request: HttpRequest | None, backend: CASBackend | None = None, ticket: str = "ST-1-abc"
) -> Any:
    return (backend or CASBackend()).authenticate(request, ticket=ticket, service=SERVICE)


# --- the username ----------------------------------------------------------------------------


def test_username_is_the_cas_user(login_request, release) -> None:
    release("alice")
    assert sign_in(login_request).username == "alice"


def test_refused_ticket_returns_none(login_request, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    assert sign_in(login_request) is None
    assert not User.objects.exists()


def test_django_authenticate_reaches_the_cas_backend(login_request, release) -> None:
    release("alice")
    user = authenticate(login_request, ticket="ST-1-abc", service=SERVICE)
    assert user is not None
    assert user.backend == "django_cas_ng.backends.CASBackend"


def test_username_attribute_replaces_the_cas_user(login_request, release, settings) -> None:
    settings.CAS_USERNAME_ATTRIBUTE = "uid"
    release("12345", {"uid": "alice"})
    assert sign_in(login_request).username == "alice"


def test_missing_username_attribute_refuses_login(login_request, release, settings) -> None:
    settings.CAS_USERNAME_ATTRIBUTE = "uid"
    release("alice", {"mail": "alice@example.org"})
    assert sign_in(login_request) is None


def test_username_attribute_is_not_applied_for_saml(login_request, cas_http, settings) -> None:
    """With SAML 1.1, python-cas itself picks the username attribute; the backend keeps it."""
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    settings.CAS_USERNAME_ATTRIBUTE = "uid"
    cas_http.post(CAS + "samlValidate", body=saml_success("alice", {"mail": "a@example.org"}))
    assert sign_in(login_request).username == "alice"


def test_username_longer_than_the_user_model_allows_is_refused(login_request, release) -> None:
    """A name the username column cannot hold refuses the sign-in (PostgreSQL would raise)."""
    release("a" * 151)
    assert sign_in(login_request) is None
    assert not User.objects.exists()


def test_force_change_username_case_lower(login_request, release, settings) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "lower"
    release("Alice")
    assert sign_in(login_request).username == "alice"


def test_force_change_username_case_upper(login_request, release, settings) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "upper"
    release("Alice")
    assert sign_in(login_request).username == "ALICE"


def test_invalid_username_case_is_improperly_configured(login_request, release, settings) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "title"
    release("alice")
    with pytest.raises(ImproperlyConfigured, match="CAS_FORCE_CHANGE_USERNAME_CASE"):
        sign_in(login_request)


# --- finding or creating the user ------------------------------------------------------------


def test_unknown_user_is_created(login_request, release) -> None:
    release("alice")
    user = sign_in(login_request)
    assert User.objects.get(username="alice") == user


def test_known_user_is_reused(login_request, release) -> None:
    existing = User.objects.create(username="alice")
    release("alice")
    assert sign_in(login_request) == existing
    assert User.objects.count() == 1


def test_unknown_user_is_refused_without_create_user(login_request, release, settings) -> None:
    settings.CAS_CREATE_USER = False
    release("alice")
    assert sign_in(login_request) is None
    assert not User.objects.exists()


def test_known_user_signs_in_without_create_user(login_request, release, settings) -> None:
    settings.CAS_CREATE_USER = False
    existing = User.objects.create(username="alice")
    release("alice")
    assert sign_in(login_request) == existing


def test_lookup_without_create_user_uses_the_managers_natural_key(
    login_request, release, settings
) -> None:
    """As in 5.1, a custom ``get_by_natural_key`` (say, case-insensitive) is honoured."""
    settings.CAS_CREATE_USER = False
    existing = User.objects.create(username="alice")

    def case_insensitive(manager: UserManager, username: str) -> Any:
        return manager.get(username__iexact=username)

    release("ALICE")
    with mock.patch.object(UserManager, "get_by_natural_key", case_insensitive):
        assert sign_in(login_request) == existing


def test_local_name_field_looks_users_up_by_that_field(login_request, release, settings) -> None:
    settings.CAS_CREATE_USER = False
    settings.CAS_LOCAL_NAME_FIELD = "email"
    existing = User.objects.create(username="a123", email="alice@example.org")
    release("alice@example.org")
    assert sign_in(login_request) == existing


def test_create_user_with_id_uses_the_id_attribute_as_primary_key(
    login_request, release, settings
) -> None:
    settings.CAS_CREATE_USER_WITH_ID = True
    release("alice", {"id": "4242"})
    assert sign_in(login_request).pk == 4242


def test_create_user_with_id_without_id_attribute_is_improperly_configured(
    login_request, release, settings
) -> None:
    settings.CAS_CREATE_USER_WITH_ID = True
    release("alice", {"mail": "alice@example.org"})
    with pytest.raises(ImproperlyConfigured, match="'id'"):
        sign_in(login_request)


def test_create_user_with_id_without_any_attributes_is_improperly_configured(
    login_request, release, settings
) -> None:
    settings.CAS_CREATE_USER_WITH_ID = True
    release("alice")
    with pytest.raises(ImproperlyConfigured, match="CAS_CREATE_USER_WITH_ID"):
        sign_in(login_request)


def test_concurrent_first_logins_create_one_user(transactional_db, cas_http) -> None:
    """Two first logins of one user: both SELECT before either INSERTs, and both succeed.

    The interleaving is forced: each thread's lookup of the user finds nothing, both wait
    until the other has looked too, then the first inserts and commits before the second
    inserts and hits the unique constraint. SQLite's shared-cache test database would
    otherwise lock the table for the reader; ``read_uncommitted`` lifts that read lock.
    """
    cas_http.get(VALIDATE, body=success_xml("alice"))
    both_looked = threading.Barrier(2, timeout=10)
    first_committed = threading.Event()
    looked: set[str] = set()
    real_get = QuerySet.get

    def get_then_wait(queryset: QuerySet, *args: Any, **kwargs: Any) -> Any:
        name = threading.current_thread().name
        if queryset.model is not User or name in looked:
            return real_get(queryset, *args, **kwargs)
        looked.add(name)
        try:
            return real_get(queryset, *args, **kwargs)
        finally:
            both_looked.wait()
            if name == "second":
                first_committed.wait(timeout=10)

    inserts: list[str] = []
    real_create = QuerySet.create

    def record_create(queryset: QuerySet, **kwargs: Any) -> Any:
        if queryset.model is User:
            inserts.append(threading.current_thread().name)
        return real_create(queryset, **kwargs)

    users: dict[str, Any] = {}
    errors: list[BaseException] = []

    def first_login(name: str) -> None:
        try:
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA read_uncommitted = 1")
            users[name] = sign_in(None, ticket=f"ST-1-{name}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            if name == "first":
                first_committed.set()
            connections.close_all()

    with (
        mock.patch.object(QuerySet, "get", get_then_wait),
        mock.patch.object(QuerySet, "create", record_create),
    ):
        threads = [
            threading.Thread(target=first_login, args=(n,), name=n) for n in ("first", "second")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert sorted(inserts) == ["first", "second"]  # both really tried to insert
    assert User.objects.filter(username="alice").count() == 1
    assert users["first"].pk == users["second"].pk


# --- attributes ------------------------------------------------------------------------------


def test_released_attributes_are_stored_in_the_session(login_request, release) -> None:
    release("alice", {"mail": "alice@example.org", "memberOf": ["a", "b"]})
    sign_in(login_request)
    assert login_request.session["attributes"] == {
        "mail": "alice@example.org",
        "memberOf": ["a", "b"],
    }


def test_rename_attributes_renames_released_keys(login_request, release, settings) -> None:
    settings.CAS_RENAME_ATTRIBUTES = {"mail": "email"}
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {"mail": "alice@example.org"})
    assert sign_in(login_request).email == "alice@example.org"


def test_attributes_are_not_applied_to_the_user_by_default(login_request, release) -> None:
    release("alice", {"email": "alice@example.org"})
    assert sign_in(login_request).email == ""


def test_apply_attributes_copies_attributes_onto_model_fields(
    login_request, release, settings
) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {"email": "alice@example.org", "first_name": "Alice", "shoeSize": "38"})
    sign_in(login_request)
    user = User.objects.get(username="alice")
    assert (user.email, user.first_name) == ("alice@example.org", "Alice")


def test_apply_attributes_updates_returning_users(login_request, release, settings) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    User.objects.create(username="alice", email="old@example.org")
    release("alice", {"email": "new@example.org"})
    sign_in(login_request)
    assert User.objects.get(username="alice").email == "new@example.org"


@pytest.mark.parametrize(
    ("released", "expected"),
    [("True", True), ("true", True), ("1", True), ("False", False), ("false", False), ("0", False)],
)
def test_apply_attributes_coerces_booleans(
    login_request, release, settings, released: str, expected: bool
) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {"is_active": released})
    sign_in(login_request)
    assert User.objects.get(username="alice").is_active is expected


def test_apply_attributes_stores_empty_string_for_none_in_non_null_fields(
    login_request, release, settings
) -> None:
    """An empty ``<cas:first_name/>`` is released as None; ``first_name`` is NOT NULL."""
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    User.objects.create(username="alice", first_name="Old")
    release("alice", {"first_name": ""})
    sign_in(login_request)
    assert User.objects.get(username="alice").first_name == ""


def test_apply_attributes_never_overwrites_the_username(login_request, release, settings) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {"username": "mallory"})
    assert sign_in(login_request).username == "alice"
    assert not User.objects.filter(username="mallory").exists()


def test_apply_attributes_sets_staff_and_superuser_flags_as_in_5_1(
    login_request, release, settings
) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {"is_staff": "True", "is_superuser": "True"})
    user = User.objects.get(pk=sign_in(login_request).pk)
    assert (user.is_staff, user.is_superuser) == (True, True)


def test_apply_attributes_false_string_removes_staff_flag(login_request, release, settings) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    User.objects.create(username="alice", is_staff=True)
    release("alice", {"is_staff": "False"})
    sign_in(login_request)
    assert User.objects.get(username="alice").is_staff is False


def test_apply_attributes_list_writes_only_the_listed_fields(
    login_request, release, settings
) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = ["email"]
    release("alice", {"email": "alice@example.org", "first_name": "Alice", "is_staff": "True"})
    user = User.objects.get(pk=sign_in(login_request).pk)
    assert (user.email, user.first_name, user.is_staff) == ("alice@example.org", "", False)


def test_apply_attributes_never_writes_password_last_login_or_primary_key(
    login_request, release, settings
) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = ["id", "password", "last_login", "username"]
    release(
        "alice",
        {"id": "999", "password": "x", "last_login": "2020-01-01T00:00:00Z", "username": "bob"},
    )
    user = User.objects.get(pk=sign_in(login_request).pk)
    assert user.pk != 999
    assert (user.username, user.password, user.last_login) == ("alice", "", None)


def test_apply_attributes_logs_each_staff_flag_change_at_info(
    login_request, release, settings, caplog
) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {"is_superuser": "True", "first_name": "Alice"})
    with caplog.at_level(logging.INFO, logger="django_cas_ng"):
        sign_in(login_request)
    audit = [r for r in caplog.records if "is_superuser" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in audit] == [
        (logging.INFO, "CAS attribute changed is_superuser of alice: False -> True")
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("date_joined", "not-a-date"), ("first_name", "x" * 151), ("is_staff", "maybe")],
)
def test_apply_attributes_skips_a_value_the_field_cannot_hold_with_a_warning(
    client, release, settings, caplog, field: str, value: str
) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {field: value, "email": "alice@example.org"})
    with caplog.at_level(logging.WARNING, logger="django_cas_ng"):
        response = client.get("/accounts/login/?ticket=ST-1-abc")
    assert response.status_code == 302
    assert User.objects.get(username="alice").email == "alice@example.org"
    assert any(f"Did not apply attribute {field!r}" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", ["yes", 1, ["email", 2]])
def test_apply_attributes_setting_of_another_type_is_check_e009(settings, value) -> None:
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = value
    errors = [e for e in check_settings() if "CAS_APPLY_ATTRIBUTES_TO_USER" in e.msg]
    assert [e.id for e in errors] == ["django_cas_ng.E009"]


def test_attributes_of_an_inactive_user_are_not_stored(login_request, release) -> None:
    User.objects.create(username="alice", is_active=False)
    release("alice", {"mail": "alice@example.org"})
    sign_in(login_request)
    assert "attributes" not in login_request.session


def test_user_deactivated_by_a_released_attribute_is_refused(
    login_request, release, settings
) -> None:
    """An ``is_active`` attribute of false refuses this sign-in, not only the next request."""
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    release("alice", {"is_active": "false", "mail": "alice@example.org"})
    assert sign_in(login_request) is None
    assert User.objects.get(username="alice").is_active is False
    assert "attributes" not in login_request.session


def test_attributes_refused_by_bad_attributes_reject_are_not_stored(login_request, release) -> None:
    class NobodyAllowed(CASBackend):
        def bad_attributes_reject(self, request, username, attributes) -> bool:
            return True

    release("alice", {"mail": "alice@example.org"})
    sign_in(login_request, NobodyAllowed())
    assert "attributes" not in login_request.session


def test_a_login_without_attributes_replaces_the_previous_ones(login_request, release) -> None:
    login_request.session["attributes"] = {"mail": "previous@example.org"}
    release("alice")
    sign_in(login_request)
    assert "attributes" not in login_request.session


# --- affiliations ----------------------------------------------------------------------------


def test_map_affiliations_adds_user_to_a_group_per_affiliation(
    login_request, release, settings
) -> None:
    settings.CAS_MAP_AFFILIATIONS = True
    release("alice", {"affiliation": ["staff", "member"]})
    user = sign_in(login_request)
    assert set(user.groups.values_list("name", flat=True)) == {"staff", "member"}


def test_affiliations_are_not_mapped_to_groups_by_default(login_request, release) -> None:
    release("alice", {"affiliation": ["staff", "member"]})
    sign_in(login_request)
    assert not Group.objects.exists()


def test_affiliations_key_names_the_affiliation_attribute(login_request, release, settings) -> None:
    settings.CAS_MAP_AFFILIATIONS = True
    settings.CAS_AFFILIATIONS_KEY = "eduPersonAffiliation"
    release("alice", {"eduPersonAffiliation": "member", "affiliation": "ignored"})
    assert list(sign_in(login_request).groups.values_list("name", flat=True)) == ["member"]


def test_affiliations_handlers_are_called_with_user_and_affiliations(
    login_request, release, settings
) -> None:
    handler = mock.Mock()
    settings.CAS_AFFILIATIONS_HANDLERS = [handler]
    release("alice", {"affiliation": ["staff", "member"]})
    user = sign_in(login_request)
    handler.assert_called_once_with(user, ["staff", "member"])


def test_staff_affiliation_sets_is_staff(login_request, release, settings) -> None:
    settings.CAS_STAFF_AFFILIATION = "staff"
    release("alice", {"affiliation": ["staff", "member"]})
    sign_in(login_request)
    assert User.objects.get(username="alice").is_staff is True


def test_staff_affiliation_removes_is_staff_when_absent(login_request, release, settings) -> None:
    settings.CAS_STAFF_AFFILIATION = "staff"
    User.objects.create(username="alice", is_staff=True)
    release("alice", {"affiliation": "member"})
    sign_in(login_request)
    assert User.objects.get(username="alice").is_staff is False


def test_staff_affiliation_removes_is_staff_when_no_attributes_are_released(
    login_request, release, settings
) -> None:
    settings.CAS_STAFF_AFFILIATION = "staff"
    User.objects.create(username="alice", is_staff=True)
    release("alice")
    sign_in(login_request)
    assert User.objects.get(username="alice").is_staff is False


def test_admin_affiliation_sets_is_superuser(login_request, release, settings) -> None:
    settings.CAS_ADMIN_AFFILIATION = "admin"
    release("alice", {"affiliation": ["admin"]})
    sign_in(login_request)
    assert User.objects.get(username="alice").is_superuser is True


def test_admin_affiliation_removes_is_superuser_when_absent(
    login_request, release, settings
) -> None:
    settings.CAS_ADMIN_AFFILIATION = "admin"
    User.objects.create(username="alice", is_superuser=True)
    release("alice", {"affiliation": ["staff"]})
    sign_in(login_request)
    assert User.objects.get(username="alice").is_superuser is False


def test_staff_flag_is_left_alone_without_staff_affiliation(login_request, release) -> None:
    User.objects.create(username="alice", is_staff=True)
    release("alice", {"affiliation": ["member"]})
    sign_in(login_request)
    assert User.objects.get(username="alice").is_staff is True


# --- override points -------------------------------------------------------------------------


def test_bad_attributes_reject_refuses_login(login_request, release) -> None:
    class MembersOnly(CASBackend):
        def bad_attributes_reject(self, request, username, attributes) -> bool:
            return "member" not in attributes.get("affiliation", [])

    release("alice", {"affiliation": ["guest"]})
    assert sign_in(login_request, MembersOnly()) is None
    assert not User.objects.exists()


def test_bad_attributes_reject_sees_request_username_and_attributes(login_request, release) -> None:
    seen: list[tuple[Any, ...]] = []

    class Recording(CASBackend):
        def bad_attributes_reject(self, request, username, attributes) -> bool:
            seen.append((request, username, dict(attributes)))
            return False

    release("alice", {"affiliation": "member"})
    sign_in(login_request, Recording())
    assert seen == [(login_request, "alice", {"affiliation": "member"})]


def test_clean_username_override_decides_the_username(login_request, release) -> None:
    class StripRealm(CASBackend):
        def clean_username(self, username: str) -> str:
            return super().clean_username(username).split("@", 1)[0]

    release("alice@campus.example")
    assert sign_in(login_request, StripRealm()).username == "alice"


def test_configure_user_is_called_only_when_the_user_is_created(login_request, cas_http) -> None:
    configured: list[str] = []

    class Configuring(CASBackend):
        def configure_user(self, user: Any) -> Any:
            configured.append(user.username)
            return user

    cas_http.get(VALIDATE, body=success_xml("alice"))
    sign_in(login_request, Configuring())
    sign_in(login_request, Configuring())
    assert configured == ["alice"]


def test_inactive_user_is_refused(login_request, release) -> None:
    User.objects.create(username="alice", is_active=False)
    release("alice")
    assert sign_in(login_request) is None


def test_user_can_authenticate_override_refuses_login(login_request, release) -> None:
    class NobodyOnSundays(CASBackend):
        def user_can_authenticate(self, user: Any) -> bool:
            return False

    release("alice")
    assert sign_in(login_request, NobodyOnSundays()) is None


# --- proxy granting ticket IOU ---------------------------------------------------------------


def test_pgtiou_is_stored_in_session_with_proxy_callback(login_request, release, settings) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    release("alice", pgtiou="PGTIOU-1")
    sign_in(login_request)
    assert login_request.session["pgtiou"] == "PGTIOU-1"


def test_pgtiou_is_not_stored_without_proxy_callback(login_request, release) -> None:
    release("alice", pgtiou="PGTIOU-1")
    sign_in(login_request)
    assert "pgtiou" not in login_request.session


def test_proxy_callback_is_sent_as_pgturl(login_request, cas_http, settings) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    cas_http.get(VALIDATE, body=success_xml("alice"))
    sign_in(login_request)
    sent = parse_qs(urlsplit(cas_http.calls[0].request.url).query)
    assert sent["pgtUrl"] == ["https://testserver/accounts/callback/"]


# --- protocol versions and renew -------------------------------------------------------------


def test_cas1_login_works(login_request, cas_http, settings) -> None:
    """python-cas returns ``attributes=None`` for CAS 1; 5.1 crashed with TypeError here."""
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body="yes\nalice\n")
    user = sign_in(login_request)
    assert user.username == "alice"
    assert "attributes" not in login_request.session


def test_cas1_refusal_returns_none(login_request, cas_http, settings) -> None:
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body="no\n\n")
    assert sign_in(login_request) is None


@pytest.mark.parametrize(
    ("version", "endpoint"),
    [("1", "validate"), ("2", "serviceValidate"), ("3", "p3/serviceValidate")],
)
def test_renew_sends_renew_true_on_validation(
    login_request, cas_http, settings, version: str, endpoint: str
) -> None:
    settings.CAS_VERSION = version
    settings.CAS_RENEW = True
    body = "yes\nalice\n" if version == "1" else success_xml("alice")
    cas_http.get(CAS + endpoint, body=body)
    sign_in(login_request)
    assert parse_qs(urlsplit(cas_http.calls[0].request.url).query)["renew"] == ["true"]


def test_validation_does_not_send_renew_by_default(login_request, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    sign_in(login_request)
    assert "renew" not in parse_qs(urlsplit(cas_http.calls[0].request.url).query)


# --- the patch points 5.1 users' own tests rely on -------------------------------------------


@pytest.mark.parametrize("version", ["2", "3"])
def test_patching_python_cas_verify_ticket_still_works(login_request, settings, version) -> None:
    settings.CAS_VERSION = version
    answer = ("alice", {"mail": "alice@example.org"}, None)
    with mock.patch("cas.CASClientV2.verify_ticket", return_value=answer) as verify:
        user = sign_in(login_request)
    verify.assert_called_once_with("ST-1-abc")
    assert user.username == "alice"
    assert login_request.session["attributes"] == {"mail": "alice@example.org"}


def test_patching_backends_get_cas_client_still_works(login_request) -> None:
    client = mock.Mock()
    client.verify_ticket.return_value = ("alice", {"mail": "alice@example.org"}, None)
    with mock.patch("django_cas_ng.backends.get_cas_client", return_value=client) as factory:
        user = sign_in(login_request)
    factory.assert_called_once_with(service_url=SERVICE, request=login_request)
    assert user.username == "alice"


# --- one mapping for sign-in and proxy tickets -----------------------------------------------


class NoGuests(CASBackend):
    """Refuses the user ``guest`` in the one mapping step both kinds of ticket go through."""

    def user_from_answer(self, request, username, attributes) -> MappedUser:
        if username == "guest":
            return MappedUser(None, False, username, dict(attributes), "no guests")
        return super().user_from_answer(request, username, attributes)


def test_user_from_answer_override_refuses_sign_in(login_request, release) -> None:
    release("guest")
    assert sign_in(login_request, NoGuests()) is None


def test_user_from_answer_override_refuses_proxy_tickets(cas_http, settings) -> None:
    from django_cas_ng._internal.presented import authenticate_proxy_ticket
    from django_cas_ng.exceptions import TicketValidationError
    from tests.test_proxy_auth import P3_SERVICE_VALIDATE, proxy_validate_xml

    settings.AUTHENTICATION_BACKENDS = ["tests.test_backends.NoGuests"]
    cas_http.get(P3_SERVICE_VALIDATE, body=proxy_validate_xml(user="guest", proxies=()))
    with pytest.raises(TicketValidationError):
        authenticate_proxy_ticket(RequestFactory().get("/api/"), "PT-1-abc")
