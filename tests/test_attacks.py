"""Attacks of the fourth round (docs/security.rst, rows 20.n), each against the real views
with the CAS server faked by ``responses``."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from django_cas_ng.decorators import proxy_ticket_required
from tests import urls as suite_urls
from tests.cas_answers import failure_xml, logout_request, success_xml
from tests.conftest import CAS
from tests.test_stepup import step_up, stepup_answer

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}


@proxy_ticket_required
def any_page(request: HttpRequest, rest: str) -> HttpResponse:
    return HttpResponse(f"page of {request.user.get_username()}")


#: The suite's URLs and a catch-all route (as CMSs and single-page apps have), here an API
#: taking proxy tickets.
urlpatterns = [*suite_urls.urlpatterns, path("<path:rest>", any_page)]


def test_a_username_with_a_line_break_cannot_forge_a_log_line(
    client: Client, cas_http, caplog
) -> None:
    """A CAS name carrying CR/LF (a character reference in the answer) stays on one line."""
    forged = "mallory&#13;&#10;INFO django_cas_ng.login Signed in root"
    cas_http.get(VALIDATE, body=success_xml(forged))
    with caplog.at_level(logging.DEBUG, logger="django_cas_ng"):
        client.get("/accounts/login/?next=/&ticket=ST-1-abc")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("django")]
    signed_in = [line for line in lines if line.startswith("Signed in mallory")]
    assert signed_in and not [line for line in lines if "\n" in line or "\r" in line]
    assert "\\r\\nINFO" in signed_in[0]


@pytest.mark.parametrize(
    ("case", "local", "released"),
    [
        ("lower", "kevin", "\u212aevin"),  # KELVIN SIGN lower-cases to an ASCII "k"
        ("lower", "\u00e5sa", "\u212bsa"),  # ANGSTROM SIGN lower-cases to "å"
        ("upper", "STRASSE", "stra\u00dfe"),  # "ß" upper-cases to "SS"
        ("upper", "ADMIN", "adm\u0131n"),  # DOTLESS I upper-cases to an ASCII "I"
        ("upper", "FFA", "\ufb00a"),  # the "ff" ligature upper-cases to "FF"
    ],
)
def test_a_look_alike_name_whose_case_change_meets_a_superuser_is_refused(
    client: Client, cas_http, settings, case: str, local: str, released: str
) -> None:
    """With CAS_FORCE_CHANGE_USERNAME_CASE, a CAS name the server tells apart from the
    superuser's, but that changes case into it, does not sign in as the superuser."""
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = case
    root = get_user_model().objects.create_superuser(local, "root@example.org", "x")
    cas_http.get(VALIDATE, body=success_xml(released))
    response = client.get("/accounts/login/?next=/&ticket=ST-1-abc")
    assert response.status_code == 403
    assert client.session.get("_auth_user_id") != str(root.pk)


@pytest.mark.parametrize(
    ("case", "released", "local"),
    [
        ("lower", "Alice", "alice"),
        ("lower", "\u00c5SA", "\u00e5sa"),
        ("lower", "STRA\u00dfE", "stra\u00dfe"),
        (
            "lower",
            "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
            "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2",
        ),
        ("upper", "alice", "ALICE"),
        ("upper", "\u00e5sa", "\u00c5SA"),
    ],
)
def test_names_that_only_differ_in_case_still_change_case(
    client: Client, cas_http, settings, case: str, released: str, local: str
) -> None:
    settings.CAS_FORCE_CHANGE_USERNAME_CASE = case
    cas_http.get(VALIDATE, body=success_xml(released))
    assert client.get("/accounts/login/?next=/&ticket=ST-1-abc").status_code == 302
    assert get_user_model().objects.get().username == local


# --- A session key stolen before a step-up ----------------------------------------------------


@pytest.mark.urls("tests.test_stepup")
def test_a_session_key_stolen_before_a_stepup_does_not_pass_the_stepup(
    client: Client, cas_http
) -> None:
    """Step-up raises what a session may do: like a sign-in, it gives the session a new key,
    so a copy of the cookie taken before (a leaked log, a shared machine) stays below it."""
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get("/accounts/login/?next=/&ticket=ST-1-signin")
    stolen = client.cookies["sessionid"].value
    cas_http.get(VALIDATE, body=stepup_answer())
    client.get(step_up(client, "/payroll/"))
    assert client.get("/payroll/").content == b"payroll"

    thief = Client(HTTP_SEC_FETCH_SITE="same-origin")
    thief.cookies["sessionid"] = stolen
    assert thief.get("/payroll/").status_code == 302


@pytest.mark.urls("tests.test_stepup")
def test_single_logout_still_ends_a_session_after_its_stepup(client: Client, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get("/accounts/login/?next=/&ticket=ST-1-signin")
    cas_http.get(VALIDATE, body=stepup_answer())
    client.get(step_up(client, "/payroll/"))

    ended = Client().post("/accounts/login/", {"logoutRequest": logout_request("ST-1-signin")})
    assert ended.status_code == 200
    assert client.get("/payroll/").status_code == 302
    assert "_auth_user_id" not in client.session


# --- The silent re-check's return ---------------------------------------------------------------


@pytest.fixture
def rechecking(settings) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django_cas_ng.recheck.SessionRecheckMiddleware"]
    settings.CAS_RECHECK_INTERVAL = 600


def stays_on_the_site(location: str) -> bool:
    parts = urlsplit(location)
    return not parts.scheme and not parts.netloc and not location.startswith(("//", "/\\"))


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("page", ["/%2Fevil.example/", "/%2F/evil.example/", "/%2F%2Fevil.example"])
def test_a_forged_recheck_mark_on_a_double_slash_path_does_not_leave_the_site(
    client: Client, rechecking, page: str
) -> None:
    """Anyone, signed in or not: the mark of a re-check that is not under way redirects to
    the page without it, and that page's path must not read as another host."""
    response = client.get(f"{page}?cas_recheck=forged", **HTML)
    assert response.status_code == 302
    assert stays_on_the_site(response["Location"]), response["Location"]


def recheck_service_from_double_slash_path(client: Client, cas_http) -> str:
    """Sign alice in, let her re-check fall due, visit '/%2Fevil.example/': the service URL
    the site then sends to CAS."""
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get("/accounts/login/", {"ticket": "ST-1-signin", "next": "/"})
    session = client.session
    session["_cas_rechecked"] = time.time() - 601
    session.save()
    to_cas = client.get("/%2Fevil.example/", **HTML)
    return parse_qs(urlsplit(to_cas["Location"]).query)["service"][0]


@pytest.mark.urls(__name__)
def test_a_recheck_started_on_a_double_slash_path_does_not_land_on_another_host(
    client: Client, cas_http, rechecking
) -> None:
    service = recheck_service_from_double_slash_path(client, cas_http)
    back = urlsplit(service + "&ticket=ST-2-recheck")
    cas_http.get(VALIDATE, body=success_xml("alice"))

    response = client.get(f"{back.path}?{back.query}", **HTML)
    assert response.status_code == 302
    assert stays_on_the_site(response["Location"]), response["Location"]


# --- A path that urljoin reads as another host ------------------------------------------------


def service_asked(cas_http) -> str:
    return parse_qs(urlsplit(cas_http.calls[-1].request.url).query)["service"][0]


@pytest.mark.urls(__name__)
def test_a_ticket_presented_on_a_double_slash_path_is_not_validated_for_another_host(
    client: Client, cas_http, settings
) -> None:
    """Behind CAS_ROOT_PROXIED_AS, '/%2Fother.example/x' must not make the service URL
    'https://other.example/x': a ticket that service received would be accepted here."""
    settings.CAS_ROOT_PROXIED_AS = "https://app.example.org"
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get("/%2Fother.example/x", HTTP_AUTHORIZATION="CAS ST-7-forother")
    assert urlsplit(service_asked(cas_http)).hostname == "app.example.org"


@pytest.mark.urls(__name__)
def test_a_recheck_on_a_double_slash_path_asks_cas_for_a_service_of_this_site(
    client: Client, cas_http, settings, rechecking
) -> None:
    settings.CAS_ROOT_PROXIED_AS = "https://app.example.org"
    service = recheck_service_from_double_slash_path(client, cas_http)
    assert urlsplit(service).hostname == "app.example.org"


# --- A CAS name matching several local users ----------------------------------------------------


def test_a_cas_name_matching_two_users_by_local_name_field_is_refused_not_a_500(
    client: Client, cas_http, settings
) -> None:
    """CAS_LOCAL_NAME_FIELD need not be unique (e-mail): a local user who sets another's
    address makes that sign-in ambiguous; it is refused, never a 500 nor either account."""
    settings.CAS_CREATE_USER = False
    settings.CAS_LOCAL_NAME_FIELD = "email"
    users = get_user_model().objects
    users.create_user("boss", "boss@example.org")
    users.create_user("mallory", "boss@example.org")
    cas_http.get(VALIDATE, body=success_xml("boss@example.org"))
    response = client.get("/accounts/login/?next=/&ticket=ST-1-abc")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_stable_id_sign_in_does_not_adopt_one_of_two_users_sharing_its_name(
    client: Client, cas_http, settings
) -> None:
    settings.CAS_USER_ID_ATTRIBUTE = "uid"
    settings.CAS_LOCAL_NAME_FIELD = "email"
    users = get_user_model().objects
    users.create_superuser("root", "boss@example.org", "x")
    users.create_user("boss", "boss@example.org")
    cas_http.get(VALIDATE, body=success_xml("boss@example.org", {"uid": "u-1"}))
    response = client.get("/accounts/login/?next=/&ticket=ST-1-abc")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# --- A proxy-ticket API behind Django's cache middleware ----------------------------------------


@pytest.fixture
def site_cache(settings) -> None:
    settings.MIDDLEWARE = [
        "django.middleware.cache.UpdateCacheMiddleware",
        *settings.MIDDLEWARE,
        "django.middleware.cache.FetchFromCacheMiddleware",
    ]
    settings.CACHE_MIDDLEWARE_SECONDS = 600


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("how", ["query", "header"])
def test_a_leaked_ticket_is_not_replayed_through_the_sites_cache(
    client: Client, cas_http, site_cache, how: str
) -> None:
    """The replay guard refuses a ticket presented twice; a cached answer must not hand the
    user's data to whoever presents it again (a ticket from an access log)."""
    cas_http.get(VALIDATE, body=success_xml("alice"))
    url, extra = "/reports/", {"HTTP_AUTHORIZATION": "CAS ST-8-leaked"}
    if how == "query":
        url, extra = "/reports/?ticket=ST-8-leaked", {}
    assert client.get(url, **extra).content == b"page of alice"

    again = Client().get(url, **extra)
    assert again.status_code == 401


@pytest.mark.urls("tests.test_stepup")
def test_a_cas_refusal_text_with_a_line_break_cannot_forge_a_step_up_log_line(
    client: Client, cas_http, caplog
) -> None:
    """The step-up logger gets the same one-line rule as the others: a CAS server's refusal
    text is quoted in its log line."""
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get("/accounts/login/?next=/&ticket=ST-1-signin")
    refusal = (
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">'
        '<cas:authenticationFailure code="INVALID_TICKET">expired&#10;INFO django_cas_ng.stepup '
        "Step-up of root</cas:authenticationFailure></cas:serviceResponse>"
    )
    cas_http.get(VALIDATE, body=refusal)
    with caplog.at_level(logging.DEBUG, logger="django_cas_ng"):
        client.get(step_up(client, "/payroll/"))
    lines = [r.getMessage() for r in caplog.records if r.name == "django_cas_ng.stepup"]
    assert lines and not [line for line in lines if "\n" in line]


@pytest.mark.parametrize(
    ("name", "released_id"),
    [("alice", "999"), ("newbie", "1")],  # alice's name with a new id; the superuser's id
)
def test_a_single_server_id_clash_with_create_user_with_id_is_refused_not_a_500(
    client: Client, cas_http, settings, name: str, released_id: str
) -> None:
    """Row 19.2 on a single-server site: a released ``id`` that clashes with an existing
    user (its name under another id, or another user's primary key) is a 403."""
    settings.CAS_CREATE_USER_WITH_ID = True
    users = get_user_model().objects
    root = users.create_superuser("root", "root@example.org", "x")
    assert root.pk == 1
    users.create_user("alice")
    cas_http.get(VALIDATE, body=success_xml(name, {"id": released_id}))
    response = client.get("/accounts/login/?next=/&ticket=ST-1-abc")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# --- The re-check with stable ids ---------------------------------------------------------------


def recheck_answer(
    client: Client, cas_http, answer: str | bytes, url: str = VALIDATE, **headers: str
) -> None:
    """Make the re-check due, go to CAS and come back with a ticket CAS answers with ``answer``
    (at ``url``, with these response ``headers``)."""
    session = client.session
    session["_cas_rechecked"] = time.time() - 601
    session.save()
    to_cas = client.get("/private/", **HTML)
    service = parse_qs(urlsplit(to_cas["Location"]).query)["service"][0]
    back = urlsplit(service + "&ticket=ST-2-recheck")
    cas_http.get(url, body=answer, headers=headers)
    client.get(f"{back.path}?{back.query}", **HTML)


def test_a_recheck_answered_by_another_person_with_the_users_name_ends_the_session(
    client: Client, cas_http, settings, rechecking
) -> None:
    """With a stable id, a reused name is another person: at a shared machine, the new holder
    of the name signed in at CAS must not carry on the old holder's session."""
    settings.CAS_USER_ID_ATTRIBUTE = "uid"
    cas_http.get(VALIDATE, body=success_xml("alice", {"uid": "u-1"}))
    client.get("/accounts/login/", {"ticket": "ST-1-signin", "next": "/"})
    recheck_answer(client, cas_http, success_xml("alice", {"uid": "u-2"}))
    assert "_auth_user_id" not in client.session


def test_a_recheck_answered_by_the_same_person_under_a_new_name_keeps_the_session(
    client: Client, cas_http, settings, rechecking
) -> None:
    settings.CAS_USER_ID_ATTRIBUTE = "uid"
    cas_http.get(VALIDATE, body=success_xml("alice", {"uid": "u-1"}))
    client.get("/accounts/login/", {"ticket": "ST-1-signin", "next": "/"})
    recheck_answer(client, cas_http, success_xml("alice.smith", {"uid": "u-1"}))
    assert "_auth_user_id" in client.session


# --- Rate limits and IPv6 -------------------------------------------------------------------------


def test_an_ipv6_client_cannot_escape_the_rate_limit_by_changing_addresses_in_its_64(
    client: Client, cas_http, settings
) -> None:
    """One IPv6 subscriber holds a whole /64 (2^64 addresses): counting per address would let
    a script hammer the CAS server through the site without ever reaching the limit."""
    settings.CAS_RATE_LIMITS = {"ticket": "3/m", "logout_request": "2/m"}
    cas_http.get(VALIDATE, body=failure_xml())
    statuses = [
        Client(REMOTE_ADDR=f"2001:db8:1:2::{n:x}")
        .get("/accounts/login/", {"ticket": f"ST-{n}-guess"})
        .status_code
        for n in range(1, 5)
    ]
    assert statuses == [403, 403, 403, 429]
    other = Client(REMOTE_ADDR="2001:db8:1:3::1").get("/accounts/login/", {"ticket": "ST-9-x"})
    assert other.status_code == 403


def test_an_ipv4_client_seen_as_ipv4_mapped_shares_its_rate_limit_count(
    client: Client, cas_http, settings
) -> None:
    settings.CAS_RATE_LIMITS = {"ticket": "2/m", "logout_request": "2/m"}
    cas_http.get(VALIDATE, body=failure_xml())
    statuses = [
        Client(REMOTE_ADDR=address).get("/accounts/login/", {"ticket": f"ST-{n}-g"}).status_code
        for n, address in enumerate(["192.0.2.10", "::ffff:192.0.2.10", "192.0.2.10"])
    ]
    assert statuses == [403, 403, 429]


# --- Logout by a same-origin sub-resource ---------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "dest", "purpose"),
    [
        ("no-cors", "image", None),  # an avatar or Markdown image
        ("no-cors", "style", None),  # a stylesheet
        ("navigate", "iframe", None),  # an embedded frame
        ("navigate", "document", "prefetch"),  # a prefetched link (speculation rules)
    ],
)
def test_a_same_origin_image_frame_or_prefetch_does_not_sign_out(
    client: Client, mode: str, dest: str, purpose: str | None
) -> None:
    """Content on this site's own pages (a user-supplied image URL, a frame, the browser
    prefetching a link) makes same-origin GETs: only the user's own navigation signs out."""
    client.force_login(get_user_model().objects.create_user("alice"))
    headers = {
        "HTTP_SEC_FETCH_SITE": "same-origin",
        "HTTP_SEC_FETCH_MODE": mode,
        "HTTP_SEC_FETCH_DEST": dest,
    }
    if purpose:
        headers["HTTP_SEC_PURPOSE"] = purpose
    response = client.get("/accounts/logout/", **headers)
    assert response.status_code == 403
    assert "_auth_user_id" in client.session


def test_a_same_origin_navigation_with_full_fetch_metadata_still_signs_out(client: Client) -> None:
    client.force_login(get_user_model().objects.create_user("alice"))
    response = client.get(
        "/accounts/logout/",
        HTTP_SEC_FETCH_SITE="same-origin",
        HTTP_SEC_FETCH_MODE="navigate",
        HTTP_SEC_FETCH_DEST="document",
    )
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
