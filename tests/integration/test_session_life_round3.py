"""The life of a session through the real CAS server, round 3: Single Logout sent by
django-cas-server on each session engine, two browsers of one user, signing in again after it,
and a site cycling the session key itself. This module is also the URLconf of its tests."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from io import StringIO
from typing import Any

import pytest
from django.contrib.sessions.backends.cache import SessionStore as CacheStore
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.file import SessionStore as FileStore
from django.core.cache import caches
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.urls import path

from django_cas_ng.models import SessionTicket
from django_cas_ng.stepup import stepup_required
from tests import urls as suite_urls
from tests.cluster import services
from tests.integration.browser import Browser
from tests.integration.test_browser_login_required import _reload_live_server_middleware
from tests.integration.test_session_life import recheck_round_trip
from tests.integration.test_stepup import enter_credentials_again, to_cas_for_stepup

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]


def rotate(request: HttpRequest) -> HttpResponse:
    """A site's own privilege change: a new session key."""
    request.session.cycle_key()
    return HttpResponse("rotated")


urlpatterns = [*suite_urls.urlpatterns, path("rotate/", rotate)]


class PrefixedStore(CachedDBStore):
    """A site's own engine: cached_db under another cache prefix."""

    cache_key_prefix = "site.sessions."


SessionStore = PrefixedStore  # this module is also an engine: SESSION_ENGINE = __name__

CACHE = "django.contrib.sessions.backends.cache"
CACHED_DB = "django.contrib.sessions.backends.cached_db"
ENGINES = [
    "django.contrib.sessions.backends.db",
    CACHE,
    CACHED_DB,
    "django.contrib.sessions.backends.file",
    __name__,
    f"{CACHE}+redis",
    f"{CACHED_DB}+redis",
]
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def forget_file_path() -> None:
    """The file engine keeps the first ``SESSION_FILE_PATH`` it read on its class."""
    if "_storage_path" in vars(FileStore):
        delattr(FileStore, "_storage_path")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throwaway Redis server, as the cluster tests start one."""
    try:
        with services.redis() as url:
            yield url
    except services.ServiceUnavailable as missing:
        pytest.skip(str(missing))


@pytest.fixture(params=ENGINES)
def engine(
    request: pytest.FixtureRequest, app: Any, live_server: Any, tmp_path: Any
) -> Iterator[str]:
    """The live server on ``SESSION_ENGINE`` = the parameter (its middleware rebuilt: the
    session middleware picks its engine once); ``+redis``: with Django's ``RedisCache``."""
    name, _, cache = str(request.param).partition("+")
    app.SESSION_ENGINE = name
    app.SESSION_FILE_PATH = str(tmp_path)
    forget_file_path()
    app.CACHES = LOCMEM
    if cache == "redis":
        url = request.getfixturevalue("redis_url")
        app.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
    _reload_live_server_middleware(live_server)
    yield name
    caches["default"].clear()
    app.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    app.CACHES = LOCMEM
    forget_file_path()
    _reload_live_server_middleware(live_server)


def signed_in(browser: Browser, username: str = "alice") -> str:
    flow = browser.sign_in(username)
    assert flow.landing.status_code == 302, flow.landing.text
    assert browser.is_signed_in()
    return flow.ticket


def logout_at_cas(browser: Browser) -> None:
    """Sign out at CAS only; it POSTs its logout requests to our login URL before answering."""
    answer = browser.session.get(browser.cas.url + "logout", allow_redirects=False, timeout=15)
    assert answer.status_code == 200


def exists(engine: str, key: str | None) -> bool:
    return bool(key) and import_module(engine).SessionStore().exists(key)


def test_single_logout_ends_only_the_browser_that_signed_out(engine, browser_factory) -> None:
    first, second = browser_factory(), browser_factory()
    signed_in(first)
    signed_in(second)
    first_key, second_key = first.session_key, second.session_key
    print(
        "BEFORE",
        exists(engine, first_key),
        exists(engine, second_key),
        first_key,
        second_key,
        list(SessionTicket.objects.values_list("session_key", "ticket")),
    )

    logout_at_cas(first)

    assert not exists(engine, first_key)
    assert exists(engine, second_key)
    assert not first.is_signed_in()
    assert second.is_signed_in()


def test_the_same_browser_signs_in_again_after_single_logout(engine, browser) -> None:
    signed_in(browser)
    logout_at_cas(browser)
    assert not browser.is_signed_in()

    signed_in(browser)
    logout_at_cas(browser)

    assert not browser.is_signed_in()
    assert not SessionTicket.objects.exists()


def test_single_logout_follows_a_key_the_site_cycled_itself(engine, browser) -> None:
    signed_in(browser)
    first_key = browser.session_key
    assert browser.get("/rotate/").text == "rotated"
    assert browser.session_key != first_key

    logout_at_cas(browser)

    assert not exists(engine, browser.session_key)
    assert not browser.is_signed_in()


@pytest.mark.parametrize("engine", [*ENGINES[:3], f"{CACHE}+redis"], indirect=True)
def test_single_logout_with_save_every_request_and_browser_close_expiry(
    engine, app, browser
) -> None:
    app.SESSION_SAVE_EVERY_REQUEST = True
    app.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    signed_in(browser)
    browser.get("/")
    key = browser.session_key

    logout_at_cas(browser)

    assert not exists(engine, key)
    assert not browser.is_signed_in()


def sign_in_at_cas_again(browser: Browser) -> None:
    """A new single sign-on session at CAS for the browser, not through this site."""
    answer = browser.cas.login(browser.session, browser.live + "/", "alice", "alice-password")
    assert answer.status_code == 302 and "ticket=" in answer.headers["Location"]


def test_single_logout_ends_a_session_the_recheck_carried_over_to_a_new_cas_session(
    rechecking, browser
) -> None:
    signed_in(browser)
    rechecking.CAS_SLO_ALLOWED_NETWORKS = ["192.0.2.0/24"]  # the logout request gets lost
    logout_at_cas(browser)
    rechecking.CAS_SLO_ALLOWED_NETWORKS = None
    assert browser.is_signed_in()
    sign_in_at_cas_again(browser)
    assert recheck_round_trip(browser).headers["Location"] == "/private/"
    assert browser.is_signed_in()

    logout_at_cas(browser)

    assert not browser.is_signed_in()


def test_single_logout_ends_a_session_rechecked_within_the_same_cas_session(
    rechecking, browser, logout_signals
) -> None:
    signed_in(browser)
    assert recheck_round_trip(browser).headers["Location"] == "/private/"

    logout_at_cas(browser)

    assert not browser.is_signed_in()
    assert logout_signals.senders() == ["slo"]


@stepup_required(max_age=120)
def payroll(request: HttpRequest) -> HttpResponse:
    return HttpResponse("payroll")


urlpatterns.append(path("payroll/", payroll))


def test_single_logout_ends_a_stepped_up_session(app, browser, logout_signals) -> None:
    signed_in(browser)
    cas_login_url = to_cas_for_stepup(browser, "/payroll/")
    back = browser.get(enter_credentials_again(browser, cas_login_url, "alice"))
    assert back.status_code == 302 and browser.get("/payroll/").status_code == 200

    logout_at_cas(browser)

    assert not browser.is_signed_in()
    assert logout_signals.senders() == ["slo"]


@pytest.mark.parametrize("next_page", [None, "/private/"])
def test_logging_out_here_only_keeps_sso_and_a_new_session_ends_by_single_logout(
    app, browser, logout_signals, next_page
) -> None:
    app.CAS_LOGOUT_COMPLETELY = False
    signed_in(browser)
    params = {"next": next_page} if next_page else None
    out = browser.get("/accounts/logout/", params=params)
    assert out.status_code == 302 and out.headers["Location"] == (next_page or "/")
    assert not browser.is_signed_in()
    assert browser.has_cas_sso_session()

    signed_in(browser)  # CAS signs the browser straight back in
    logout_at_cas(browser)

    assert not browser.is_signed_in()
    assert logout_signals.senders() == ["manual", "slo"]


@pytest.mark.parametrize("next_page", [None, "/private/"])
def test_logging_out_completely_returns_to_next_and_sends_no_second_signal(
    app, browser, logout_signals, next_page
) -> None:
    app.CAS_LOGOUT_COMPLETELY = True
    signed_in(browser)
    params = {"next": next_page} if next_page else None
    out = browser.get("/accounts/logout/", params=params)
    landing = browser.session.get(out.headers["Location"], allow_redirects=False, timeout=15)

    assert landing.status_code == 302
    assert landing.headers["Location"] == browser.live + (next_page or "/")
    assert not browser.has_cas_sso_session()
    assert not browser.is_signed_in()
    assert logout_signals.senders() == ["manual"]
    assert not SessionTicket.objects.exists()


def evict(key: str | None) -> None:
    """The cache drops a session on its own (memory pressure, a restart)."""
    caches["default"].delete(CacheStore.cache_key_prefix + str(key))


@pytest.mark.parametrize("engine", [CACHE, f"{CACHE}+redis"], indirect=True)
def test_single_logout_of_an_evicted_session_ends_nothing_and_drops_its_mapping(
    engine, browser, logout_signals
) -> None:
    signed_in(browser)
    evict(browser.session_key)

    logout_at_cas(browser)

    assert logout_signals.calls == []
    assert not SessionTicket.objects.exists()


@pytest.mark.parametrize("engine", [CACHE, f"{CACHE}+redis"], indirect=True)
def test_cleanup_drops_the_mappings_of_evicted_sessions_only(engine, browser_factory) -> None:
    kept, evicted = browser_factory(), browser_factory()
    signed_in(kept)
    signed_in(evicted, "bob")
    evict(evicted.session_key)

    out = StringIO()
    call_command("django_cas_ng_clean_sessions", stdout=out)

    assert "Removed 1 session mapping(s)" in out.getvalue()
    assert list(SessionTicket.objects.values_list("session_key", flat=True)) == [kept.session_key]
    assert kept.is_signed_in()
