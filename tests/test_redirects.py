"""Open-redirect payloads are refused wherever a redirect target comes from the browser:
``next`` on login, the Referer, ``next`` on logout. Same-site targets are honoured."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, RequestFactory
from django.urls import path as url_path

from django_cas_ng._internal.urls import (
    clean_next_page,
    is_local_url,
    is_safe_url,
    login_path,
)
from django_cas_ng.exceptions import RedirectException
from django_cas_ng.views import LoginView
from tests.cas_answers import success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
DEFAULT_LANDING = "/"

UNSAFE = [
    # scheme-relative and slash/backslash confusion
    "//evil.example",
    "//evil.example/",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "\\/\\/evil.example",
    "//testserver@evil.example",
    # absolute URLs to another host, however spelled
    "http://evil.example",
    "https://evil.example/",
    "ftp://evil.example/",
    "HTTPS://evil.example",
    "HtTp://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "https:///evil.example",
    "http:\\\\evil.example",
    "http:/\\evil.example",
    "https://evil.example:443",
    "http://127.0.0.2/",
    # userinfo, fragment and query tricks around this site's name
    "http://testserver@evil.example",
    "http://testserver:80@evil.example",
    "http://evil.example\\@testserver",
    "https://evil.example#@testserver",
    "https://evil.example?@testserver",
    "https://evil.example\\.testserver",
    "https://testserver.evil.example",
    "https://testserver%40evil.example",
    "//evil.example%2F@testserver",
    "//%65vil.example",
    # control characters that browsers (and urlsplit) drop
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "\x00//evil.example",
    # script and data schemes
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\nscript:alert(1)",
    "java\tscript:alert(1)",
    " javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    # unicode look-alikes of '.' and of the host name
    "//evil\u3002example",
    "//\uff45\uff56\uff49\uff4c.example",
    "//evil\uff0eexample",
    "https://evil\u3002example",
]

SAFE_NEXT = [
    "/private/",
    "/a?b=c",
    "/private/?a=1&b=2",
    "http://testserver/x",
    "https://testserver/x",
]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.fixture
def accepting(cas_http) -> None:
    """The fake CAS server accepts the ticket."""
    cas_http.get(VALIDATE, body=success_xml("alice"))


def test_there_are_at_least_forty_payloads() -> None:
    assert len(set(UNSAFE)) == len(UNSAFE) >= 40


# --- refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", UNSAFE)
def test_is_safe_url_refuses(rf: RequestFactory, payload: str) -> None:
    assert is_safe_url(rf.get("/"), payload) is False


@pytest.mark.parametrize("payload", UNSAFE)
def test_clean_next_page_refuses(rf: RequestFactory, payload: str) -> None:
    with pytest.raises(RedirectException):
        clean_next_page(rf.get("/"), payload)


@pytest.mark.parametrize("payload", UNSAFE)
def test_unsafe_next_is_kept_out_of_the_service_url(client: Client, payload: str) -> None:
    response = client.get("/accounts/login/", {"next": payload})
    service = query(response.url)["service"][0]
    assert query(service)["next"] == [DEFAULT_LANDING]


@pytest.mark.parametrize("payload", UNSAFE)
def test_unsafe_next_after_login_lands_on_default_page(
    client: Client, accepting, payload: str
) -> None:
    response = client.get("/accounts/login/", {"next": payload, "ticket": "ST-1-abc"})
    assert (response.status_code, response.url) == (302, DEFAULT_LANDING)


@pytest.mark.parametrize("payload", UNSAFE)
def test_unsafe_referer_after_login_lands_on_default_page(
    client: Client, accepting, payload: str
) -> None:
    response = client.get("/accounts/login/", {"ticket": "ST-1-abc"}, HTTP_REFERER=payload)
    assert (response.status_code, response.url) == (302, DEFAULT_LANDING)


@pytest.mark.parametrize("payload", UNSAFE)
def test_unsafe_logout_next_returns_to_this_site(client: Client, payload: str) -> None:
    response = client.get("/accounts/logout/", {"next": payload})
    assert query(response.url)["service"] == ["http://testserver/"]


@pytest.mark.parametrize("payload", UNSAFE)
def test_unsafe_logout_next_lands_on_default_page_without_cas_logout(
    client: Client, settings, payload: str
) -> None:
    settings.CAS_LOGOUT_COMPLETELY = False
    response = client.get("/accounts/logout/", {"next": payload})
    assert response.url == DEFAULT_LANDING


def test_percent_encoded_next_is_refused_once_decoded(client: Client, accepting) -> None:
    response = client.get("/accounts/login/?next=%2F%2Fevil.example&ticket=ST-1-abc")
    assert response.url == DEFAULT_LANDING


def test_downgrade_to_http_is_refused_on_a_secure_request(rf: RequestFactory) -> None:
    assert is_safe_url(rf.get("/", secure=True), "http://testserver/x") is False


@pytest.mark.parametrize("empty", [None, ""])
def test_no_target_is_not_a_safe_target(rf: RequestFactory, empty: str | None) -> None:
    assert is_safe_url(rf.get("/"), empty) is False


# --- honoured --------------------------------------------------------------------------------


@pytest.mark.parametrize("target", SAFE_NEXT)
def test_is_safe_url_accepts(rf: RequestFactory, target: str) -> None:
    assert is_safe_url(rf.get("/"), target) is True


@pytest.mark.parametrize("target", SAFE_NEXT)
def test_safe_next_after_login_is_honoured(client: Client, accepting, target: str) -> None:
    response = client.get("/accounts/login/", {"next": target, "ticket": "ST-1-abc"})
    assert response.url == target


@pytest.mark.parametrize(
    ("referer", "landing"),
    [
        ("http://testserver/private/", "/private/"),
        ("http://testserver/a?b=c", "/a?b=c"),
        ("http://testserver/x#section", "/x"),
        ("/private/", "/private/"),
    ],
)
def test_same_site_referer_after_login_is_honoured(
    client: Client, accepting, referer: str, landing: str
) -> None:
    response = client.get("/accounts/login/", {"ticket": "ST-1-abc"}, HTTP_REFERER=referer)
    assert response.url == landing


@pytest.mark.parametrize(
    ("target", "returned_to"),
    [
        ("/private/", "http://testserver/private/"),
        ("/a?b=c", "http://testserver/a?b=c"),
        ("http://testserver/x", "http://testserver/x"),
    ],
)
def test_safe_logout_next_is_honoured(client: Client, target: str, returned_to: str) -> None:
    response = client.get("/accounts/logout/", {"next": target})
    assert query(response.url)["service"] == [returned_to]


def test_ignore_referer_ignores_even_a_same_site_referer(
    client: Client, accepting, settings
) -> None:
    settings.CAS_IGNORE_REFERER = True
    response = client.get(
        "/accounts/login/", {"ticket": "ST-1-abc"}, HTTP_REFERER="http://testserver/private/"
    )
    assert response.url == DEFAULT_LANDING


def test_check_next_off_lets_any_next_through(client: Client, accepting, settings) -> None:
    """``CAS_CHECK_NEXT = False`` is the documented opt-out for sites redirecting to siblings."""
    settings.CAS_CHECK_NEXT = False
    response = client.get(
        "/accounts/login/", {"next": "https://sibling.example/", "ticket": "ST-1-abc"}
    )
    assert response.url == "https://sibling.example/"


# --- same-origin Referers whose path looks like an authority ---------------------------------

#: Paths that a browser (or ``urljoin``) would read as another host once the origin is gone.
AUTHORITY_LIKE_PATHS = [
    "//evil.example/x",
    "//evil.example",
    "///evil.example/x",
    "/\\evil.example/x",
    "/\\/evil.example",
    "/%2F%2Fevil.example/x",
    "/%2f/evil.example",
    "/%5C%5Cevil.example",
    "/.//evil.example/x",
    "/./\\evil.example",
    "/%2e//evil.example",
    "/..//evil.example",
]
SAME_ORIGIN_REFERERS = [
    origin + path
    for origin in ("http://testserver", "HTTP://TESTSERVER")
    for path in AUTHORITY_LIKE_PATHS
]


def _leaves_the_site(location: str) -> bool:
    """True when a browser following ``location`` from this site would change host."""
    host = urlsplit(location.replace("\\", "/")).netloc
    return host not in ("", "testserver")


def test_authority_like_paths_are_refused_by_the_final_check(rf: RequestFactory) -> None:
    request = rf.get("/")
    for path in AUTHORITY_LIKE_PATHS:
        assert is_safe_url(request, path) is False, path


@pytest.mark.parametrize("referer", SAME_ORIGIN_REFERERS)
def test_same_origin_authority_referer_is_kept_out_of_the_service_url(
    client: Client, referer: str
) -> None:
    response = client.get("/accounts/login/", HTTP_REFERER=referer)
    service = query(response.url)["service"][0]
    assert query(service)["next"] == [DEFAULT_LANDING]


@pytest.mark.parametrize("referer", SAME_ORIGIN_REFERERS)
def test_same_origin_authority_referer_for_signed_in_user_lands_on_default_page(
    client: Client, django_user_model, referer: str
) -> None:
    client.force_login(django_user_model.objects.create_user("alice"))
    response = client.get("/accounts/login/", HTTP_REFERER=referer)
    assert (response.status_code, response.url) == (302, DEFAULT_LANDING)


@pytest.mark.parametrize("referer", SAME_ORIGIN_REFERERS)
def test_same_origin_authority_referer_after_cas_round_trip_lands_on_default_page(
    client: Client, accepting, referer: str
) -> None:
    response = client.get("/accounts/login/", {"ticket": "ST-1-abc"}, HTTP_REFERER=referer)
    assert (response.status_code, response.url) == (302, DEFAULT_LANDING)
    assert not _leaves_the_site(response.url)


@pytest.mark.parametrize("referer", SAME_ORIGIN_REFERERS)
def test_same_origin_authority_referer_at_local_logout_lands_on_default_page(
    client: Client, settings, referer: str
) -> None:
    settings.CAS_LOGOUT_COMPLETELY = False
    response = client.get("/accounts/logout/", HTTP_REFERER=referer)
    assert response.url == DEFAULT_LANDING


@pytest.mark.parametrize("referer", SAME_ORIGIN_REFERERS)
def test_same_origin_authority_referer_behind_proxy_returns_to_the_public_site(
    client: Client, settings, referer: str
) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    response = client.get("/accounts/logout/", HTTP_REFERER=referer)
    assert query(response.url)["service"] == ["https://www.example.org/"]


@pytest.mark.parametrize("next_page", AUTHORITY_LIKE_PATHS)
def test_authority_like_next_behind_proxy_returns_to_the_public_site(
    client: Client, settings, next_page: str
) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://www.example.org"
    response = client.get("/accounts/logout/", {"next": next_page})
    assert query(response.url)["service"] == ["https://www.example.org/"]


@pytest.mark.parametrize("path", AUTHORITY_LIKE_PATHS)
def test_authority_like_stored_next_lands_on_default_page(
    client: Client, settings, accepting, path: str
) -> None:
    settings.CAS_STORE_NEXT = True
    session = client.session
    session["CASNEXT"] = path
    session.save()
    response = client.get("/accounts/login/", {"ticket": "ST-1-abc"})
    assert response.url == DEFAULT_LANDING


@pytest.mark.parametrize("setting", ["CAS_LOGIN_NEXT_PAGE", "CAS_REDIRECT_URL"])
def test_authority_like_configured_landing_is_refused(
    client: Client, settings, accepting, setting: str
) -> None:
    setattr(settings, setting, "//evil.example/x")
    response = client.get("/accounts/login/", {"ticket": "ST-1-abc"})
    assert not _leaves_the_site(response.url)


def test_a_plain_same_origin_referer_is_still_honoured(client: Client, accepting) -> None:
    response = client.get(
        "/accounts/login/", {"ticket": "ST-1-abc"}, HTTP_REFERER="http://testserver/a//b/"
    )
    assert response.url == "/a//b/"


@pytest.mark.parametrize(
    ("host_url", "url"),
    [
        ("//a.com", "http://a.com/"),
        ("//a.com", "https://a.com/x"),
        ("http://a.com/", "https://a.com/"),
        ("https://a.com/", "http://a.com/"),
    ],
)
def test_is_local_url_requires_scheme_and_host_to_match(host_url: str, url: str) -> None:
    assert is_local_url(host_url, url) is False


#: A URLconf with the login view elsewhere, for the test below.
urlpatterns = [url_path("sso/in/", LoginView.as_view(), name="cas_ng_login")]


def test_the_login_path_follows_a_change_of_urlconf(settings) -> None:
    assert login_path() == "/accounts/login/"
    settings.ROOT_URLCONF = __name__
    assert login_path() == "/sso/in/"


def test_the_login_path_follows_a_change_of_login_url_name(settings) -> None:
    assert login_path() == "/accounts/login/"
    settings.CAS_LOGIN_URL_NAME = "no_such_view"
    assert login_path() is None
