"""Attacks by a hostile tenant CAS server (server B) on tenant A's users and sessions, and by
pages that make a victim's browser visit URLs. Each test is one attempt; they document the
defence (docs/security.rst, rows 19.n)."""

from __future__ import annotations

from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from asgiref.sync import async_to_sync
from django.contrib.admin import ModelAdmin
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient, Client
from django.urls import path, reverse
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_cas_ng.checks import check_identities
from django_cas_ng.models import CASIdentity, ProxyError, ProxyGrantingTicket, SessionTicket
from django_cas_ng.stepup import stepup_required
from django_cas_ng.views import is_local_url
from tests import tenants
from tests import urls as suite_urls
from tests.cas_answers import failure_xml, front_channel, logout_request, success_xml
from tests.tenants import CAS_A, CAS_B

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

LOGIN = "/accounts/login/"
User = get_user_model()
HOSTILE_TARGETS = [
    "//evil.example/",
    "///evil.example/",
    "////evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/%5Cevil.example/",
    "/%2F/evil.example/",
    "/./\\evil.example/",
    "https:evil.example",
    "https://evil.example/",
    "https://a.example@evil.example/",
    "javascript:alert(1)",
    " //evil.example/",
]


class DrfWhoAmI(APIView):
    authentication_classes = [
        "django_cas_ng.contrib.drf.CASProxyTicketAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()})


def _drf_view() -> object:
    from django.utils.module_loading import import_string

    DrfWhoAmI.authentication_classes = [
        import_string(path) if isinstance(path, str) else path
        for path in DrfWhoAmI.authentication_classes
    ]
    return DrfWhoAmI.as_view()


@stepup_required(max_age=300)
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


async def async_whoami(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(user.get_username())


def whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.user.get_username()})


def proxied(request: HttpRequest) -> HttpResponse:
    try:
        return HttpResponse(ProxyGrantingTicket.retrieve_pt(request, "https://backend.example/"))
    except ProxyError as error:
        return HttpResponse(str(error.args[0]), status=403)


urlpatterns = [
    *suite_urls.urlpatterns,
    path("drf/whoami/", _drf_view()),
    path("payroll/", payroll),
    path("async-whoami/", async_whoami),
    path("whoami/", whoami),
    path("proxied/", proxied),
]


@pytest.fixture
def two_servers(settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    settings.CAS_SERVER_URL = tenants.server_for_host
    return settings


@pytest.fixture
def a_alice(two_servers, cas_http) -> object:
    """Tenant A's superuser ``alice``, linked to server A as a site moving over would do."""
    alice = User.objects.create_user("alice", is_superuser=True, is_staff=True)
    call_command("cas_link_users", CAS_A, stdout=StringIO())
    return alice


def sign_in(
    client: Client,
    host: str,
    cas_http: responses.RequestsMock,
    ticket: str,
    user: str = "alice",
    attributes: dict[str, object] | None = None,
) -> None:
    cas_http.get(tenants.SERVERS[host] + "p3/serviceValidate", body=success_xml(user, attributes))
    response = client.get(f"{LOGIN}?ticket={ticket}", HTTP_HOST=host)
    assert response.status_code == 302, response.content


def signed_in_pk(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# --- 19.1 server B naming A's users ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["alice", "ALICE", "Alice", " alice", "alice ", "alice@a.example", "alice@cas-a.example.org"],
)
def test_server_b_names_that_look_like_a_users_name_get_b_accounts(
    a_alice, settings, cas_http, name
) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "lower"
    client = Client()
    sign_in(client, "b.example", cas_http, "ST-1-b", user=name)
    b_user = User.objects.get(pk=signed_in_pk(client))
    assert b_user.pk != a_alice.pk
    assert not b_user.is_superuser and not b_user.is_staff


def test_server_b_cannot_take_the_generated_username_of_a_later_a_user(
    two_servers, cas_http
) -> None:
    # B signs in first under the name A's second "bob" would be given; A's bob still gets
    # an account of its own, and B's account stays B's.
    User.objects.create_user("bob")  # a local account, no identity
    b = Client()
    sign_in(b, "b.example", cas_http, "ST-1-b", user="bob@cas-a.example.org")
    a = Client()
    sign_in(a, "a.example", cas_http, "ST-2-a", user="bob")
    assert signed_in_pk(a) != signed_in_pk(b)
    assert CASIdentity.objects.get(server_url=CAS_A, uid="bob").user_id == int(signed_in_pk(a))


def test_server_b_releasing_a_users_stable_id_gets_a_b_account(two_servers, cas_http) -> None:
    two_servers.CAS_USER_ID_ATTRIBUTE = "employeeNumber"
    a_alice = User.objects.create_user("alice", is_superuser=True, is_staff=True)
    call_command("cas_link_users", CAS_A, stdout=StringIO())
    a = Client()
    sign_in(a, "a.example", cas_http, "ST-1-a", attributes={"employeeNumber": "1001"})
    assert signed_in_pk(a) == str(a_alice.pk)
    b = Client()
    sign_in(b, "b.example", cas_http, "ST-2-b", attributes={"employeeNumber": "1001"})
    assert signed_in_pk(b) != str(a_alice.pk)


def test_server_b_releasing_a_users_primary_key_is_refused_not_a_500(
    a_alice, settings, cas_http, caplog
) -> None:
    # CAS_CREATE_USER_WITH_ID lets the answer choose the new user's primary key.
    settings.CAS_CREATE_USER_WITH_ID = True
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("mallory", {"id": a_alice.pk}))
    client = Client()
    response = client.get(f"{LOGIN}?ticket=ST-1-b", HTTP_HOST="b.example")
    assert response.status_code == 403
    assert signed_in_pk(client) is None
    assert "mallory" in caplog.text


def test_server_b_proxy_ticket_naming_alice_is_not_a_alice_in_drf(a_alice, cas_http) -> None:
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("alice"))
    response = Client().get("/drf/whoami/", HTTP_HOST="b.example", HTTP_AUTHORIZATION="CAS ST-1-b")
    assert response.status_code == 200
    assert response.json()["user"] != "alice"


def test_server_b_mirrored_flags_never_reach_a_users_account(a_alice, settings, cas_http) -> None:
    settings.CAS_USER_FLAGS = {"is_superuser": {"role": ["admin"]}, "is_staff": {"role": ["admin"]}}
    settings.CAS_GROUPS_ATTRIBUTE = "memberOf"
    settings.CAS_MANAGED_GROUPS = "cas-"
    a = Client()
    sign_in(a, "a.example", cas_http, "ST-1-a", attributes={"role": "admin"})
    b = Client()
    sign_in(b, "b.example", cas_http, "ST-2-b", attributes={"role": "user", "memberOf": "cas-x"})
    a_alice.refresh_from_db()
    assert a_alice.is_superuser and a_alice.is_staff
    assert not a_alice.groups.exists()


# --- 19.2 a session of server B used on A's host ------------------------------------------


@pytest.fixture
def b_superuser_session(a_alice, settings, cas_http) -> Client:
    """A session signed in at B whose (B) user B's attributes made staff and superuser."""
    settings.CAS_USER_FLAGS = {"is_superuser": {"role": ["admin"]}, "is_staff": {"role": ["admin"]}}
    client = Client()
    sign_in(client, "b.example", cas_http, "ST-1-b", attributes={"role": "admin"})
    return client


def test_a_b_session_is_refused_by_the_admin_on_host_a(b_superuser_session, settings) -> None:
    settings.INSTALLED_APPS = ["django.contrib.admin", *settings.INSTALLED_APPS]
    settings.ROOT_URLCONF = "tests.admin_urls"
    client = Client()  # a handler built with the admin's URLs
    client.cookies = b_superuser_session.cookies
    assert client.get("/admin/auth/group/", HTTP_HOST="b.example").status_code == 200
    response = client.get("/admin/auth/group/", HTTP_HOST="a.example")
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_a_b_session_is_anonymous_to_drf_session_authentication_on_host_a(
    b_superuser_session,
) -> None:
    assert b_superuser_session.get("/drf/whoami/", HTTP_HOST="b.example").status_code == 200
    response = b_superuser_session.get("/drf/whoami/", HTTP_HOST="a.example")
    assert response.status_code in (401, 403)


def test_a_b_session_is_anonymous_to_decorators_on_host_a(b_superuser_session) -> None:
    assert b_superuser_session.get("/staff/", HTTP_HOST="a.example").status_code == 302
    assert b_superuser_session.get("/private/", HTTP_HOST="a.example").status_code == 302
    assert b_superuser_session.get("/whoami/", HTTP_HOST="a.example").json() == {"user": ""}


def test_a_b_session_is_anonymous_to_login_required_middleware_on_host_a(
    b_superuser_session, settings
) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django_cas_ng.middleware.CASLoginRequiredMiddleware",
    ]
    client = Client()  # a handler built with the new MIDDLEWARE
    client.cookies = b_superuser_session.cookies
    assert client.get("/whoami/", HTTP_HOST="b.example").status_code == 200
    response = client.get("/whoami/", HTTP_HOST="a.example")
    assert response.status_code == 302


def test_a_b_session_does_not_pass_the_stepup_of_host_a(b_superuser_session) -> None:
    response = b_superuser_session.get("/payroll/", HTTP_HOST="a.example")
    assert response.status_code == 302 and "/accounts/stepup/" not in response.url


def test_a_b_session_is_anonymous_to_auser_on_host_a(b_superuser_session, settings) -> None:
    # The async test client always sends Host: testserver; a header picks the tenant here.
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.CAS_SERVER_URL = lambda request: CAS_A if request.headers.get("X-Tenant") else CAS_B
    async_client = AsyncClient()
    async_client.cookies = b_superuser_session.cookies
    on_b = async_to_sync(async_client.get)("/async-whoami/")
    on_a = async_to_sync(async_client.get)("/async-whoami/", headers={"X-Tenant": "a"})
    assert on_b.content != b"" and on_a.content == b""


def test_a_user_linked_at_both_servers_is_not_signed_in_on_a_by_bs_session(
    a_alice, cas_http
) -> None:
    CASIdentity.objects.create(server_url=CAS_B, uid="a.liddell", name="a.liddell", user=a_alice)
    client = Client()
    sign_in(client, "b.example", cas_http, "ST-1-b", user="a.liddell")
    assert signed_in_pk(client) == str(a_alice.pk)
    assert client.get("/whoami/", HTTP_HOST="a.example").json() == {"user": ""}


def test_a_b_session_signing_in_at_a_keeps_no_b_proxy_iou(a_alice, settings, cas_http) -> None:
    settings.CAS_PROXY_CALLBACK = "https://a.example/accounts/callback/"
    CASIdentity.objects.create(server_url=CAS_B, uid="a.liddell", name="a.liddell", user=a_alice)
    client = Client()
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("a.liddell", pgtiou="PGTIOU-b"))
    assert client.get(f"{LOGIN}?ticket=ST-1-b", HTTP_HOST="b.example").status_code == 302
    sign_in(client, "a.example", cas_http, "ST-2-a")
    assert "pgtiou" not in client.session


def test_an_a_sessions_pgt_is_never_sent_to_server_b(a_alice, settings, cas_http) -> None:
    settings.CAS_PROXY_CALLBACK = "https://a.example/accounts/callback/"
    ProxyGrantingTicket.objects.create(pgtiou="PGTIOU-1-a", pgt="PGT-1-a")
    client = Client()
    cas_http.get(CAS_A + "p3/serviceValidate", body=success_xml("alice", pgtiou="PGTIOU-1-a"))
    assert client.get(f"{LOGIN}?ticket=ST-1-a", HTTP_HOST="a.example").status_code == 302
    calls = len(cas_http.calls)
    response = client.get("/proxied/", HTTP_HOST="b.example")
    assert response.status_code == 403
    assert len(cas_http.calls) == calls  # server B was asked nothing


# --- 19.3 Single Logout and PGT callbacks from server B -----------------------------------


def test_b_logout_request_naming_as_ticket_ends_nothing_back_channel(a_alice, cas_http) -> None:
    a = Client()
    sign_in(a, "a.example", cas_http, "ST-1-a")
    Client().post(LOGIN, {"logoutRequest": logout_request("ST-1-a")}, HTTP_HOST="b.example")
    Client().post(
        "/accounts/callback/", {"logoutRequest": logout_request("ST-1-a")}, HTTP_HOST="b.example"
    )
    assert a.get("/whoami/", HTTP_HOST="a.example").json() == {"user": "alice"}


def test_b_logout_request_naming_as_ticket_ends_nothing_front_channel(a_alice, cas_http) -> None:
    a = Client()
    sign_in(a, "a.example", cas_http, "ST-1-a")
    encoded = front_channel(logout_request("ST-1-a"))
    Client().get(LOGIN, {"logoutRequest": encoded}, HTTP_HOST="b.example")
    Client().get(LOGIN, {"SAMLRequest": encoded, "RelayState": "x"}, HTTP_HOST="b.example")
    assert a.get("/whoami/", HTTP_HOST="a.example").json() == {"user": "alice"}


def test_a_mapping_followed_to_a_new_key_keeps_its_server(a_alice, cas_http) -> None:
    # The mapping row of the old key is gone (a cleanup, a restore) when the session key
    # moves; the session still knows its server, so B's logout request cannot end it.
    a = Client()
    sign_in(a, "a.example", cas_http, "ST-1-a")
    SessionTicket.objects.all().delete()
    session = a.session
    session["_cas_ng_mapped_key"] = "an older key"
    session.save()
    assert a.get("/payroll/", HTTP_HOST="a.example").status_code == 302  # writes the session
    assert SessionTicket.objects.get().server_url == CAS_A
    Client().post(LOGIN, {"logoutRequest": logout_request("ST-1-a")}, HTTP_HOST="b.example")
    assert a.get("/whoami/", HTTP_HOST="a.example").json() == {"user": "alice"}


# --- 19.4 ticket replay across tenants ------------------------------------------------------


def test_a_ticket_validated_at_b_replayed_on_host_a_is_asked_of_server_a(a_alice, cas_http) -> None:
    sign_in(Client(), "b.example", cas_http, "ST-1-b")
    cas_http.get(CAS_A + "p3/serviceValidate", body=failure_xml())
    client = Client()
    response = client.get(f"{LOGIN}?ticket=ST-1-b", HTTP_HOST="a.example")
    assert response.status_code == 403
    assert signed_in_pk(client) is None
    assert [c.request.url.startswith(CAS_A) for c in cas_http.calls][-1]


# --- 19.5 redirects -------------------------------------------------------------------------


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_a_hostile_next_never_leaves_the_site_after_a_posted_ticket(
    a_alice, cas_http, target
) -> None:
    cas_http.get(CAS_A + "p3/serviceValidate", body=success_xml("alice"))
    response = Client().post(
        f"{LOGIN}?next={target}", {"ticket": "ST-1-a", "next": target}, HTTP_HOST="a.example"
    )
    assert response.status_code == 302
    assert urlsplit(response.url).netloc in ("", "a.example")
    assert not response.url.startswith(("//", "/\\", "\\"))


@pytest.mark.parametrize("target", ["https://b.example/private/", "//b.example/private/"])
def test_a_next_on_another_tenants_host_is_not_followed(a_alice, cas_http, target) -> None:
    # B's host would send the browser on to B's (hostile) CAS server's sign-in page.
    cas_http.get(CAS_A + "p3/serviceValidate", body=success_xml("alice"))
    response = Client().get(LOGIN, {"ticket": "ST-1-a", "next": target}, HTTP_HOST="a.example")
    assert response.status_code == 302 and response.url == "/"
    client = Client()
    sign_in(client, "a.example", cas_http, "ST-2-a")
    stepup = client.get("/accounts/stepup/", {"next": target}, HTTP_HOST="a.example")
    service = parse_qs(urlsplit(stepup.url).query)["service"][0]
    assert parse_qs(urlsplit(service).query)["next"] == ["/"]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_a_hostile_next_or_referer_is_not_the_service_urls_landing(
    a_alice, cas_http, target
) -> None:
    response = Client().get(LOGIN, {"next": target}, HTTP_HOST="a.example", HTTP_REFERER=target)
    service = parse_qs(urlsplit(response.url).query)["service"][0]
    landing = parse_qs(urlsplit(service).query)["next"][0]
    assert landing == "/"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_a_hostile_next_is_not_the_logout_return(a_alice, settings, cas_http, target) -> None:
    settings.CAS_LOGOUT_COMPLETELY = True
    client = Client()
    sign_in(client, "a.example", cas_http, "ST-1-a")
    response = client.post(f"/accounts/logout/?next={target}", HTTP_HOST="a.example")
    service = parse_qs(urlsplit(response.url).query)["service"][0]
    assert urlsplit(service).netloc == "a.example"
    assert not urlsplit(service).path.startswith(("//", "/\\"))


def test_a_relay_state_only_ever_returns_to_the_tenants_cas_server(a_alice, cas_http) -> None:
    encoded = front_channel(logout_request("ST-nobody"))
    response = Client().get(
        LOGIN,
        {"SAMLRequest": encoded, "RelayState": "https://evil.example/"},
        HTTP_HOST="a.example",
    )
    assert response.status_code == 302 and response.url.startswith(CAS_A + "logout?")


@pytest.mark.parametrize("target", ["//evil.example", "///evil.example", "/\\evil.example"])
def test_is_local_url_still_refuses_other_hosts_without_a_scheme(target) -> None:
    assert is_local_url("https://a.example", "//a.example")
    assert not is_local_url("https://a.example", target)
    assert not is_local_url("https://a.example/", target)


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/app/", "//a.example@evil.example", " //evil.example"],
)
def test_is_local_url_of_a_scheme_relative_host_refuses_other_hosts(target) -> None:
    assert is_local_url("//a.example", "//a.example/app/")
    assert not is_local_url("//a.example", target)
    assert not is_local_url("//a.example/", target)


def test_a_proxy_ticket_of_b_for_a_linked_user_changes_no_flag(a_alice, settings, cas_http) -> None:
    settings.CAS_USER_FLAGS = {"is_superuser": {"role": ["admin"]}}
    CASIdentity.objects.create(server_url=CAS_B, uid="a.liddell", name="a.liddell", user=a_alice)
    cas_http.get(CAS_B + "p3/serviceValidate", body=success_xml("a.liddell", {"role": "user"}))
    response = Client().get("/drf/whoami/", HTTP_HOST="b.example", HTTP_AUTHORIZATION="CAS ST-1-b")
    assert response.json() == {"user": "alice"}
    a_alice.refresh_from_db()
    assert a_alice.is_superuser


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("CAS_USER_FLAGS", {"is_superuser": {"role": ["admin"]}}),
        ("CAS_ADMIN_AFFILIATION", "admin"),
        ("CAS_STAFF_AFFILIATION", "staff"),
        ("CAS_APPLY_ATTRIBUTES_TO_USER", True),
        ("CAS_APPLY_ATTRIBUTES_TO_USER", ["first_name", "is_staff"]),
        ("CAS_MAP_AFFILIATIONS", True),
        ("CAS_GROUPS_ATTRIBUTE", "memberOf"),
    ],
)
def test_every_tenant_server_granting_project_wide_rights_is_w041(
    two_servers, setting, value
) -> None:
    setattr(two_servers, setting, value)
    two_servers.CAS_MANAGED_GROUPS = "cas-"
    assert [m.id for m in check_identities()] == ["django_cas_ng.W041"]


def test_flags_that_grant_no_project_privilege_are_not_w041(two_servers) -> None:
    two_servers.CAS_USER_FLAGS = {"is_active": {"status": ["active"]}}
    two_servers.CAS_APPLY_ATTRIBUTES_TO_USER = ["first_name"]
    assert check_identities() == []


def test_a_single_server_site_granting_staff_is_not_w041(settings) -> None:
    settings.CAS_USER_FLAGS = {"is_superuser": {"role": ["admin"]}}
    assert check_identities() == []


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_a_hostile_next_is_not_the_stepup_landing(a_alice, cas_http, target) -> None:
    client = Client()
    sign_in(client, "a.example", cas_http, "ST-1-a")
    response = client.get("/accounts/stepup/", {"next": target}, HTTP_HOST="a.example")
    service = parse_qs(urlsplit(response.url).query)["service"][0]
    assert parse_qs(urlsplit(service).query)["next"] == ["/"]


# --- 19.9 linking identities in the admin -------------------------------------------------


@pytest.fixture
def identity_admin(settings) -> Client:
    """A staff member allowed to add and change CAS identities, and nothing else."""
    settings.INSTALLED_APPS = ["django.contrib.admin", *settings.INSTALLED_APPS]
    settings.ROOT_URLCONF = "tests.admin_urls"
    staff = User.objects.create_user("linker", is_staff=True)
    for codename in ("add_casidentity", "change_casidentity", "view_casidentity"):
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


def link(client: Client, user: object) -> int:
    response = client.post(
        reverse("admin:django_cas_ng_casidentity_add"),
        {"server_url": CAS_B, "uid": "mallory", "name": "mallory", "user": user.pk},
    )
    return response.status_code


def test_linking_an_identity_needs_the_permission_to_change_users(identity_admin) -> None:
    victim = User.objects.create_user("victim")
    assert link(identity_admin, victim) == 403
    assert not CASIdentity.objects.exists()


def test_only_a_superuser_links_an_identity_to_a_superuser(
    identity_admin, caplog, monkeypatch
) -> None:
    # The admin's own log table is not migrated in this suite.
    monkeypatch.setattr(ModelAdmin, "log_addition", lambda *args, **kwargs: None)
    staff = User.objects.get(username="linker")
    staff.user_permissions.add(Permission.objects.get(codename="change_user"))
    root = User.objects.create_user("root", is_superuser=True, is_staff=True)
    assert link(identity_admin, root) == 403
    assert not CASIdentity.objects.exists()
    assert "only a superuser may" in caplog.text
    plain = User.objects.create_user("plain")
    assert link(identity_admin, plain) == 302
    assert CASIdentity.objects.get().user == plain


# --- 19.10 cas_link_users on a site that already has several servers ----------------------


def test_link_users_for_a_new_server_does_not_hand_it_local_superusers(a_alice, cas_http) -> None:
    sign_in(Client(), "b.example", cas_http, "ST-1-b", user="bob")
    root = User.objects.create_superuser("root", password="pw")  # created after the switch
    with pytest.raises(CommandError, match="identities of other servers"):
        call_command("cas_link_users", "https://cas-c.example.org/cas/", stdout=StringIO())
    assert not root.cas_identities.exists()
    call_command("cas_link_users", "https://cas-c.example.org/cas/", "--force", stdout=StringIO())
    assert root.cas_identities.get().server_url == "https://cas-c.example.org/cas/"


def test_a_user_server_b_created_cannot_reset_a_password_to_sign_in_unbound(
    two_servers, settings, cas_http
) -> None:
    # A password sign-in is bound to no server: B's user must not get one by password reset.
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    client = Client()
    sign_in(
        client, "b.example", cas_http, "ST-1-b", user="mallory", attributes={"email": "m@b.example"}
    )
    mallory = User.objects.get(pk=signed_in_pk(client))
    assert mallory.email == "m@b.example"
    assert not mallory.has_usable_password()
    assert list(PasswordResetForm().get_users("m@b.example")) == []


# --- 19.12 Single Logout senders per tenant -----------------------------------------------


def networks_per_tenant(request: HttpRequest) -> dict[str, object]:
    """Tenant A's CAS server sends from 10.1.0.0/16, tenant B's from 192.0.2.0/24."""
    if request.get_host() == "b.example":
        return {"CAS_SERVER_URL": CAS_B, "CAS_SLO_ALLOWED_NETWORKS": ["192.0.2.0/24"]}
    return {"CAS_SERVER_URL": CAS_A, "CAS_SLO_ALLOWED_NETWORKS": ["10.1.0.0/16"]}


def test_server_b_cannot_send_logout_requests_to_host_a_from_its_network(
    settings, cas_http
) -> None:
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    settings.CAS_CONFIG_RESOLVER = networks_per_tenant
    a = Client()
    sign_in(a, "a.example", cas_http, "ST-1-a")
    body = {"logoutRequest": logout_request("ST-1-a")}
    from_b = Client(REMOTE_ADDR="192.0.2.5").post(LOGIN, body, HTTP_HOST="a.example")
    assert from_b.status_code == 403
    assert a.get("/whoami/", HTTP_HOST="a.example").json() == {"user": "alice"}
    from_a = Client(REMOTE_ADDR="10.1.2.3").post(LOGIN, body, HTTP_HOST="a.example")
    assert from_a.status_code == 200
    assert a.get("/whoami/", HTTP_HOST="a.example").json() == {"user": ""}


def test_a_tenants_unusable_slo_networks_are_a_503_not_a_500(settings, cas_http) -> None:
    settings.ALLOWED_HOSTS = ["a.example"]
    settings.CAS_CONFIG_RESOLVER = lambda request: {"CAS_SLO_ALLOWED_NETWORKS": ["not a net"]}
    body = {"logoutRequest": logout_request("ST-1-a")}
    assert Client().post(LOGIN, body, HTTP_HOST="a.example").status_code == 503
