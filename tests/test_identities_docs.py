"""The examples of docs/identities.rst, run as written: each ``# settings.py`` block is applied
and signed in against; the code block linking a second server's name runs as is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import responses
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from django_cas_ng.models import CASIdentity
from tests.cas_answers import success_xml

pytestmark = pytest.mark.django_db

PAGE = Path(__file__).resolve().parents[1] / "docs" / "identities.rst"
CAS = "https://cas.example.com/cas/"
User = get_user_model()


def python_blocks() -> list[str]:
    """The page's ``.. code-block:: python`` blocks, dedented."""
    blocks = []
    lines = PAGE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.fullmatch(r"(\s*)\.\. code-block:: python", line)
        if not match:
            continue
        body: list[str] = []
        for following in lines[number + 2 :]:
            if following.strip() and not following.startswith(match[1] + " "):
                break
            body.append(following)
        indent = min(len(b) - len(b.lstrip()) for b in body if b.strip())
        blocks.append("\n".join(b[indent:] for b in body).strip() + "\n")
    return blocks


def settings_block(marker: str) -> dict[str, Any]:
    """The ``CAS_*`` names of the settings block that mentions ``marker``."""
    (block,) = [b for b in python_blocks() if b.startswith("# settings.py") and marker in b]
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    return {name: value for name, value in namespace.items() if name.startswith("CAS_")}


def sign_in(cas_http: responses.RequestsMock, ticket: str, name: str, **attributes: Any) -> Any:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml(name, attributes))
    client = Client()
    response = client.get(f"/accounts/login/?ticket={ticket}")
    return response, client


def test_every_python_block_of_the_page_is_run_by_a_test() -> None:
    blocks = python_blocks()
    assert len(blocks) == 4
    assert sum(b.startswith("# settings.py") for b in blocks) == 3


def test_the_linking_example_makes_two_servers_names_one_account() -> None:
    (block,) = [b for b in python_blocks() if "CASIdentity.objects.create" in b]
    alice = User.objects.create_user("alice")
    exec(block, {"alice": alice})
    assert CASIdentity.objects.get().user == alice


def test_the_stable_id_example(settings, cas_http) -> None:
    for name, value in settings_block("CAS_USER_ID_ATTRIBUTE").items():
        setattr(settings, name, value)
    sign_in(cas_http, "ST-1", "alice", employeeNumber="700123")
    sign_in(cas_http, "ST-2", "alice.smith", employeeNumber="700123")
    assert list(User.objects.values_list("username", flat=True)) == ["alice.smith"]


def test_the_mirroring_example(settings, cas_http) -> None:
    for name, value in settings_block("CAS_GROUPS_ATTRIBUTE").items():
        setattr(settings, name, value)
    alice = User.objects.create_user("alice")
    alice.groups.add(Group.objects.create(name="editors"))
    sign_in(cas_http, "ST-1", "alice", memberOf=["cas-library", "root"], affiliation="staff")
    alice.refresh_from_db()
    assert alice.is_staff
    assert sorted(alice.groups.values_list("name", flat=True)) == ["cas-library", "editors"]
    sign_in(cas_http, "ST-2", "alice", affiliation="member")
    alice.refresh_from_db()
    assert not alice.is_staff
    assert list(alice.groups.values_list("name", flat=True)) == ["editors"]


def test_the_access_rules_example(settings, cas_http) -> None:
    for name, value in settings_block("CAS_ACCESS_RULES").items():
        setattr(settings, name, value)
    refused, _ = sign_in(cas_http, "ST-1", "bob", affiliation="student")
    assert refused.status_code == 403
    assert "staff or faculty" in refused.content.decode()
    social, _ = sign_in(cas_http, "ST-2", "carol", affiliation="staff", clientName="FacebookClient")
    assert "no social sign-in" in social.content.decode()
    remembered, client = sign_in(
        cas_http,
        "ST-3",
        "dave",
        affiliation="faculty",
        longTermAuthenticationRequestTokenUsed="true",
    )
    assert remembered.status_code == 302
    assert client.session.get_expiry_age() == 3600
