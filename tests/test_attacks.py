"""Attacks of the fourth round (docs/security.rst, rows 20.n), each against the real views
with the CAS server faked by ``responses``."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"


def test_a_username_with_a_line_break_cannot_forge_a_log_line(
    client: Client, cas_http, caplog
) -> None:
    """A CAS name carrying CR/LF (a character reference in the answer) stays on one line."""
    forged = "mallory&#13;&#10;INFO django_cas_ng.login Signed in root"
    cas_http.get(VALIDATE, body=success_xml(forged))
    with caplog.at_level(logging.DEBUG, logger="django_cas_ng"):
        client.get("/accounts/login/?next=/&ticket=ST-1-abc")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("django")]
    signed_in = [line for line in lines if line.startswith("Signed in mallory")]
    assert signed_in and not [line for line in lines if "\n" in line or "\r" in line]
    assert "\\r\\nINFO" in signed_in[0]
