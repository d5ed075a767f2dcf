"""Attacks of the fifth round (docs/security.rst, rows 21.n), each against the real views with
the CAS server faked by ``responses``."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlsplit

import django
import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.db import OperationalError
from django.test import Client, RequestFactory

from django_cas_ng._internal.observe import without_secrets
from tests import test_attacks as attack_urls
from tests.cas_answers import failure_xml, front_channel, logout_request, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}


#: The suite's URLs and a catch-all API route taking presented tickets (as in test_attacks).
urlpatterns = attack_urls.urlpatterns


def service_asked(cas_http) -> str:
    return parse_qs(urlsplit(cas_http.calls[-1].request.url).query)["service"][0]


# --- 21.1 A tab or line break in the path, dropped by urljoin --------------------------------

#: Paths whose decoded form urljoin reads as another host: Python's URL parser drops tabs and
#: line breaks, so "/\t/other.example/x" becomes "//other.example/x".
CONTROL_PATHS = ["/%09/other.example/x", "/%0D/other.example/x", "/%09%09/other.example/x"]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("page", CONTROL_PATHS)
def test_a_ticket_presented_on_a_path_with_a_tab_is_not_validated_for_another_host(
    client: Client, cas_http, settings, page: str
) -> None:
    """Behind CAS_ROOT_PROXIED_AS, a ticket the service 'https://other.example/x' received,
    presented at '/%09/other.example/x', must not be validated for that service."""
    settings.CAS_ROOT_PROXIED_AS = "https://app.example.org"
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get(page, HTTP_AUTHORIZATION="CAS ST-7-forother")
    assert urlsplit(service_asked(cas_http)).hostname == "app.example.org"


@pytest.mark.urls(__name__)
def test_a_recheck_on_a_path_with_a_tab_asks_cas_for_a_service_of_this_site(
    client: Client, cas_http, settings
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django_cas_ng.recheck.SessionRecheckMiddleware"]
    settings.CAS_RECHECK_INTERVAL = 600
    settings.CAS_ROOT_PROXIED_AS = "https://app.example.org"
    cas_http.get(VALIDATE, body=success_xml("alice"))
    client.get("/accounts/login/", {"ticket": "ST-1-signin", "next": "/"})
    session = client.session
    session["_cas_rechecked"] = time.time() - 601
    session.save()
    to_cas = client.get("/%09/other.example/", **HTML)
    service = parse_qs(urlsplit(to_cas["Location"]).query)["service"][0]
    assert urlsplit(service).hostname == "app.example.org"


# --- 21.2 A ticket still good for a retry in Django's own request log -------------------------

#: ADMINS as each Django version wants it (Django 6 deprecates the name/address pairs).
OPS = ["ops@example.org"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.org")]


def test_a_ticket_kept_for_a_retry_is_not_in_the_admins_error_mail(
    client: Client, cas_http, settings
) -> None:
    """CAS unreachable: the 503 keeps the ticket good for a retry, and Django logs the 503 on
    ``django.request`` with the request; its default logging mails it to ADMINS with the URL,
    the query string and the GET parameters."""
    settings.ADMINS = OPS
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    response = client.get("/accounts/login/?next=/&ticket=ST-1-retrysecret")
    assert response.status_code == 503
    assert len(mail.outbox) == 1
    assert "Request URL: http://testserver/accounts/login/" in mail.outbox[0].body
    assert "retrysecret" not in mail.outbox[0].body


def test_a_database_outage_at_sign_in_mails_no_ticket(settings, monkeypatch) -> None:
    """The database fails before the ticket is claimed (so before CAS is asked): a 500, whose
    mail to ADMINS must not carry the ticket, still good at the CAS server."""
    settings.ADMINS = OPS

    def locked(*args: object, **kwargs: object) -> bool:
        raise OperationalError("database is locked")

    monkeypatch.setattr("django_cas_ng._internal.replay._insert", locked)
    browser = Client(raise_request_exception=False)
    response = browser.get("/accounts/login/?next=/&ticket=ST-1-dbsecret")
    assert response.status_code == 500
    assert len(mail.outbox) == 1
    assert "dbsecret" not in mail.outbox[0].body


def test_no_request_a_django_log_record_carries_holds_a_ticket(
    client: Client, cas_http, caplog
) -> None:
    """Whatever handler reads ``record.request`` (an error tracker, a JSON formatter), it finds
    no ticket, neither in the query nor in a posted form; the request itself is untouched."""
    cas_http.get(VALIDATE, body=requests.ConnectionError("refused"))
    with caplog.at_level(logging.DEBUG):
        client.get("/accounts/login/?next=/&ticket=ST-1-getsecret")
        client.post("/accounts/login/?next=/", {"ticket": "ST-1-postsecret"})
    requests_logged = [r.request for r in caplog.records if hasattr(r, "request")]
    assert len(requests_logged) == 2
    for logged in requests_logged:
        seen = f"{logged.get_full_path()} {logged.META['QUERY_STRING']} {logged.GET} {logged.POST}"
        assert "getsecret" not in seen and "postsecret" not in seen
        assert logged.path == "/accounts/login/" and logged.GET["next"] == "/"


def test_a_refused_pgt_callback_leaves_no_pgt_in_the_logged_request(settings, caplog) -> None:
    """A callback the site refuses (400: an IOU longer than its column) still carries a real
    PGT; Django logs the 400 with the request."""
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    query = {"pgtIou": "PGTIOU-1-" + "i" * 300, "pgtId": "PGT-1-pgtsecret"}
    with caplog.at_level(logging.DEBUG):
        assert Client().get("/accounts/callback/", query).status_code == 400
    logged = [r.request for r in caplog.records if r.name == "django.request"]
    assert len(logged) == 1
    assert "pgtsecret" not in f"{logged[0].get_full_path()} {logged[0].GET}"


def test_a_logged_request_django_cannot_read_the_query_of_is_still_redacted() -> None:
    """Too many fields for Django to read ``request.GET``: the log filter must not raise (a
    logging call would fail with it), and shows none of the query."""
    query = "ticket=ST-1-manysecret&" + "&".join(f"f{i}=1" for i in range(1100))
    request = RequestFactory().get(f"/accounts/login/?{query}")
    logged = without_secrets(request)
    assert "manysecret" not in logged.META["QUERY_STRING"]
    assert not logged.GET


def test_runservers_request_line_carries_no_ticket(caplog) -> None:
    """``django.server`` (runserver) logs each request line, query string included."""
    with caplog.at_level(logging.INFO, logger="django.server"):
        logging.getLogger("django.server").info(
            '"%s" %s %s', "GET /accounts/login/?next=/&ticket=ST-1-linesecret HTTP/1.1", 302, 0
        )
    assert "linesecret" not in caplog.records[-1].getMessage()


# --- 21.3 A Referer Python cannot parse, at the logout view --------------------------------------


@pytest.mark.parametrize(
    "referer", ["http://[::1", "https://[testserver/", "http://a\uff03b@testserver/"]
)
def test_an_unparsable_referer_at_logout_gets_the_confirmation_not_a_500(
    settings, referer: str
) -> None:
    """Without Fetch Metadata (an older browser, a script), the Referer decides; one that
    ``urlsplit`` refuses (a broken IPv6 literal, a netloc NFKC turns into a '#') is not this
    site's origin: the confirmation form, and nobody is signed out."""
    browser = Client(raise_request_exception=False)
    response = browser.get("/accounts/logout/", HTTP_REFERER=referer)
    assert response.status_code == 403
    assert b"<form" in response.content


def test_is_local_url_refuses_an_unparsable_url() -> None:
    from django_cas_ng.views import is_local_url

    assert is_local_url("https://testserver/", "http://[::1") is False


# --- 21.4 A group name longer than Django's Group.name column ----------------------------------

#: An LDAP DN as CAS servers release ``memberOf``: longer than the 150 characters of
#: ``Group.name``, which PostgreSQL refuses to store (a 500 at each sign-in of that user).
LONG_DN = "cn=app-" + "x" * 130 + ",ou=groups,dc=example,dc=org"


def test_a_released_group_name_longer_than_a_group_can_hold_is_skipped(
    client: Client, cas_http, settings, caplog
) -> None:
    settings.CAS_GROUPS_ATTRIBUTE = "memberOf"
    settings.CAS_MANAGED_GROUPS = "cn=app-"
    released = {"memberOf": ["cn=app-readers,ou=groups,dc=example,dc=org", LONG_DN]}
    cas_http.get(VALIDATE, body=success_xml("alice", released))
    with caplog.at_level(logging.WARNING, logger="django_cas_ng"):
        response = client.get("/accounts/login/?next=/&ticket=ST-1-groups")
    assert response.status_code == 302
    user = get_user_model().objects.get(username="alice")
    assert [g.name for g in user.groups.all()] == ["cn=app-readers,ou=groups,dc=example,dc=org"]
    assert not Group.objects.filter(name=LONG_DN).exists()
    assert any("longer than" in r.getMessage() for r in caplog.records)


def test_an_affiliation_longer_than_a_group_can_hold_is_not_made_a_group(
    client: Client, cas_http, settings
) -> None:
    settings.CAS_MAP_AFFILIATIONS = True
    cas_http.get(VALIDATE, body=success_xml("alice", {"affiliation": ["staff", LONG_DN]}))
    assert client.get("/accounts/login/?next=/&ticket=ST-1-affiliations").status_code == 302
    assert [g.name for g in get_user_model().objects.get().groups.all()] == ["staff"]


# --- 21.5 A released id the user model's primary key cannot hold -----------------------------


@pytest.mark.parametrize("released_id", ["abc", "1.5", "9" * 30])
@pytest.mark.parametrize("stable_ids", [False, True], ids=["by-name", "identities"])
def test_a_released_id_no_primary_key_can_hold_is_refused_not_a_500(
    client: Client, cas_http, settings, released_id: str, stable_ids: bool
) -> None:
    """CAS_CREATE_USER_WITH_ID with an ``id`` that is not a number of the column's range (a
    hostile tenant's server, a directory whose ids are not numbers): 403, never a 500."""
    settings.CAS_CREATE_USER_WITH_ID = True
    if stable_ids:
        settings.CAS_USER_ID_ATTRIBUTE = "uid"
    released = {"id": released_id, "uid": "u-1"}
    cas_http.get(VALIDATE, body=success_xml("alice", released))
    browser = Client(raise_request_exception=False)
    response = browser.get("/accounts/login/?next=/&ticket=ST-1-id")
    assert response.status_code == 403
    assert not get_user_model().objects.exists()


# --- 21.6 A JSONP callback naming a property path -----------------------------------------------


@pytest.mark.parametrize(
    "callback",
    ["opener.document.body.firstElementChild.click", "document.write", "window.location.assign"],
)
def test_a_front_channel_callback_naming_a_property_path_is_not_echoed_as_script(
    client: Client, callback: str
) -> None:
    """Anyone can make the site answer a forged front-channel logout. Echoing a property
    path makes the site's origin serve a script calling any method reachable from the
    page (same-origin method execution; a way around a ``script-src 'self'`` policy for an
    HTML injection). CAS servers' JSONP callbacks are plain names (``jQuery3510…_1700…``)."""
    forged = front_channel(logout_request("ST-1-nobody"))
    response = client.get("/accounts/login/", {"logoutRequest": forged, "callback": callback})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert callback.encode() not in response.content


def test_a_plain_jquery_callback_is_still_answered(client: Client) -> None:
    forged = front_channel(logout_request("ST-1-nobody"))
    callback = "jQuery35109730564152835587_1700000000000"
    response = client.get("/accounts/login/", {"logoutRequest": forged, "callback": callback})
    assert response["Content-Type"] == "application/javascript"
    assert response.content == f'/**/{callback}({{"status": "ok"}});'.encode()


# --- 21.7 A client address header carrying the client's port ----------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [("203.0.113.9:50001", "203.0.113.9:50002"), ("[2001:db8::9]:50001", "[2001:db8::9]:50002")],
    ids=["ipv4", "ipv6"],
)
def test_a_new_source_port_does_not_escape_the_rate_limit(
    cas_http, settings, first: str, second: str
) -> None:
    """Some front ends (Azure App Service) put ``address:port`` in X-Forwarded-For: each new
    connection of a script has a new port, and was counted as a new client."""
    settings.CAS_SLO_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.CAS_RATE_LIMITS = {"ticket": "2/m"}
    cas_http.get(VALIDATE, body=failure_xml())
    statuses = [
        Client(HTTP_X_FORWARDED_FOR=address).get("/accounts/login/", {"ticket": f"ST-{n}-x"})
        for n, address in enumerate([first, second, first.replace("50001", "50003")])
    ]
    assert [response.status_code for response in statuses] == [403, 403, 429]


def test_a_cas_node_reported_with_its_port_may_send_logout_requests(settings) -> None:
    """The same header read for CAS_SLO_ALLOWED_NETWORKS: ``10.0.0.5:41234`` was unparsable,
    so every logout request of the site's own CAS node was refused."""
    settings.CAS_SLO_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.CAS_SLO_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    response = Client(HTTP_X_FORWARDED_FOR="198.51.100.1, 10.0.0.5:41234").post(
        "/accounts/login/", {"logoutRequest": logout_request("ST-1-nobody")}
    )
    assert response.status_code == 200
