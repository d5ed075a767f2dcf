"""Groups and flags that follow CAS both ways at each sign-in, limited to what the site lets CAS
manage; 5.1's staff and admin affiliations keep working."""

from __future__ import annotations

import pytest
import responses
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from django_cas_ng.checks import check_identities
from django_cas_ng.conf import REGISTRY
from tests.cas_answers import success_xml

pytestmark = pytest.mark.django_db

CAS = "https://cas.example.com/cas/"
User = get_user_model()


def sign_in(cas_http: responses.RequestsMock, ticket: str, **attributes) -> int:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice", attributes))
    return Client().get(f"/accounts/login/?ticket={ticket}").status_code


def groups_of(username: str = "alice") -> list[str]:
    return sorted(User.objects.get(username=username).groups.values_list("name", flat=True))


@pytest.fixture
def mirrored(settings):
    settings.CAS_GROUPS_ATTRIBUTE = "memberOf"
    settings.CAS_MANAGED_GROUPS = "cas-"
    return settings


def test_groups_are_added_and_removed_at_each_sign_in(mirrored, cas_http) -> None:
    sign_in(cas_http, "ST-1", memberOf=["cas-staff", "cas-library"])
    assert groups_of() == ["cas-library", "cas-staff"]
    sign_in(cas_http, "ST-2", memberOf=["cas-library"])
    assert groups_of() == ["cas-library"]


def test_local_groups_are_left_alone(mirrored, cas_http) -> None:
    alice = User.objects.create_user("alice")
    alice.groups.add(Group.objects.create(name="editors"))
    sign_in(cas_http, "ST-1", memberOf=["cas-staff", "editors"])
    assert groups_of() == ["cas-staff", "editors"]
    sign_in(cas_http, "ST-2")
    assert groups_of() == ["editors"]


def test_a_list_of_managed_groups_limits_them_by_name(mirrored, cas_http) -> None:
    mirrored.CAS_MANAGED_GROUPS = ["staff", "faculty"]
    sign_in(cas_http, "ST-1", memberOf=["staff", "root", "cas-x"])
    assert groups_of() == ["staff"]
    assert not Group.objects.filter(name="root").exists()


def test_flags_follow_any_of_several_values_and_are_revoked(settings, cas_http) -> None:
    settings.CAS_USER_FLAGS = {
        "is_staff": {"affiliation": ["staff", "faculty"]},
        "is_superuser": {"eduPersonEntitlement": ["urn:example:admin"]},
    }
    sign_in(cas_http, "ST-1", affiliation=["member", "faculty"])
    alice = User.objects.get()
    assert (alice.is_staff, alice.is_superuser) == (True, False)
    sign_in(cas_http, "ST-2", affiliation="member", eduPersonEntitlement="urn:example:admin")
    alice.refresh_from_db()
    assert (alice.is_staff, alice.is_superuser) == (False, True)


def test_any_boolean_field_the_site_names_follows(settings, cas_http) -> None:
    settings.CAS_USER_FLAGS = {"is_active": {"accountStatus": ["active"]}}
    assert sign_in(cas_http, "ST-1", accountStatus="active") == 302
    assert sign_in(cas_http, "ST-2", accountStatus="suspended") == 403
    assert not User.objects.get().is_active


def test_the_5_1_staff_and_admin_affiliations_still_set_and_clear(settings, cas_http) -> None:
    settings.CAS_STAFF_AFFILIATION = "staff"
    settings.CAS_ADMIN_AFFILIATION = "it"
    sign_in(cas_http, "ST-1", affiliation=["staff", "it"])
    assert User.objects.filter(is_staff=True, is_superuser=True).exists()
    sign_in(cas_http, "ST-2", affiliation="member")
    assert User.objects.filter(is_staff=False, is_superuser=False).exists()


def test_a_5_1_affiliation_and_a_flag_rule_on_one_field_both_count(settings, cas_http) -> None:
    settings.CAS_STAFF_AFFILIATION = "staff"
    settings.CAS_USER_FLAGS = {"is_staff": {"affiliation": ["faculty"]}}
    sign_in(cas_http, "ST-1", affiliation="staff")
    assert User.objects.get().is_staff
    sign_in(cas_http, "ST-2", affiliation="faculty")
    assert User.objects.get().is_staff


def test_groups_without_managed_groups_is_an_error(settings) -> None:
    settings.CAS_GROUPS_ATTRIBUTE = "memberOf"
    assert "django_cas_ng.E042" in [m.id for m in check_identities()]


def test_a_flag_on_a_field_that_is_not_boolean_is_an_error(settings) -> None:
    settings.CAS_USER_FLAGS = {"email": {"affiliation": ["staff"]}, "nope": {"a": ["b"]}}
    assert [m.id for m in check_identities()] == ["django_cas_ng.E043", "django_cas_ng.E043"]


@pytest.mark.parametrize(
    "value", [{"is_staff": ["staff"]}, {"is_staff": {"affiliation": "staff"}}, ["is_staff"]]
)
def test_malformed_flag_rules_are_refused_by_their_type_rule(value) -> None:
    assert not REGISTRY["CAS_USER_FLAGS"].rule.accepts(value)
