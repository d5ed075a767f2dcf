"""The read-only admin of SessionTicket and ProxyGrantingTicket, and its end-sessions action."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from django_cas_ng._internal.observe import redact
from django_cas_ng.models import ProxyGrantingTicket, SessionTicket
from django_cas_ng.signals import cas_user_logout
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

TICKET = "ST-12345-abcdefghijklmnopqrstuvwxyz-cas"
PGT = "PGT-777-secretsecretsecretsecret-cas"
ACTION = "end_cas_sessions"


@pytest.fixture(autouse=True)
def admin_site(settings: Any) -> None:
    settings.INSTALLED_APPS = ["django.contrib.admin", *settings.INSTALLED_APPS]
    settings.ROOT_URLCONF = "tests.admin_urls"


@pytest.fixture
def logouts() -> Iterator[list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        sent.append({"sender": sender, **kwargs})

    cas_user_logout.connect(receiver)
    yield sent
    cas_user_logout.disconnect(receiver)


def signed_in_session(username: str, ticket: str = TICKET) -> str:
    """A live database session of ``username`` mapped to ``ticket``; returns its key."""
    user = User.objects.create_user(username)
    client = Client()
    client.force_login(user, backend="django_cas_ng.backends.CASBackend")
    key = client.session.session_key
    assert key
    SessionTicket.objects.create(session_key=key, ticket=ticket)
    return key


def changelist(model: type) -> str:
    return reverse(f"admin:django_cas_ng_{model._meta.model_name}_changelist")


def test_session_ticket_list_shows_user_expiry_and_alive_without_the_ticket(
    admin_client: Client,
) -> None:
    key = signed_in_session("alice")

    page = admin_client.get(changelist(SessionTicket)).content.decode()

    assert "alice" in page
    assert redact(TICKET) in page
    assert TICKET not in page
    assert key not in page
    assert key[:6] + "…" in page
    assert 'alt="True"' in page
    assert str(Session.objects.get(session_key=key).expire_date.year) in page


def test_a_mapping_whose_session_is_gone_shows_as_not_alive(admin_client: Client) -> None:
    SessionTicket.objects.create(session_key="gone-session-key", ticket=TICKET)

    page = admin_client.get(changelist(SessionTicket)).content.decode()

    assert 'alt="False"' in page
    assert 'alt="True"' not in page


def test_proxy_granting_ticket_list_shows_user_and_date_never_the_pgt(
    admin_client: Client,
) -> None:
    key = signed_in_session("alice")
    pgt = ProxyGrantingTicket.objects.create(
        session_key=key, user=User.objects.get(username="alice"), pgtiou="PGTIOU-1-x", pgt=PGT
    )

    page = admin_client.get(changelist(ProxyGrantingTicket)).content.decode()

    assert "alice" in page
    assert PGT not in page
    assert redact(PGT) in page
    assert str(pgt.date.year) in page
    assert 'alt="True"' in page


@pytest.mark.parametrize("model", [SessionTicket, ProxyGrantingTicket])
def test_nothing_can_be_added_changed_or_deleted(admin_client: Client, model: type) -> None:
    name = model._meta.model_name
    row = SessionTicket.objects.create(session_key="k", ticket=TICKET)
    if model is ProxyGrantingTicket:
        row = ProxyGrantingTicket.objects.create(session_key="k", pgt=PGT)

    assert admin_client.get(reverse(f"admin:django_cas_ng_{name}_add")).status_code == 403
    detail = admin_client.get(reverse(f"admin:django_cas_ng_{name}_change", args=[row.pk]))
    assert detail.status_code == 200
    assert TICKET not in detail.content.decode() and PGT not in detail.content.decode()
    assert b'name="_save"' not in detail.content
    assert (
        admin_client.post(reverse(f"admin:django_cas_ng_{name}_delete", args=[row.pk])).status_code
        == 403
    )
    actions = admin_client.get(changelist(model)).context["action_form"].fields["action"].choices
    assert [value for value, _ in actions if value] == [ACTION]


def test_the_action_ends_the_selected_sessions_only(
    admin_client: Client, logouts: list[dict[str, Any]]
) -> None:
    alice = signed_in_session("alice", TICKET)
    bob = signed_in_session("bob", "ST-2-bob")
    row = SessionTicket.objects.get(session_key=alice)

    response = admin_client.post(
        changelist(SessionTicket), {"action": ACTION, "_selected_action": [row.pk]}, follow=True
    )

    assert "Ended 1 CAS session." in response.content.decode()
    assert not Session.objects.filter(session_key=alice).exists()
    assert not SessionTicket.objects.filter(session_key=alice).exists()
    assert Session.objects.filter(session_key=bob).exists()
    assert SessionTicket.objects.filter(session_key=bob).exists()
    [sent] = logouts
    assert sent["sender"] == "manual"
    assert sent["user"].username == "alice"
    assert sent["ticket"] == TICKET
    assert sent["session"].session_key == alice


def test_the_action_on_a_pgt_ends_its_session_and_drops_the_pgt(
    admin_client: Client, logouts: list[dict[str, Any]]
) -> None:
    key = signed_in_session("alice")
    pgt = ProxyGrantingTicket.objects.create(
        session_key=key, user=User.objects.get(username="alice"), pgt=PGT
    )

    admin_client.post(
        changelist(ProxyGrantingTicket), {"action": ACTION, "_selected_action": [pgt.pk]}
    )

    assert not Session.objects.filter(session_key=key).exists()
    assert not ProxyGrantingTicket.objects.exists()
    assert not SessionTicket.objects.exists()
    assert [(s["sender"], s["ticket"]) for s in logouts] == [("manual", TICKET)]


def test_the_action_on_a_dead_session_only_forgets_the_mapping(
    admin_client: Client, logouts: list[dict[str, Any]]
) -> None:
    row = SessionTicket.objects.create(session_key="gone", ticket=TICKET)

    response = admin_client.post(
        changelist(SessionTicket), {"action": ACTION, "_selected_action": [row.pk]}, follow=True
    )

    assert "Ended 0 CAS sessions." in response.content.decode()
    assert not SessionTicket.objects.exists()
    assert logouts == []


def test_staff_with_view_permission_only_see_the_list_but_not_the_action(
    client: Client,
) -> None:
    staff = User.objects.create_user("viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_sessionticket"))
    client.force_login(staff)
    key = signed_in_session("alice")
    row = SessionTicket.objects.get(session_key=key)

    page = client.get(changelist(SessionTicket))
    client.post(changelist(SessionTicket), {"action": ACTION, "_selected_action": [row.pk]})

    assert page.status_code == 200
    assert ACTION not in page.content.decode()
    assert Session.objects.filter(session_key=key).exists()


def test_with_cache_sessions_the_user_still_shows(client: Client, settings: Any) -> None:
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    client.force_login(User.objects.create_superuser("root"))
    signed_in_session("carol")

    page = client.get(changelist(SessionTicket)).content.decode()

    assert "carol" in page
    assert 'alt="True"' in page


def test_identities_are_listed_and_have_an_add_form_in_the_admin(admin_client: Client) -> None:
    from django_cas_ng.models import CASIdentity

    alice = User.objects.create_user("alice")
    CASIdentity.objects.create(server_url="https://cas-a.example.org/cas/", uid="alice", user=alice)
    assert "cas-a.example.org" in admin_client.get(changelist(CASIdentity)).content.decode()
    add_page = admin_client.get(reverse("admin:django_cas_ng_casidentity_add"))
    assert add_page.status_code == 200


SECRET_LOOKUPS = [
    (model, field, lookup)
    for model, fields in (
        (SessionTicket, ("session_key", "ticket")),
        (ProxyGrantingTicket, ("session_key", "pgt", "pgtiou")),
    )
    for field in fields
    for lookup in ("", "__regex", "__iregex", "__startswith", "__istartswith", "__gt", "__lte")
]


@pytest.mark.parametrize(("model", "field", "lookup"), SECRET_LOOKUPS)
def test_a_secret_field_cannot_be_filtered_from_the_query_string(
    admin_client: Client, model: type, field: str, lookup: str
) -> None:
    signed_in_session("alice")
    ProxyGrantingTicket.objects.create(session_key="k" * 32, pgtiou="PGTIOU-1-abc", pgt=PGT)

    response = admin_client.get(changelist(model), {f"{field}{lookup}": "^a"})

    assert response.status_code == 400


def test_no_search_reaches_a_secret(admin_client: Client) -> None:
    for model in (SessionTicket, ProxyGrantingTicket):
        admin = admin_client.get(changelist(model)).context["cl"].model_admin
        fields = [name.lstrip("^=@").split("__")[0] for name in admin.get_search_fields(None)]
        assert not set(fields) & {"session_key", "ticket", "pgt", "pgtiou"}


def test_no_column_sorts_by_a_secret(admin_client: Client) -> None:
    signed_in_session("alice")
    for model in (SessionTicket, ProxyGrantingTicket):
        admin = admin_client.get(changelist(model)).context["cl"].model_admin
        for name in admin.get_sortable_by(None):
            column = getattr(admin, name, None)
            field = getattr(column, "admin_order_field", name)
            assert str(field).split("__")[0] not in {"session_key", "ticket", "pgt", "pgtiou"}


def test_a_superuser_created_before_the_first_cas_sign_in_reaches_the_admin(
    client: Client, cas_http: Any
) -> None:
    """README's quick start: ``createsuperuser --username alice``, then alice signs in at CAS."""
    User.objects.create_superuser("alice", "alice@example.org", "unused-password")
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice"))
    client.get("/accounts/login/", {"ticket": "ST-1-admin", "next": "/admin/"})
    # An admin page that needs no django_admin_log table (the index lists recent actions).
    assert client.get(reverse("admin:django_cas_ng_sessionticket_changelist")).status_code == 200


def test_a_cas_user_who_is_not_staff_is_refused_by_the_admin(client: Client, cas_http: Any) -> None:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("bob"))
    client.get("/accounts/login/", {"ticket": "ST-1-bob", "next": "/admin/"})
    assert client.get("/admin/").status_code == 403
