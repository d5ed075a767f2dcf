"""The pages and messages a signed-out visitor sees speak the language the browser asks for.

``LocaleMiddleware`` picks the language from ``Accept-Language``; the CAS server is faked
with ``responses`` and refuses the ticket (403 page) or cannot be reached (503 page).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django.utils import translation

from django_cas_ng.exceptions import TicketValidationError
from django_cas_ng.views import LoginView
from tests.conftest import CAS, failure_xml, success_xml

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"

#: Three languages, three scripts: (Accept-Language, heading, a phrase of the body).
REFUSED = [
    ("es", "No se pudo iniciar sesión", "no ha aceptado este ticket"),
    ("uk", "Не вдалося увійти", "не прийняв цей квиток"),  # noqa: RUF001
    ("zh-hans", "登录失败", "未接受此登录票据"),
]
UNAVAILABLE = [
    ("es", "El inicio de sesión no está disponible temporalmente", "no ha respondido"),
    ("uk", "Вхід у систему тимчасово недоступний", "не відповіла"),  # noqa: RUF001
    ("zh-hans", "登录服务暂时不可用", "没有响应"),
]


@pytest.fixture(autouse=True)
def locale_middleware(settings) -> Iterator[None]:
    """The site negotiates the language per request, as a multilingual site does."""
    middleware = list(settings.MIDDLEWARE)
    sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    middleware.insert(sessions + 1, "django.middleware.locale.LocaleMiddleware")
    settings.MIDDLEWARE = middleware
    yield
    # LocaleMiddleware activates the language for the thread and leaves it active.
    translation.deactivate()


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "heading", "reason"), REFUSED, ids=[row[0] for row in REFUSED]
)
def test_login_failed_page_is_translated(
    client: Client, cas_http, language: str, heading: str, reason: str
) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    response = client.get("/accounts/login/?ticket=ST-1-abc", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 403
    assert f"<h1>{heading}</h1>" in html(response)
    assert reason in html(response)
    assert f'<html lang="{language}"' in html(response)
    assert "Sign-in failed" not in html(response)


@pytest.mark.parametrize(
    ("language", "heading", "explanation"), UNAVAILABLE, ids=[row[0] for row in UNAVAILABLE]
)
def test_unavailable_page_is_translated(
    client: Client, cas_http, language: str, heading: str, explanation: str
) -> None:
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    response = client.get("/accounts/login/?ticket=ST-1-abc", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 503
    assert f"<h1>{heading}</h1>" in html(response)
    assert explanation in html(response)
    assert "temporarily unavailable" not in html(response)


def test_pages_stay_english_without_a_language_preference(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    response = client.get("/accounts/login/?ticket=ST-1-abc")
    assert "<h1>Sign-in failed</h1>" in html(response)
    assert '<html lang="en" dir="ltr">' in html(response)


def test_right_to_left_language_sets_the_direction(client: Client, cas_http) -> None:
    """A language we ship no catalogue for still gets the right ``dir`` from Django."""
    cas_http.get(VALIDATE, body=failure_xml())
    response = client.get("/accounts/login/?ticket=ST-1-abc", HTTP_ACCEPT_LANGUAGE="ar")
    assert '<html lang="ar" dir="rtl">' in html(response)


def test_welcome_message_is_translated(client: Client, cas_http) -> None:
    """The default ``CAS_LOGIN_MSG`` is lazy, so it speaks the language of the login request."""
    cas_http.get(VALIDATE, body=success_xml("alice"))
    response = client.get("/accounts/login/?ticket=ST-1-abc", HTTP_ACCEPT_LANGUAGE="de")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Anmeldung erfolgreich. Willkommen, alice."
    ]


def test_refusal_reason_is_translated_for_direct_callers() -> None:
    """Called directly, the view raises the refusal in the language active at that moment."""
    request = RequestFactory().get("/accounts/login/?ticket=not a ticket")
    request.session = SessionStore()
    request.user = AnonymousUser()
    with translation.override("fr"), pytest.raises(TicketValidationError) as refusal:
        LoginView().get(request)
    assert "Le serveur CAS a refusé ce ticket" in str(refusal.value)


@pytest.mark.parametrize(
    "language",
    ["ca", "de", "es", "fr", "it", "ja", "nl", "pl", "pt-br", "ru", "uk", "zh-hans"],
)
def test_django_finds_the_catalogue_of_every_shipped_language(language: str) -> None:
    """Each locale directory is named so that Django maps the language code onto it."""
    with translation.override(language):
        assert translation.gettext("Sign-in failed") != "Sign-in failed"
        assert translation.get_language() == language
