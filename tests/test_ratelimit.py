"""Rate limits per client address: requests carrying a ticket and logout requests, counted in
Django's cache; the CAS server faked with ``responses``."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from django_cas_ng.conf import parse_rate
from django_cas_ng.decorators import proxy_ticket_required
from tests.cas_answers import failure_xml, success_xml
from tests.conftest import CAS

pytestmark = pytest.mark.django_db

VALIDATE = CAS + "p3/serviceValidate"
LOGOUT = '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x"/>'


@pytest.fixture
def limited(settings) -> None:
    settings.CAS_RATE_LIMITS = {"ticket": "3/m", "logout_request": "2/m"}


def log_in(ticket: str, address: str = "192.0.2.10") -> HttpResponse:
    return Client(REMOTE_ADDR=address).get("/accounts/login/", {"ticket": ticket})


def test_past_the_limit_a_login_gets_429_with_retry_after_and_cas_is_not_asked(
    limited, cas_http
) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    statuses = [log_in(f"ST-{n}-guess").status_code for n in range(4)]
    assert statuses == [403, 403, 403, 429]
    refused = log_in("ST-9-guess")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert len(cas_http.calls) == 3


def test_each_client_address_has_its_own_count(limited, cas_http) -> None:
    cas_http.get(VALIDATE, body=failure_xml())
    for n in range(4):
        log_in(f"ST-{n}-a", "192.0.2.10")
    assert log_in("ST-1-b", "198.51.100.7").status_code == 403


def test_the_limit_is_logged_without_the_ticket(limited, cas_http, caplog) -> None:
    caplog.set_level(logging.WARNING)
    cas_http.get(VALIDATE, body=failure_xml())
    for n in range(4):
        log_in(f"ST-{n}-secretvalue")
    assert "Rate limit 3/m for ticket reached by 192.0.2.10" in caplog.text
    assert "secretvalue" not in caplog.text


def test_requests_without_a_ticket_are_not_counted(limited) -> None:
    for _ in range(5):
        assert Client(REMOTE_ADDR="192.0.2.10").get("/accounts/login/").status_code == 302


@proxy_ticket_required
def api_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def test_proxy_tickets_count_and_get_a_json_429(limited, cas_http) -> None:
    cas_http.get(VALIDATE, body=success_xml("alice"))
    statuses = []
    for n in range(4):
        request = RequestFactory().get("/api/", HTTP_AUTHORIZATION=f"CAS PT-{n}-api")
        statuses.append(api_view(request))
    assert [response.status_code for response in statuses] == [200, 200, 200, 429]
    assert statuses[-1]["Retry-After"]
    assert b"RATE_LIMITED" in statuses[-1].content


def test_stepup_tickets_count(limited, cas_http) -> None:
    released = {"isFromNewLogin": "true", "authenticationDate": datetime.now(timezone.utc)}
    cas_http.get(VALIDATE, body=success_xml("alice", {k: str(v) for k, v in released.items()}))
    browser = Client(REMOTE_ADDR="192.0.2.10")
    browser.force_login(
        get_user_model().objects.create_user("alice"), backend="django_cas_ng.backends.CASBackend"
    )
    statuses = [
        browser.get(f"/accounts/stepup/?next=/&ticket=ST-{n}-up").status_code for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]


def test_logout_requests_count(limited) -> None:
    client = Client(REMOTE_ADDR="203.0.113.5")
    statuses = [
        client.post("/accounts/login/", {"logoutRequest": LOGOUT}).status_code for _ in range(3)
    ]
    assert statuses[-1] == 429


def test_none_turns_a_limit_off(settings, cas_http) -> None:
    settings.CAS_RATE_LIMITS = {"ticket": None}
    cas_http.get(VALIDATE, body=failure_xml())
    assert {log_in(f"ST-{n}-x").status_code for n in range(5)} == {403}


def test_the_default_is_on() -> None:
    from django_cas_ng.conf import cas_settings

    assert parse_rate(cas_settings.rate_limits["ticket"]) == (120, 60)


@pytest.mark.parametrize(
    ("rate", "parsed"), [("30/m", (30, 60)), ("100/5m", (100, 300)), ("5/s", (5, 1))]
)
def test_rates_are_read_as_count_per_period(rate, parsed) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["30", "0/m", "x/m", "30/w"])
def test_malformed_rates_are_refused(rate) -> None:
    with pytest.raises(ValueError):
        parse_rate(rate)


def test_a_failing_cache_lets_the_request_through(limited, cas_http, monkeypatch) -> None:
    from django.core.cache.backends.locmem import LocMemCache

    def unreachable(*args: object, **kwargs: object) -> int:
        raise ConnectionError("cache is down")

    monkeypatch.setattr(LocMemCache, "incr", unreachable)
    cas_http.get(VALIDATE, body=failure_xml())
    assert {log_in(f"ST-{n}-y").status_code for n in range(5)} == {403}


def test_an_unknown_cache_alias_is_an_error(settings) -> None:
    from django_cas_ng.checks import check_session_life

    settings.CAS_RATE_LIMIT_CACHE = "nowhere"
    assert "django_cas_ng.E052" in [message.id for message in check_session_life()]


def test_the_drf_class_answers_429_with_retry_after(limited, cas_http) -> None:
    from tests.test_proxy_drf import call

    cas_http.get(VALIDATE, body=success_xml("alice"))
    statuses = [call(ticket=f"PT-{n}-drf") for n in range(4)]
    assert [response.status_code for response in statuses] == [200, 200, 200, 429]
    assert statuses[-1]["Retry-After"]


def test_the_drf_class_429_carries_the_one_refusal_body(limited, cas_http) -> None:
    from tests.test_proxy_drf import call

    cas_http.get(VALIDATE, body=success_xml("alice"))
    refused = [call(ticket=f"PT-{n}-drf") for n in range(4)][-1]
    assert refused.status_code == 429
    assert refused.data["code"] == "RATE_LIMITED"
    assert refused.data["detail"].count(refused["Retry-After"]) == 1


def test_the_limit_log_line_points_at_the_proxy_header_when_none_is_trusted(
    limited, cas_http, caplog
) -> None:
    caplog.set_level(logging.WARNING)
    cas_http.get(VALIDATE, body=failure_xml())
    for n in range(4):
        log_in(f"ST-{n}-proxied")
    assert "set CAS_SLO_CLIENT_IP_HEADER" in caplog.text


def test_the_limit_log_line_has_no_proxy_hint_once_a_header_is_trusted(
    limited, settings, cas_http, caplog
) -> None:
    settings.CAS_SLO_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    caplog.set_level(logging.WARNING)
    cas_http.get(VALIDATE, body=failure_xml())
    for n in range(4):
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.10").get(
            "/accounts/login/", {"ticket": f"ST-{n}-behind"}
        )
    assert "Rate limit 3/m for ticket reached by 192.0.2.10" in caplog.text
    assert "CAS_SLO_CLIENT_IP_HEADER" not in caplog.text


def logout_statuses(addresses: list[str]) -> list[int]:
    return [
        Client(REMOTE_ADDR=address).post("/accounts/login/", {"logoutRequest": LOGOUT}).status_code
        for address in addresses
    ]


def test_cas_nodes_of_one_ipv6_64_in_the_allowed_networks_each_have_their_own_count(
    limited, settings
) -> None:
    """The site named these senders: a CAS cluster sharing a /64 must not share one budget,
    or a burst of sign-outs at one node would cost the others their Single Logouts."""
    settings.CAS_SLO_ALLOWED_NETWORKS = ["2001:db8:5::/64"]
    nodes = ["2001:db8:5::a", "2001:db8:5::b", "2001:db8:5::c"]

    assert 429 not in logout_statuses(nodes * 2)


def test_an_allowed_cas_node_still_has_a_limit_of_its_own(limited, settings) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["2001:db8:5::/64"]

    assert logout_statuses(["2001:db8:5::a"] * 3)[-1] == 429


def test_logout_requests_from_outside_the_allowed_networks_are_counted_per_64(
    limited, settings
) -> None:
    settings.CAS_SLO_ALLOWED_NETWORKS = ["192.0.2.0/24"]

    assert logout_statuses(["2001:db8:6::1", "2001:db8:6::2", "2001:db8:6::3"])[-1] == 429
