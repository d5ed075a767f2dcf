"""What a new site trips over (issue 18, items 9 to 13): each mistake is named, never a 500."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from django_cas_ng import models
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VALIDATE = CAS + "p3/serviceValidate"


@pytest.fixture
def schema_unchecked() -> Iterator[None]:
    """Forget that the tables were found complete, so a test can take one away."""
    models._schema_complete.clear()
    yield
    models._schema_complete.clear()


def drop_table(table: str) -> None:
    """Drop a table inside the test's transaction (rolled back after it)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")


def test_a_sign_in_before_migrate_is_a_503_naming_migrate_and_keeps_the_ticket(
    client: Client, cas_http, schema_unchecked: None, caplog: pytest.LogCaptureFixture
) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    drop_table(models.SessionTicket._meta.db_table)

    with caplog.at_level(logging.ERROR, logger="django_cas_ng"):
        response = client.get(LOGIN + "?ticket=ST-1-fresh")

    assert response.status_code == 503
    assert b"tables have not been created" in response.content
    assert "manage.py migrate" in caplog.text
    assert "CAS server unavailable" not in caplog.text
    assert len(cas_http.calls) == 0  # the ticket was not spent


def test_a_missing_column_is_named_too(schema_unchecked: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE django_cas_ng_sessionticket DROP COLUMN server_url")

    assert models.missing_schema() == ["django_cas_ng_sessionticket.server_url"]


def test_a_complete_schema_is_checked_once(
    schema_unchecked: None, django_assert_num_queries
) -> None:
    assert models.missing_schema() == []
    with django_assert_num_queries(0):
        assert models.missing_schema() == []


def service_next(response) -> str:
    """The ``next`` carried by the service URL of a redirect to CAS."""
    service = parse_qs(urlsplit(response.url).query)["service"][0]
    return parse_qs(urlsplit(service).query)["next"][0]


def test_a_refused_account_is_offered_a_sign_out_at_cas_not_a_sign_in_loop(
    client: Client, cas_http
) -> None:
    get_user_model().objects.create_user("alice", is_active=False)
    cas_http.get(VALIDATE, body=success_xml("alice"))

    page = client.get(LOGIN + "?next=/private/&ticket=ST-1-abc").content.decode()

    assert f'href="{CAS}logout?' in page
    assert f'href="{LOGIN}' not in page
    assert "Sign in again" not in page


def test_signing_in_again_from_the_refusal_page_does_not_nest_next(client: Client) -> None:
    refusal_page = "http://testserver/accounts/login/?next=%2Fprivate%2F&ticket=ST-1-abc"

    response = client.get(LOGIN, HTTP_REFERER=refusal_page)

    assert service_next(response) == "/private/"


def test_a_next_naming_the_login_view_is_unwrapped(client: Client) -> None:
    nested = "/accounts/login/?" + urlencode({"next": "/accounts/login/?next=/private/"})

    response = client.get(LOGIN, {"next": nested})

    assert service_next(response) == "/private/"


def test_a_sign_in_from_the_logout_page_does_not_land_on_the_logout_view(client: Client) -> None:
    response = client.get(LOGIN, HTTP_REFERER="http://testserver/accounts/logout/?next=%2Fa%2F")

    assert service_next(response) == "/a/"


def documented_403_template() -> str:
    """The ``templates/403.html`` of docs/install.rst, as written there."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "install.rst").read_text()
    block = text.split("   {# templates/403.html #}\n", 1)[1].split("\n\n", 1)[0]
    return textwrap.dedent(block)


def test_the_documented_403_page_tells_a_non_staff_user_why_and_how_to_sign_out(
    client: Client, settings, tmp_path: Path
) -> None:
    (tmp_path / "403.html").write_text(documented_403_template())
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    settings.INSTALLED_APPS = ["django.contrib.admin", *settings.INSTALLED_APPS]
    settings.ROOT_URLCONF = "tests.admin_urls"
    client.force_login(get_user_model().objects.create_user("alice"))

    response = client.get("/admin/")

    assert response.status_code == 403
    assert b"You do not have staff privileges." in response.content
    assert b"signed in as alice" in response.content
    assert b'<a href="/accounts/logout/">Sign out</a>' in response.content
    assert response.templates[0].name == "403.html"


def test_the_sign_out_link_of_the_403_page_comes_back_to_the_refused_page(
    client: Client,
) -> None:
    client.force_login(get_user_model().objects.create_user("alice"))
    response = client.get(
        "/accounts/logout/",
        HTTP_SEC_FETCH_SITE="same-origin",
        HTTP_REFERER="http://testserver/admin/",
    )
    assert response.url == CAS + "logout?service=http%3A%2F%2Ftestserver%2Fadmin%2F"
