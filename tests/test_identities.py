"""Who a CAS user is: identities by (server, id) with several CAS servers, sessions bound to the
server that signed them in, and a single-server site unchanged."""

from __future__ import annotations

import itertools
from io import StringIO
from typing import Any

import pytest
import responses
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.urls import path

from django_cas_ng._internal.presented import proxy_ticket_required
from django_cas_ng.backends import CASBackend
from django_cas_ng.checks import check_identities
from django_cas_ng.models import CASIdentity
from django_cas_ng.stepup import SESSION_KEY as STEPUP_KEY
from django_cas_ng.stepup import stepup_required
from tests import tenants
from tests import urls as suite_urls
from tests.cas_answers import success_xml
from tests.tenants import CAS_A, CAS_B

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

LOGIN = "/accounts/login/"
CAS = "https://cas.example.com/cas/"
User = get_user_model()


@proxy_ticket_required
def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.user.pk}")


@stepup_required(max_age=300)
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


async def async_home(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(f"home {user.get_username()}")


urlpatterns = [
    *suite_urls.urlpatterns,
    path("api/whoami/", whoami),
    path("payroll/", payroll),
    path("async-home/", async_home),
]


@pytest.fixture
def two_servers(settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example", "testserver"]
    settings.CAS_SERVER_URL = tenants.server_for_host
    return settings


#: A fresh ticket per sign-in: the replay guard refuses one presented twice.
TICKETS = itertools.count(1)


def sign_in(
    client: Client, host: str, cas_http: responses.RequestsMock, ticket: str, user: str = "alice"
) -> None:
    cas_http.get(tenants.SERVERS[host] + "p3/serviceValidate", body=success_xml(user))
    response = client.get(f"{LOGIN}?ticket={ticket}", HTTP_HOST=host)
    assert response.status_code == 302, response.content


def home(client: Client, host: str) -> str:
    return client.get("/", HTTP_HOST=host).content.decode()


# --- several servers: a server names only its own users -----------------------------------


def test_server_b_cannot_sign_in_as_server_as_user(two_servers, client, cas_http) -> None:
    a_alice = User.objects.create_user("alice", is_superuser=True, is_staff=True)
    call_command("cas_link_users", CAS_A, stdout=StringIO())
    sign_in(client, "b.example", cas_http, "ST-1-b")
    b_alice = User.objects.get(pk=client.session["_auth_user_id"])
    assert b_alice.pk != a_alice.pk
    assert not b_alice.is_superuser
    assert b_alice.get_username() == "alice@cas-b.example.org"


def test_each_server_keeps_its_own_user_for_the_same_name(two_servers, cas_http) -> None:
    a, b = Client(), Client()
    sign_in(a, "a.example", cas_http, "ST-1-a")
    sign_in(b, "b.example", cas_http, "ST-2-b")
    again = Client()
    sign_in(again, "a.example", cas_http, "ST-3-a")
    assert a.session["_auth_user_id"] == again.session["_auth_user_id"]
    assert a.session["_auth_user_id"] != b.session["_auth_user_id"]
    assert set(CASIdentity.objects.values_list("server_url", "uid")) == {
        (CAS_A, "alice"),
        (CAS_B, "alice"),
    }


def test_a_site_may_link_two_servers_names_to_one_account(two_servers, client, cas_http) -> None:
    alice = User.objects.create_user("alice")
    CASIdentity.objects.create(server_url=CAS_A, uid="alice", name="alice", user=alice)
    CASIdentity.objects.create(server_url=CAS_B, uid="a.liddell", name="a.liddell", user=alice)
    sign_in(client, "b.example", cas_http, "ST-1-b", user="a.liddell")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_without_user_creation_an_unlinked_name_is_refused(two_servers, client, cas_http) -> None:
    two_servers.CAS_CREATE_USER = False
    User.objects.create_user("alice")
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("alice"))
    response = client.get(f"{LOGIN}?ticket=ST-1-b", HTTP_HOST="b.example")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# --- several servers: a session belongs to the server that signed it in -------------------


def test_a_session_of_server_b_is_not_signed_in_on_host_a(two_servers, client, cas_http) -> None:
    sign_in(client, "b.example", cas_http, "ST-1-b")
    assert home(client, "b.example") == "home alice"
    assert home(client, "a.example") == "home "
    private = client.get("/private/", HTTP_HOST="a.example")
    assert private.status_code == 302 and private.url.startswith(LOGIN)


def test_a_session_of_server_b_is_anonymous_on_host_a_in_async_views(settings, cas_http) -> None:
    # The async test client always sends Host: testserver; a header picks the tenant here.
    settings.CAS_SERVER_URL = lambda request: CAS_A if request.headers.get("X-Tenant") else CAS_B
    client = Client()
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("alice"))
    assert client.get(f"{LOGIN}?ticket=ST-1-b").status_code == 302
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    on_a = async_to_sync(async_client.get)("/async-home/", headers={"X-Tenant": "a"})
    on_b = async_to_sync(async_client.get)("/async-home/")
    assert on_a.content == b"home "
    assert on_b.content == b"home alice"


def test_a_cas_session_without_a_recorded_server_is_not_signed_in(
    two_servers, client, cas_http
) -> None:
    sign_in(client, "a.example", cas_http, "ST-1-a")
    session = client.session
    del session["_cas_ng_server"]  # signed in before the upgrade
    session.save()
    assert home(client, "a.example") == "home "


def test_a_password_sign_in_is_not_bound_to_a_server(two_servers, client) -> None:
    User.objects.create_user("admin", password="pw")
    assert client.login(username="admin", password="pw")
    assert home(client, "a.example") == "home admin"


def test_a_proxy_ticket_validated_by_server_b_is_not_server_as_user(
    two_servers, client, cas_http
) -> None:
    sign_in(client, "a.example", cas_http, "ST-1-a")
    a_alice = client.session["_auth_user_id"]
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("alice"))
    answer = Client().get("/api/whoami/", HTTP_HOST="b.example", HTTP_AUTHORIZATION="CAS ST-2-b")
    assert answer.status_code == 200
    assert answer.content.decode() != a_alice
    assert CASIdentity.objects.get(server_url=CAS_B).user_id == int(answer.content)


def test_a_stepup_done_at_server_b_does_not_pass_host_a(two_servers, client, cas_http) -> None:
    sign_in(client, "a.example", cas_http, "ST-1-a")
    session = client.session
    # The record a step-up at B leaves; the session then comes back to A.
    session[STEPUP_KEY] = {"user": "alice", "server": CAS_B, "at": 9e9, "params": {}}
    session[STEPUP_KEY]["attributes"] = {}
    session.save()
    response = client.get("/payroll/", HTTP_HOST="a.example")
    assert response.status_code == 302 and "/accounts/stepup/" in response.url


# --- moving a single-server site to several servers ---------------------------------------


def test_link_users_claims_existing_accounts_for_the_first_server(
    two_servers, client, cas_http
) -> None:
    alice = User.objects.create_user("alice")
    out = StringIO()
    call_command("cas_link_users", CAS_A, stdout=out)
    assert "1 user(s) linked by name" in out.getvalue()
    sign_in(client, "a.example", cas_http, "ST-1-a")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_link_users_dry_run_changes_nothing(two_servers) -> None:
    User.objects.create_user("alice")
    out = StringIO()
    call_command("cas_link_users", CAS_A, "--dry-run", stdout=out)
    assert "would" in out.getvalue()
    assert not CASIdentity.objects.exists()


def test_link_users_refuses_a_server_that_is_not_a_url() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("cas_link_users", "cas-a", stdout=StringIO())


def test_several_servers_without_cas_middleware_is_an_error(two_servers) -> None:
    two_servers.MIDDLEWARE = [m for m in two_servers.MIDDLEWARE if "CASMiddleware" not in m]
    assert [m.id for m in check_identities()] == ["django_cas_ng.E040"]


def test_a_single_server_site_needs_no_cas_middleware_check(settings) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CASMiddleware" not in m]
    assert check_identities() == []


# --- a single-server site: 5.1's behaviour at 5.1's cost ----------------------------------


def test_single_server_login_finds_the_user_by_name(client, cas_http) -> None:
    alice = User.objects.create_user("alice")
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    client.get(f"{LOGIN}?ticket=ST-1")
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert "_cas_ng_server" not in client.session
    assert not CASIdentity.objects.exists()


def test_single_server_login_issues_no_identity_query(client, cas_http) -> None:
    User.objects.create_user("alice")
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{LOGIN}?ticket=ST-1")
    assert not [q for q in queries if "casidentity" in q["sql"]]
    assert len(queries) == SINGLE_SERVER_LOGIN_QUERIES


#: Queries of a single-server sign-in of an existing user: as before identities (10), plus the
#: replay guard's one INSERT.
SINGLE_SERVER_LOGIN_QUERIES = 11


# --- a stable id: found by it, username in step with the CAS name -------------------------


@pytest.fixture
def stable_id(settings):
    settings.CAS_USER_ID_ATTRIBUTE = "employeeNumber"
    return settings


def sign_in_as(client: Client, cas_http: responses.RequestsMock, name: str, **attributes) -> int:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml(name, attributes))
    response = client.get(f"{LOGIN}?ticket=ST-{name}-{next(TICKETS)}")
    return response.status_code


def test_a_stable_id_adopts_the_account_of_the_name_once(stable_id, client, cas_http) -> None:
    alice = User.objects.create_user("alice")
    assert sign_in_as(client, cas_http, "alice", employeeNumber="E-1") == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert CASIdentity.objects.get().uid == "E-1"


def test_a_renamed_user_keeps_the_account_and_the_username_follows(stable_id, cas_http) -> None:
    first, second = Client(), Client()
    sign_in_as(first, cas_http, "alice", employeeNumber="E-1")
    sign_in_as(second, cas_http, "alicia", employeeNumber="E-1")
    assert first.session["_auth_user_id"] == second.session["_auth_user_id"]
    assert User.objects.get().get_username() == "alicia"


def test_a_reused_name_does_not_inherit_the_first_owners_account(stable_id, cas_http) -> None:
    first, second = Client(), Client()
    sign_in_as(first, cas_http, "alice", employeeNumber="E-1")
    sign_in_as(second, cas_http, "alice", employeeNumber="E-2")
    assert first.session["_auth_user_id"] != second.session["_auth_user_id"]
    assert sorted(User.objects.values_list("username", flat=True)) == ["alice", "alice-2"]


@pytest.mark.parametrize("attributes", [{}, {"employeeNumber": ["E-1", "E-2"]}])
def test_an_answer_without_a_single_stable_id_is_refused_with_a_log_line(
    stable_id, client, cas_http, caplog, attributes
) -> None:
    User.objects.create_user("alice")
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice", attributes))
    response = client.get(f"{LOGIN}?ticket=ST-1")
    assert response.status_code == 403
    assert "did not release the identifier" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "no single employeeNumber (stable id)" in caplog.text


def test_a_name_linked_ahead_learns_its_stable_id_at_first_sign_in(
    stable_id, two_servers, cas_http
) -> None:
    alice = User.objects.create_user("alice")
    call_command("cas_link_users", CAS_A, stdout=StringIO())
    client = Client()
    cas_http.get(CAS_A + "p3/serviceValidate", body=success_xml("alice", {"employeeNumber": "E-1"}))
    assert client.get(f"{LOGIN}?ticket=ST-1", HTTP_HOST="a.example").status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    row = CASIdentity.objects.get()
    assert (row.uid, row.linked_by_name) == ("E-1", False)


def test_a_stable_id_with_cas_1_is_an_error(stable_id) -> None:
    stable_id.CAS_VERSION = "1"
    assert [m.id for m in check_identities()] == ["django_cas_ng.E041"]


class OwnLookupBackend(CASBackend):
    def find_user(self, request: Any, username: str, attributes: Any) -> Any:
        return User.objects.get_or_create(username=f"cas-{username}")[0], False


def test_a_backend_may_find_users_its_own_way(settings, client, cas_http) -> None:
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.OwnLookupBackend"]
    sign_in_as(client, cas_http, "alice")
    assert User.objects.get(pk=client.session["_auth_user_id"]).get_username() == "cas-alice"


def test_a_qualified_username_too_long_for_the_user_model_is_skipped(two_servers, cas_http) -> None:
    name = "a" * 140
    User.objects.create_user(name)
    client = Client()
    sign_in(client, "b.example", cas_http, "ST-1-b", user=name)
    username = User.objects.get(pk=client.session["_auth_user_id"]).get_username()
    assert username == f"{name}-2"


def test_an_id_longer_than_an_identity_holds_is_refused(stable_id, client, cas_http) -> None:
    assert sign_in_as(client, cas_http, "alice", employeeNumber="9" * 300) == 403
