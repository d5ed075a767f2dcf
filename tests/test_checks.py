"""System checks: each id fires on the bad setting it names and stays silent on good ones."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.checks import run_checks
from django.urls import reverse_lazy

from django_cas_ng import checks
from django_cas_ng.backends import CASBackend
from django_cas_ng.checks import check_settings
from django_cas_ng.conf import DEFAULTS
from django_cas_ng.middleware import CASMiddleware
from tests import settings as test_settings
from tests import tenants


class CampusBackend(CASBackend):
    """A site's own subclass, as AUTHENTICATION_BACKENDS may name it."""


class CampusSessionMiddleware(SessionMiddleware):
    pass


class CampusAuthenticationMiddleware(AuthenticationMiddleware):
    pass


class CampusCASMiddleware(CASMiddleware):
    pass


SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
CAS_MIDDLEWARE = "django_cas_ng.middleware.CASMiddleware"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def handler(user: Any, affiliations: list[str]) -> None:
    """An affiliations handler."""


#: A site on another CAS version than 3 does not route the step-up view (E101).
NO_STEPUP = {"ROOT_URLCONF": "tests.urls_without_stepup"}
#: A cache each server process keeps for itself, and one they share (W006).
PROCESS_CACHE = {
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
}
SHARED_CACHE = {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}}


def ids() -> list[str]:
    """The ids of every django_cas_ng check Django runs and reports, as ``manage.py check``
    does: silenced ones left out."""
    silenced = set(django_settings.SILENCED_SYSTEM_CHECKS)
    return [
        message.id
        for message in run_checks()
        if message.id.startswith("django_cas_ng.") and message.id not in silenced
    ]


def ids_in_source() -> set[str]:
    """Every id checks.py can emit, read from the ``_error(n, ...)``/``_warning(n, ...)`` calls."""
    source = inspect.getsource(checks)
    errors = {f"E{int(n):03d}" for n in re.findall(r"_error\(\s*(\d+)", source)}
    warnings = {f"W{int(n):03d}" for n in re.findall(r"_warning\(\s*(\d+)", source)}
    return errors | warnings


def apply(settings: Any, overrides: dict[str, Any]) -> None:
    for name, value in overrides.items():
        setattr(settings, name, value)


def test_the_test_settings_pass_every_check() -> None:
    assert check_settings() == []


def test_every_default_passes_once_the_server_url_is_set(settings) -> None:
    for name in DEFAULTS:
        if name != "CAS_SERVER_URL" and hasattr(settings, name):
            delattr(settings, name)
    assert ids() == []


def test_the_test_settings_pass_every_registered_check() -> None:
    assert ids() == []


def test_check_settings_is_registered_with_django(settings) -> None:
    settings.CAS_VERSION = "4"
    assert "django_cas_ng.E003" in [message.id for message in run_checks()]


BAD: list[tuple[str, dict[str, Any]]] = [
    ("E001", {"CAS_SERVER_URL": None}),
    ("E001", {"CAS_SERVER_URL": ""}),
    ("E002", {"CAS_SERVER_URL": "cas.example.org/cas/"}),
    ("E002", {"CAS_SERVER_URL": "ftp://cas.example.org/cas/"}),
    ("E002", {"CAS_SERVER_URL": "https://"}),
    ("E003", {"CAS_VERSION": "4"}),
    ("E003", {"CAS_VERSION": 4}),
    ("E003", {"CAS_VERSION": "saml"}),
    ("E003", {"CAS_VERSION": True}),
    ("E004", {"CAS_FORCE_CHANGE_USERNAME_CASE": "title"}),
    ("E004", {"CAS_FORCE_CHANGE_USERNAME_CASE": "LOWER"}),
    ("E005", {"MIDDLEWARE": [AUTH, CAS_MIDDLEWARE]}),
    ("E006", {"MIDDLEWARE": [SESSIONS, CAS_MIDDLEWARE]}),
    ("E006", {"MIDDLEWARE": [SESSIONS, CAS_MIDDLEWARE, AUTH]}),
    ("E017", {"CAS_LOGIN_URL_NAME": "sso_login"}),
    ("E017", {"CAS_LOGOUT_URL_NAME": "sso_logout", "CAS_ADMIN_PREFIX": "/admin/"}),
    ("E017", {"LOGIN_URL": "cas_ng_signin"}),
    ("E018", {"CAS_USERNAME_ATTRIBUTE": "uid", "CAS_VERSION": "1", **NO_STEPUP}),
    ("W070", {"CAS_REDIRECT_ULR": "/admin/"}),
    ("W070", {"CAS_LOGOUT_COMPLETLY": False}),
    ("E007", {"AUTHENTICATION_BACKENDS": [MODEL_BACKEND]}),
    ("E007", {"AUTHENTICATION_BACKENDS": [MODEL_BACKEND, "no.such.Backend"]}),
    ("E008", {"CAS_GATEWAY": True, "CAS_RENEW": True}),
    ("E009", {"CAS_EXTRA_LOGIN_PARAMS": "locale=fr"}),
    ("E009", {"CAS_RENAME_ATTRIBUTES": [("mail", "email")]}),
    ("E009", {"CAS_PROXY_CHAINS": ["https://api.example.org/"]}),
    ("E009", {"CAS_AFFILIATIONS_HANDLERS": ["myapp.handlers.staff"]}),
    ("E009", {"CAS_AFFILIATIONS_HANDLERS": handler}),
    ("E009", {"CAS_SESSION_FACTORY": "requests.Session"}),
    ("E009", {"CAS_TIMEOUT": 0}),
    ("E009", {"CAS_TIMEOUT": "5"}),
    ("E009", {"CAS_TIMEOUT": True}),
    ("E009", {"CAS_TIMEOUT": (3,)}),
    ("E009", {"CAS_TIMEOUT": (3, -1)}),
    ("E009", {"CAS_MAX_RESPONSE_BYTES": 0}),
    ("E009", {"CAS_MAX_RESPONSE_BYTES": "1MB"}),
    ("E009", {"CAS_SLO_MAX_BYTES": -1}),
    ("E009", {"CAS_SLO_ALLOWED_NETWORKS": "10.0.0.0/8"}),
    ("E009", {"CAS_SLO_ALLOWED_NETWORKS": ["cas.example.org"]}),
    ("E009", {"CAS_CA_BUNDLE": 1}),
    ("E009", {"CAS_CLIENT_CERT": 1}),
    ("E009", {"CAS_REDIRECT_URL": ""}),
    ("E009", {"CAS_REDIRECT_URL": None}),
    ("E009", {"CAS_USERNAME_ATTRIBUTE": ""}),
    ("E009", {"CAS_AFFILIATIONS_KEY": None}),
    ("E009", {"CAS_LOGIN_MSG": "Welcome!"}),
    ("E009", {"CAS_LOGGED_MSG": "Hello %s, you are %s"}),
    ("E009", {"CAS_LOGIN_MSG": "100% welcome, %s"}),
    ("E009", {"CAS_SLO_FRONT_CHANNEL": "yes"}),
    ("E010", {"CAS_PROXY_CALLBACK": "/accounts/callback/"}),
    ("E010", {"CAS_PROXY_CALLBACK": "http://www.example.org/accounts/callback/"}),
    ("E011", {"CAS_ROOT_PROXIED_AS": "www.example.org"}),
    ("E011", {"CAS_ROOT_PROXIED_AS": "/"}),
    ("E012", {"CAS_PROXY_CHAINS": {"api.example.org": [["https://app.example.org/cb"]]}}),
    ("E012", {"CAS_PROXY_CHAINS": {"*": "https://app.example.org/cb"}}),
    ("E013", {"CAS_SERVER_URL": "/cas/", "ALLOWED_HOSTS": ["*"]}),
    ("E013", {"CAS_SERVER_URL": "/cas/", "ALLOWED_HOSTS": [".example.org"], "DEBUG": True}),
    ("E101", {"CAS_VERSION": "2"}),
    ("E014", {"CAS_API_REQUEST_PREDICATE": "tests.nowhere.wants_json"}),
    ("E014", {"CAS_API_REQUEST_PREDICATE": "django_cas_ng.api.JSON"}),
    ("E014", {"CAS_API_REQUEST_PREDICATE": 42}),
    ("E030", {"CAS_CONFIG_RESOLVER": "tests.tenants.missing"}),
    ("E030", {"CAS_CONFIG_RESOLVER": "tests.tenants.NOT_CALLABLE"}),
    ("W001", {"CAS_VERIFY_SSL_CERTIFICATE": False}),
    ("W002", {"SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies"}),
    ("W003", {"CAS_SERVER_URL": "http://cas.example.org/cas/", "DEBUG": False}),
    ("W020", {"CAS_RESPONSE_FORMAT": "JSON", "CAS_VERSION": "1", **NO_STEPUP}),
    ("E009", {"CAS_RESPONSE_FORMAT": "json"}),
    ("E009", {"CAS_LOGIN_METHOD": "post"}),
    ("E009", {"CAS_MAX_ATTRIBUTE_VALUES": 0}),
    ("W060", {"MIDDLEWARE": [SESSIONS, AUTH]}),
    (
        "E040",
        {
            "CAS_CONFIG_RESOLVER": "tests.tenants.resolver",
            "MIDDLEWARE": [SESSIONS, AUTH],
            "SILENCED_SYSTEM_CHECKS": ["django_cas_ng.W060"],
        },
    ),
    ("E041", {"CAS_USER_ID_ATTRIBUTE": "employeeNumber", "CAS_VERSION": "1", **NO_STEPUP}),
    ("E042", {"CAS_GROUPS_ATTRIBUTE": "memberOf"}),
    ("E043", {"CAS_USER_FLAGS": {"email": {"affiliation": ["staff"]}}}),
    ("W040", {"CAS_LONG_TERM_LOGIN": 10**9}),
    (
        "W041",
        {
            "CAS_SERVER_URL": tenants.server_for_host,
            "ALLOWED_HOSTS": ["a.example", "b.example"],
            "CAS_ADMIN_AFFILIATION": "admin",
        },
    ),
    ("W006", {"SESSION_ENGINE": "django.contrib.sessions.backends.cache", **PROCESS_CACHE}),
    ("W006", {"SESSION_ENGINE": "django.contrib.sessions.backends.cached_db", **PROCESS_CACHE}),
    ("W050", {"CAS_REPLAY_WINDOW": 0}),
    ("E050", {"CAS_SESSION_MAX_AGE": 3600}),
    ("E051", {"CAS_RECHECK_INTERVAL": 900}),
    ("E052", {"CAS_RATE_LIMIT_CACHE": "nowhere"}),
    ("E009", {"CAS_RATE_LIMITS": {"ticket": "many"}}),
    ("E009", {"CAS_RATE_LIMITS": {"login": "30/m"}}),
    ("E009", {"CAS_RECHECK_INTERVAL": 0}),
    ("E009", {"CAS_SESSION_MAX_AGE": "8h"}),
    ("E009", {"CAS_REPLAY_WINDOW": -1}),
    ("E016", {"ALLOWED_HOSTS": ["*"], "DEBUG": False}),
    ("E016", {"ALLOWED_HOSTS": [".example.org"], "DEBUG": False}),
    ("E015", {"CAS_SERVICE_HOSTS": ["https://www.example.org/app/"]}),
    ("E015", {"CAS_SERVICE_HOSTS": ["*.example.org"]}),
    ("E015", {"CAS_SERVICE_HOSTS": ["ftp://www.example.org"]}),
    ("E009", {"CAS_SERVICE_HOSTS": "www.example.org"}),
    (
        "W005",
        {
            "LOGIN_URL": "/private/",
            "MIDDLEWARE": [
                *test_settings.MIDDLEWARE,
                "django.contrib.auth.middleware.LoginRequiredMiddleware",
            ],
        },
    ),
]


@pytest.mark.parametrize(
    ("check_id", "overrides"), BAD, ids=[f"{cid}-{next(iter(o.values()))!r}" for cid, o in BAD]
)
def test_check_fires_on_bad_setting_and_nothing_else_does(
    settings, check_id: str, overrides: dict[str, Any]
) -> None:
    apply(settings, overrides)
    found = ids()
    assert found
    assert set(found) == {f"django_cas_ng.{check_id}"}


def test_every_check_id_in_checks_py_has_a_bad_setting_above() -> None:
    assert {check_id for check_id, _ in BAD} == ids_in_source()


def test_errors_carry_a_hint_or_name_the_setting(settings) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = "title"
    (message,) = check_settings()
    assert "CAS_FORCE_CHANGE_USERNAME_CASE" in message.msg
    assert message.hint


GOOD: list[dict[str, Any]] = [
    {"ALLOWED_HOSTS": ["*"], "CAS_ROOT_PROXIED_AS": "https://www.example.org"},
    {"ALLOWED_HOSTS": ["*"], "DEBUG": True},
    {"ALLOWED_HOSTS": ["*"], "CAS_SERVICE_HOSTS": ["www.example.org", "https://app.example.org"]},
    {"CAS_SERVICE_HOSTS": ["intranet.example.org:8443", "http://[2001:db8::1]:8000/"]},
    {"CAS_LOGIN_MSG": None, "CAS_LOGGED_MSG": "Signed in as %s (100%% sure)."},
    {"CAS_SLO_FRONT_CHANNEL": False},
    {"CAS_SERVER_URL": "/cas/"},
    {"CAS_SERVER_URL": tenants.server_for_host},
    {"CAS_SERVER_URL": tenants.server_for_host, "ALLOWED_HOSTS": ["*"], "DEBUG": True},
    {"CAS_CONFIG_RESOLVER": "tests.tenants.resolver"},
    {"CAS_CONFIG_RESOLVER": tenants.resolver},
    {"CAS_SERVER_URL": "https://cas.example.org:8443/cas"},
    {"CAS_SERVER_URL": "http://localhost:8000/cas/", "DEBUG": True},
    {"CAS_VERSION": "1", **NO_STEPUP},
    {"CAS_VERSION": "2", **NO_STEPUP},
    {"CAS_VERSION": "CAS_2_SAML_1_0", **NO_STEPUP},
    {"CAS_VERSION": 1, **NO_STEPUP},
    {"CAS_VERSION": 2, **NO_STEPUP},
    {"CAS_VERSION": 3},
    {"CAS_FORCE_CHANGE_USERNAME_CASE": "lower"},
    {"CAS_FORCE_CHANGE_USERNAME_CASE": "upper"},
    {"CAS_FORCE_CHANGE_USERNAME_CASE": None},
    {
        "MIDDLEWARE": [
            "tests.test_checks.CampusSessionMiddleware",
            "tests.test_checks.CampusAuthenticationMiddleware",
            CAS_MIDDLEWARE,
        ]
    },
    {"AUTHENTICATION_BACKENDS": ["tests.test_checks.CampusBackend"]},
    {"CAS_GATEWAY": True},
    {"CAS_RENEW": True},
    {"CAS_EXTRA_LOGIN_PARAMS": {"locale": "fr"}},
    {"CAS_RENAME_ATTRIBUTES": {"mail": "email"}},
    {"CAS_AFFILIATIONS_HANDLERS": [handler]},
    {"CAS_AFFILIATIONS_HANDLERS": (handler,)},
    {"CAS_SESSION_FACTORY": requests.Session},
    {"CAS_TIMEOUT": 10},
    {"CAS_TIMEOUT": 2.5},
    {"CAS_TIMEOUT": (3.05, 27)},
    {"CAS_TIMEOUT": [1, 2]},
    {"CAS_SLO_ALLOWED_NETWORKS": ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]},
    {"CAS_SLO_ALLOWED_NETWORKS": []},
    {"CAS_CA_BUNDLE": "/etc/ssl/campus-ca.pem"},
    {"CAS_CLIENT_CERT": "/etc/ssl/client.pem"},
    {"CAS_CLIENT_CERT": ("/etc/ssl/client.crt", "/etc/ssl/client.key")},
    {"CAS_REDIRECT_URL": "home"},
    {"CAS_REDIRECT_URL": reverse_lazy("home")},
    {"CAS_PROXY_CALLBACK": "https://www.example.org/accounts/callback/"},
    {"CAS_ROOT_PROXIED_AS": "https://www.example.org"},
    {"CAS_PROXY_CHAINS": {"https://api.example.org/": [["https://app.example.org/cb"]]}},
    {"CAS_VERIFY_SSL_CERTIFICATE": True},
    {"SESSION_ENGINE": "django.contrib.sessions.backends.cache", **SHARED_CACHE},
    {"SESSION_ENGINE": "django.contrib.sessions.backends.cache", **PROCESS_CACHE, "DEBUG": True},
]


@pytest.mark.parametrize("overrides", GOOD, ids=[repr(o) for o in GOOD])
def test_checks_are_silent_on_good_setting(settings, overrides: dict[str, Any]) -> None:
    apply(settings, overrides)
    assert ids() == []


def test_w004_is_retired_for_error_e014(settings) -> None:
    """An any-host ALLOWED_HOSTS with no pinned public host is an error now, not a warning."""
    apply(settings, {"ALLOWED_HOSTS": ["*"], "DEBUG": False})
    assert "django_cas_ng.W004" not in ids()
    assert "django_cas_ng.E016" in ids()


def test_w060_is_silent_when_single_logout_cannot_end_sessions_anyway(settings) -> None:
    settings.MIDDLEWARE = [SESSIONS, AUTH]
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert "django_cas_ng.W060" not in ids()


def test_w060_accepts_a_subclass_of_cas_middleware(settings) -> None:
    settings.MIDDLEWARE = [SESSIONS, AUTH, "tests.test_checks.CampusCASMiddleware"]
    assert ids() == []


def test_w060_warns_when_single_logout_cannot_follow_a_new_session_key(settings) -> None:
    settings.MIDDLEWARE = [SESSIONS, AUTH]
    [message] = [m for m in run_checks() if m.id == "django_cas_ng.W060"]
    assert "cycle_key" in message.msg
    assert "follow_session_key" in message.hint


@pytest.mark.parametrize("name", ["CAS_LOGO_URL", "CAS_AUTH_CLASS", "CAS_SHOW_POWERED"])
def test_w070_is_silent_for_settings_of_other_apps(settings, name: str) -> None:
    setattr(settings, name, "x")
    assert "django_cas_ng.W070" not in [m.id for m in check_settings()]


def test_w070_names_the_setting_meant(settings) -> None:
    settings.CAS_REDIRECT_ULR = "/admin/"
    [message] = [m for m in check_settings() if m.id == "django_cas_ng.W070"]
    assert "CAS_REDIRECT_URL" in message.msg


def test_e017_is_silent_without_cas_middleware_for_its_url_names(settings) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != CAS_MIDDLEWARE]
    settings.CAS_LOGIN_URL_NAME = "sso_login"
    assert "django_cas_ng.E017" not in [m.id for m in check_settings()]


def test_e017_is_silent_for_a_login_url_that_is_a_path(settings) -> None:
    settings.LOGIN_URL = "/sso/login/"
    assert "django_cas_ng.E017" not in [m.id for m in check_settings()]


def test_e017_leaves_a_urlconf_that_does_not_load_to_django(settings) -> None:
    settings.ROOT_URLCONF = "tests.no_such_urlconf"
    assert "django_cas_ng.E017" not in [m.id for m in check_settings()]


def test_e017_is_silent_for_a_logout_name_when_the_admin_is_not_guarded(settings) -> None:
    """CASMiddleware reverses CAS_LOGOUT_URL_NAME only for the admin's own logout link."""
    settings.CAS_ADMIN_REDIRECT = False
    settings.CAS_ADMIN_PREFIX = "/admin/"
    settings.CAS_LOGOUT_URL_NAME = "sso_logout"
    assert "django_cas_ng.E017" not in [m.id for m in check_settings()]


def test_e017_is_silent_for_a_logout_name_on_a_site_without_the_admin(settings) -> None:
    settings.CAS_LOGOUT_URL_NAME = "sso_logout"
    assert "django_cas_ng.E017" not in [m.id for m in check_settings()]


def test_e017_names_an_unrouted_logout_name_when_the_admin_is_installed(settings) -> None:
    settings.INSTALLED_APPS = ["django.contrib.admin", *settings.INSTALLED_APPS]
    settings.CAS_LOGOUT_URL_NAME = "sso_logout"
    [message] = [m for m in check_settings() if m.id == "django_cas_ng.E017"]
    assert "CAS_LOGOUT_URL_NAME" in message.msg
