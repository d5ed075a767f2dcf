"""Session fixation: a session key planted before sign-in is not the signed-in session's key."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db


def test_sign_in_replaces_a_session_key_planted_before_it(client: Client, cas_http) -> None:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    client.cookies["sessionid"] = planted

    client.get("/accounts/login/?next=/private/&ticket=ST-1-abc")

    assert client.session["_auth_user_id"]
    assert client.session.session_key != planted
