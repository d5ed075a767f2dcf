"""Further attacks on the client (rows 20.12 on of docs/security.rst), each with its guard."""

from __future__ import annotations

import logging

import pytest
import requests
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from django_cas_ng import views
from django_cas_ng.backends import CASBackend
from tests import urls as suite_urls
from tests.cas_answers import cas1_success, failure_xml, success_xml
from tests.conftest import CAS
from tests.test_attacks import recheck_answer

pytestmark = pytest.mark.django_db

CAS1_VALIDATE = CAS + "validate"
VALIDATE = CAS + "p3/serviceValidate"
TEXT = {"Content-Type": "text/plain"}

#: Names a CAS 1 or JSON answer can carry but no XML answer can: NUL, and other C0 controls.
CONTROL_NAMES = ["alice\x00root", "al\x01ice", "alice\x1b[2J"]


# --- 20.12 Control characters in a CAS name ---------------------------------------------------


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_a_cas1_name_with_a_control_character_is_refused(
    client: Client, cas_http, settings, caplog, name: str
) -> None:
    settings.CAS_VERSION = "1"
    cas_http.get(CAS1_VALIDATE, body=cas1_success(name), headers=TEXT)
    with caplog.at_level(logging.WARNING, logger="django_cas_ng"):
        response = client.get("/accounts/login/?next=/&ticket=ST-1-control")
    assert response.status_code == 403
    assert not get_user_model().objects.exists()
    refusals = [r.getMessage() for r in caplog.records if "control character" in r.getMessage()]
    assert refusals and "ST-1-control" not in refusals[0]


def test_a_recheck_naming_a_control_character_user_ends_the_session(
    client: Client, cas_http, settings, caplog
) -> None:
    """Step-up and the re-check compare the answer's name (:func:`stepup.answer_username`)."""
    settings.CAS_VERSION = "1"
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django_cas_ng.recheck.SessionRecheckMiddleware"]
    settings.CAS_RECHECK_INTERVAL = 600
    cas_http.get(CAS1_VALIDATE, body=cas1_success("alice"), headers=TEXT)
    client.get("/accounts/login/", {"ticket": "ST-1-signin", "next": "/"})
    assert "_auth_user_id" in client.session
    with caplog.at_level(logging.WARNING, logger="django_cas_ng"):
        recheck_answer(client, cas_http, cas1_success("alice\x00"), CAS1_VALIDATE, **TEXT)
    assert "_auth_user_id" not in client.session
    assert any("control character" in r.getMessage() for r in caplog.records)


def test_an_attribute_value_with_nul_is_not_applied_to_the_user(settings, caplog) -> None:
    """A NUL no database text column takes (PostgreSQL refuses it; no parsed answer carries
    one, an overridden ``validate`` might): skipped with a warning, as values a field cannot
    hold are, like Django's form fields refuse it."""
    settings.CAS_APPLY_ATTRIBUTES_TO_USER = True
    user = get_user_model().objects.create_user("alice")
    with caplog.at_level(logging.WARNING, logger="django_cas_ng"):
        CASBackend().apply_attributes(user, {"first_name": "Ali\x00ce", "last_name": "Liddell"})
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("", "Liddell")
    assert any("first_name" in r.getMessage() for r in caplog.records)


# --- 20.13 The ticket in the login view's URL, through the Referer header ------------------------


class OwnPolicyLoginView(views.LoginView):
    """A site's login view that chose its own referrer policy."""

    def successful_login(self, request: HttpRequest, next_page: str) -> HttpResponse:
        response = super().successful_login(request, next_page)
        response["Referrer-Policy"] = "strict-origin"
        return response


urlpatterns = [
    path("own-policy/login/", OwnPolicyLoginView.as_view()),
    *suite_urls.urlpatterns,
]


def test_a_login_page_answered_while_cas_is_unreachable_sends_no_referrer(
    client: Client, cas_http
) -> None:
    """The 503 keeps the ticket usable for a retry, and the page's URL carries it: a link
    followed from the page (to this site's pages and their scripts too) must not carry it."""
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    response = client.get("/accounts/login/?next=/&ticket=ST-1-retry")
    assert response.status_code == 503
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("answer", "status"),
    [(success_xml("alice"), 302), (None, 302), (failure_xml(), 403)],
    ids=["signed-in", "to-cas", "refused"],
)
def test_every_login_view_answer_sends_no_referrer(
    client: Client, cas_http, answer: str | None, status: int
) -> None:
    if answer is not None:
        cas_http.get(VALIDATE, body=answer)
    query = "?next=/&ticket=ST-1-abc" if answer is not None else "?next=/"
    response = client.get("/accounts/login/" + query)
    assert response.status_code == status
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.urls(__name__)
def test_a_referrer_policy_the_site_set_on_the_login_answer_is_kept(
    client: Client, cas_http, settings
) -> None:
    settings.MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", *settings.MIDDLEWARE]
    cas_http.get(VALIDATE, body=success_xml("alice"))
    response = client.get("/own-policy/login/?next=/&ticket=ST-1-abc")
    assert response.status_code == 302
    assert response["Referrer-Policy"] == "strict-origin"
