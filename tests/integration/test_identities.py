"""Identities, groups and flags through a real CAS server whose directory changes between two
sign-ins: a renamed user, an affiliation taken away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore

from django_cas_ng._internal.http import reset_http_sessions
from tests.casserver import CASServer
from tests.integration.browser import Browser

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

User = get_user_model()


@pytest.fixture
def directory() -> Iterator[CASServer]:
    """A CAS server of its own, since the tests change its users and attributes."""
    attributes = {
        "carol": {"employeeNumber": "E-1001", "affiliation": ["staff", "member"]},
    }
    with CASServer(users={"carol": "carol-password"}, attributes=attributes) as server:
        yield server


@pytest.fixture
def site(live_server: Any, directory: CASServer, settings: Any) -> Any:
    settings.CAS_SERVER_URL = directory.url
    settings.CAS_VERSION = "3"
    reset_http_sessions()
    return settings


def signed_in_user(live_server: Any, directory: CASServer, name: str) -> Any:
    """Sign in as ``name`` with a fresh browser; the local user the session belongs to."""
    browser = Browser(live=live_server.url, cas=directory)
    try:
        flow = browser.sign_in(name, password="carol-password")
        assert flow.landing.status_code == 302, flow.landing.text
        user_id = SessionStore(session_key=browser.session_key)["_auth_user_id"]
    finally:
        browser.session.close()
    return User.objects.get(pk=user_id)


def test_a_user_renamed_at_cas_signs_in_to_the_same_account(
    site: Any, live_server: Any, directory: CASServer
) -> None:
    site.CAS_USER_ID_ATTRIBUTE = "employeeNumber"
    before = signed_in_user(live_server, directory, "carol")

    directory.rename_user("carol", "caroline")
    after = signed_in_user(live_server, directory, "caroline")

    assert after.pk == before.pk
    assert after.get_username() == "caroline"
    assert User.objects.count() == 1


def test_an_affiliation_removed_at_cas_takes_the_flag_and_group_away(
    site: Any, live_server: Any, directory: CASServer
) -> None:
    site.CAS_USER_FLAGS = {"is_staff": {"affiliation": ["staff", "faculty"]}}
    site.CAS_GROUPS_ATTRIBUTE = "affiliation"
    site.CAS_MANAGED_GROUPS = ["staff", "faculty", "member"]
    before = signed_in_user(live_server, directory, "carol")
    assert before.is_staff
    assert sorted(before.groups.values_list("name", flat=True)) == ["member", "staff"]

    directory.set_attributes("carol", {"employeeNumber": "E-1001", "affiliation": ["member"]})
    after = signed_in_user(live_server, directory, "carol")

    assert after.pk == before.pk
    assert not after.is_staff
    assert list(after.groups.values_list("name", flat=True)) == ["member"]
