"""Access rules in settings: required and refused attribute values, and what a "remember me"
sign-in may do; a refusal names the rule (never the values) and reaches cas_ticket_validated."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from django_cas_ng._internal.presented import proxy_ticket_required
from django_cas_ng.backends import CASBackend
from django_cas_ng.conf import REGISTRY
from django_cas_ng.signals import cas_ticket_validated
from tests import urls as suite_urls
from tests.cas_answers import success_xml

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

CAS = "https://cas.example.com/cas/"
User = get_user_model()
RULES = [
    {"name": "staff or faculty", "require": {"affiliation": ["staff", "faculty"]}},
    {"name": "no social sign-in", "refuse": {"clientName": ["FacebookClient"]}},
]


@proxy_ticket_required
def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.user.get_username())


urlpatterns = [*suite_urls.urlpatterns, path("api/whoami/", whoami)]


@pytest.fixture
def validated() -> Iterator[list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        sent.append({"sender": sender, **kwargs})

    cas_ticket_validated.connect(receiver)
    yield sent
    cas_ticket_validated.disconnect(receiver)


@pytest.fixture
def ruled(settings):
    settings.CAS_ACCESS_RULES = RULES
    return settings


#: A fresh ticket per sign-in: the replay guard refuses one presented twice.
TICKETS = itertools.count(1)


def sign_in(client: Client, cas_http: responses.RequestsMock, **attributes: Any) -> Any:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice", attributes))
    return client.get(f"/accounts/login/?ticket=ST-{next(TICKETS)}")


def test_a_user_with_a_required_value_signs_in(ruled, client, cas_http) -> None:
    assert sign_in(client, cas_http, affiliation=["member", "faculty"]).status_code == 302


def test_a_user_without_a_required_value_gets_a_403_naming_the_rule(
    ruled, client, cas_http, caplog
) -> None:
    response = sign_in(client, cas_http, affiliation="student")
    assert response.status_code == 403
    page = response.content.decode()
    assert "staff or faculty" in page
    assert "student" not in page
    assert "_auth_user_id" not in client.session
    assert "access rule 'staff or faculty' outcome=denied" in caplog.text
    assert not User.objects.exists()


def test_a_refused_value_refuses_the_user(ruled, client, cas_http) -> None:
    response = sign_in(client, cas_http, affiliation="staff", clientName="FacebookClient")
    assert response.status_code == 403
    assert "no social sign-in" in response.content.decode()
    assert "FacebookClient" not in response.content.decode()


def test_a_refusal_reaches_cas_ticket_validated(ruled, client, cas_http, validated) -> None:
    sign_in(client, cas_http, affiliation="student")
    assert [(c["outcome"], c["rule"]) for c in validated] == [("denied", "staff or faculty")]


def test_an_accepted_sign_in_reports_no_rule(ruled, client, cas_http, validated) -> None:
    sign_in(client, cas_http, affiliation="staff")
    assert [(c["outcome"], c["rule"]) for c in validated] == [("success", None)]


def test_a_refused_sign_in_is_not_retried_at_cas(ruled, client, cas_http) -> None:
    ruled.CAS_RETRY_LOGIN = True
    assert sign_in(client, cas_http, affiliation="student").status_code == 403


def test_rules_read_attributes_after_renaming(ruled, client, cas_http) -> None:
    ruled.CAS_RENAME_ATTRIBUTES = {"eduPersonAffiliation": "affiliation"}
    assert sign_in(client, cas_http, eduPersonAffiliation="staff").status_code == 302


def test_a_presented_ticket_of_a_refused_user_is_refused(ruled, cas_http, validated) -> None:
    cas_http.get(CAS + "p3/serviceValidate", body=success_xml("alice", {"affiliation": "x"}))
    response = Client().get("/api/whoami/", HTTP_AUTHORIZATION="CAS ST-2")
    assert response.status_code == 401
    assert response.json()["code"] == "USER_REFUSED"
    assert [(c["sender"], c["outcome"], c["rule"]) for c in validated] == [
        ("proxy", "denied", "staff or faculty")
    ]


# --- "remember me" sign-ins ----------------------------------------------------------------

LONG_TERM = {"longTermAuthenticationRequestTokenUsed": "true"}


def test_long_term_sign_ins_are_allowed_by_default(client, cas_http) -> None:
    assert sign_in(client, cas_http, **LONG_TERM).status_code == 302
    assert client.session.get_expire_at_browser_close() is False


def test_a_site_may_refuse_long_term_sign_ins(settings, client, cas_http, validated) -> None:
    settings.CAS_LONG_TERM_LOGIN = "refuse"
    response = sign_in(client, cas_http, **LONG_TERM)
    assert response.status_code == 403
    assert "long-term sign-in" in response.content.decode()
    assert validated[0]["rule"] == "long-term sign-in"
    assert sign_in(Client(), cas_http).status_code == 302


def test_a_long_term_sign_in_may_get_a_shorter_session(settings, client, cas_http) -> None:
    settings.CAS_LONG_TERM_LOGIN = 600
    assert sign_in(client, cas_http, **LONG_TERM).status_code == 302
    assert client.session.get_expiry_age() == 600
    other = Client()
    sign_in(other, cas_http)
    assert other.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


@pytest.mark.parametrize(
    "rules",
    [
        [{"require": {"affiliation": ["staff"]}}],
        [{"name": "x"}],
        [{"name": "x", "require": {"affiliation": "staff"}}],
        [{"name": "x", "allow": {"affiliation": ["staff"]}}],
        {"name": "x", "require": {"affiliation": ["staff"]}},
    ],
)
def test_malformed_rules_are_refused_by_their_type_rule(rules) -> None:
    assert not REGISTRY["CAS_ACCESS_RULES"].rule.accepts(rules)


@pytest.mark.parametrize("value", ["sometimes", 0, -5, True, 1.5])
def test_a_malformed_long_term_policy_is_refused(value) -> None:
    assert not REGISTRY["CAS_LONG_TERM_LOGIN"].rule.accepts(value)


def test_a_long_term_session_life_that_shortens_nothing_is_a_warning(settings) -> None:
    from django_cas_ng.checks import check_identities

    settings.CAS_LONG_TERM_LOGIN = settings.SESSION_COOKIE_AGE
    assert [m.id for m in check_identities()] == ["django_cas_ng.W040"]


class OwnRuleBackend(CASBackend):
    def access_rule(self, attributes: Any) -> str | None:
        return "weekdays only"


def test_a_backend_may_decide_the_access_rule_in_code(settings, client, cas_http) -> None:
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.OwnRuleBackend"]
    response = sign_in(client, cas_http, affiliation="staff")
    assert response.status_code == 403
    assert "weekdays only" in response.content.decode()
