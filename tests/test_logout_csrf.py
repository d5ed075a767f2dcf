"""Logout CSRF: a GET the site's own pages did not start (a link or image on another site, a
sibling host, an old browser without Fetch Metadata or Referer) does not sign anyone out; it
gets a page whose button POSTs, CSRF-protected. Same-origin GETs and POSTs keep working."""

from __future__ import annotations

import re

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.test import Client
from django.urls import path
from django.utils import translation

from django_cas_ng import views
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

LOGOUT = "/accounts/logout/"


@pytest.fixture
def alice(client: Client, django_user_model) -> Client:
    client.force_login(django_user_model.objects.create_user("alice"))
    return client


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_a_cross_site_get_does_not_sign_out(alice: Client) -> None:
    response = alice.get(LOGOUT, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 403
    assert signed_in(alice)


def test_a_cross_site_get_is_answered_with_a_form_that_posts(alice: Client) -> None:
    response = alice.get(LOGOUT, {"next": "/private/"}, HTTP_SEC_FETCH_SITE="cross-site")
    body = response.content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/"', body)
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'name="next" value="/private/"' in body


@pytest.mark.parametrize("fetch_site", ["same-origin", "none"])
def test_a_same_origin_get_signs_out(alice: Client, fetch_site: str) -> None:
    response = alice.get(LOGOUT, HTTP_SEC_FETCH_SITE=fetch_site)
    assert response.url.startswith(CAS + "logout")
    assert not signed_in(alice)


def test_a_same_site_get_from_a_sibling_host_does_not_sign_out(alice: Client) -> None:
    response = alice.get(LOGOUT, HTTP_SEC_FETCH_SITE="same-site")
    assert response.status_code == 403
    assert signed_in(alice)


def test_a_get_without_fetch_metadata_or_referer_does_not_sign_out(django_user_model) -> None:
    browser = Client()  # an older browser; an attacker's page can withhold the Referer
    browser.force_login(django_user_model.objects.create_user("alice"))
    assert browser.get(LOGOUT).status_code == 403
    assert signed_in(browser)


@pytest.mark.parametrize(
    ("referer", "signs_out"),
    [
        ("http://testserver/private/", True),
        ("http://sibling.testserver/", False),
        ("https://testserver/private/", False),
        ("http://evil.example/", False),
    ],
)
def test_without_fetch_metadata_only_a_referer_of_this_origin_signs_out(
    django_user_model, referer: str, signs_out: bool
) -> None:
    browser = Client()
    browser.force_login(django_user_model.objects.create_user("alice"))
    browser.get(LOGOUT, HTTP_REFERER=referer)
    assert signed_in(browser) is not signs_out


def test_the_confirmation_form_signs_out_with_its_csrf_token(django_user_model) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_user("alice"))
    page = browser.get(LOGOUT, HTTP_SEC_FETCH_SITE="cross-site").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = browser.post(LOGOUT, {"csrfmiddlewaretoken": token.group(1)})
    assert response.url.startswith(CAS + "logout")
    assert "_auth_user_id" not in browser.session


def test_a_forged_post_without_token_is_refused(django_user_model) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_user("alice"))
    assert browser.post(LOGOUT).status_code == 403
    assert "_auth_user_id" in browser.session


def test_the_confirmation_form_does_not_land_back_on_itself(django_user_model) -> None:
    """A browser POSTs the form with the confirmation page as Referer: following it would
    bring the signed-out user back to "Another site asked to sign you out"."""
    browser = Client()
    browser.force_login(django_user_model.objects.create_user("alice"))
    browser.get(LOGOUT, HTTP_SEC_FETCH_SITE="cross-site")
    response = browser.post(LOGOUT, HTTP_REFERER="http://testserver" + LOGOUT)
    assert response.url == CAS + "logout?service=http%3A%2F%2Ftestserver%2F"


def test_the_confirmation_form_keeps_the_next_of_its_own_url(django_user_model) -> None:
    browser = Client()
    browser.force_login(django_user_model.objects.create_user("alice"))
    referer = "http://testserver" + LOGOUT + "?next=%2Fprivate%2F"
    response = browser.post(LOGOUT, HTTP_REFERER=referer)
    assert response.url == CAS + "logout?service=http%3A%2F%2Ftestserver%2Fprivate%2F"


#: The login and logout views under a language prefix, as a site with ``i18n_patterns`` has.
urlpatterns = i18n_patterns(
    path("accounts/login/", views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="cas_ng_logout"),
)


@pytest.mark.urls("tests.test_logout_csrf")
@pytest.mark.parametrize("languages", [("en", "fr"), ("fr", "en")])
def test_the_confirmation_form_does_not_land_back_on_itself_in_any_language(
    django_user_model, settings, languages: tuple[str, str]
) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:1],
        "django.middleware.locale.LocaleMiddleware",
        *settings.MIDDLEWARE[1:],
    ]
    user = django_user_model.objects.create_user("alice")
    try:
        for language in languages:
            browser = Client()
            browser.force_login(user)
            logout = f"/{language}/accounts/logout/"
            response = browser.post(logout, HTTP_REFERER="http://testserver" + logout)
            assert response.url == CAS + "logout?service=http%3A%2F%2Ftestserver%2F"
    finally:
        translation.deactivate()
