"""Every CAS server's dialect: the answers and logout requests real servers send, one fixture
per dialect (tests/cas_answers.py), read the way each server means them."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import translation
from responses import matchers

from django_cas_ng._internal.presented import parse_proxy_validation
from django_cas_ng._internal.urls import is_local_url
from django_cas_ng.client import parse_proxy_answer
from django_cas_ng.exceptions import ProxyError, TicketValidationError
from tests.cas_answers import (
    APEREO_FRONT_CHANNEL,
    APP_A,
    apereo_json_failure,
    apereo_json_proxy_success,
    apereo_json_success,
    both_layouts_success,
    cas1_success,
    eu_login_failure,
    eu_login_success,
    front_channel,
    front_channel_raw,
    logout_request,
    name_value_success,
    nested_user_success,
    rubycas_success,
    saml_success_with_empty_attribute,
)
from tests.conftest import CAS
from tests.test_slo import signed_in_session

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
P3_VALIDATE = CAS + "p3/serviceValidate"


def sign_in(client: Client, **extra: Any) -> Any:
    return client.get(LOGIN, {"ticket": "ST-1-abc"}, **extra)


def signed_in_as(client: Client) -> str | None:
    from django.contrib.auth import get_user_model

    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).get_username() if user_id else None


def sent_query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# --- 1. Front-channel Single Logout ------------------------------------------------------------


def test_the_front_channel_fixture_is_what_apereo_cas_encoder_produces() -> None:
    xml = logout_request("ST-1-apereo")
    assert front_channel(xml) == APEREO_FRONT_CHANNEL
    packed = base64.b64decode(APEREO_FRONT_CHANNEL)
    assert packed[:2] == b"\x78\x9c"  # the zlib header of Java's default Deflater
    assert zlib.decompress(packed) == xml.encode()


def test_front_channel_logout_as_apereo_cas_sends_it_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-1-apereo")
    response = client.get(LOGIN, {"logoutRequest": APEREO_FRONT_CHANNEL})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_front_channel_logout_in_raw_deflate_still_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-1-abc")
    response = client.get(LOGIN, {"logoutRequest": front_channel_raw(logout_request("ST-1-abc"))})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_cas4_saml_request_ends_the_session_and_hands_relay_state_back_to_cas(
    client: Client,
) -> None:
    key = signed_in_session("ST-1-abc")
    response = client.get(
        LOGIN, {"SAMLRequest": front_channel(logout_request("ST-1-abc")), "RelayState": "e1s2"}
    )
    assert not SessionStore().exists(key)
    assert response.status_code == 302
    assert response["Location"] == CAS + "logout?_eventId=next&RelayState=e1s2"


def test_cas4_saml_request_without_relay_state_answers_ok(client: Client) -> None:
    key = signed_in_session("ST-1-abc")
    response = client.get(LOGIN, {"SAMLRequest": front_channel(logout_request("ST-1-abc"))})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_saml_request_on_the_callback_view_ends_only_the_named_session(client: Client) -> None:
    other = signed_in_session("ST-1-abc", username="bob")
    named = signed_in_session("ST-1-apereo")
    assert (
        client.get("/accounts/callback/", {"SAMLRequest": APEREO_FRONT_CHANNEL}).status_code == 200
    )
    assert not SessionStore().exists(named)
    assert SessionStore().exists(other)


# --- 2. UTF-8 whatever the Content-Type says ---------------------------------------------------


@pytest.mark.parametrize("user", ["zoë", "山田太郎"])
def test_cas1_answer_without_charset_is_read_as_utf8(
    client: Client, cas_http: responses.RequestsMock, settings, user: str
) -> None:
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body=cas1_success(user), headers={"Content-Type": "text/plain"})
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == user


def test_json_answer_labelled_latin1_is_read_as_utf8(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = apereo_json_success("zoë").encode()
    cas_http.get(P3_VALIDATE, body=body, headers={"Content-Type": "text/plain; charset=ISO-8859-1"})
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "zoë"


# --- 3. Attribute layouts ----------------------------------------------------------------------

RELEASED = {"mail": "alice@example.org", "memberOf": ["staff", "library"]}


@pytest.mark.parametrize(
    "answer",
    [
        rubycas_success("alice", RELEASED),
        name_value_success("alice", RELEASED),
        name_value_success("alice", RELEASED, in_block=True),
        apereo_json_success("alice", RELEASED),
        eu_login_success("alice", RELEASED),
        both_layouts_success("alice", RELEASED),
    ],
    ids=["rubycas", "name-value", "name-value-in-attributes", "apereo-json", "eu-login", "both"],
)
def test_attributes_of_every_layout_are_read_with_multiple_values(
    client: Client, cas_http: responses.RequestsMock, answer: str
) -> None:
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"
    assert client.session["attributes"] == RELEASED


def test_name_value_pairs_written_as_child_elements_are_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = name_value_success("alice").replace(
        '<cas:attribute name="attraStyle" value="Name-Value"/>',
        "<cas:attributes><cas:attribute><cas:name>mail</cas:name>"
        "<cas:value>a@example.org</cas:value></cas:attribute></cas:attributes>",
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert client.session["attributes"] == {"mail": "a@example.org"}


def test_a_user_below_but_not_directly_under_authentication_success_is_accepted(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=nested_user_success("alice"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"


# --- 4. JSON answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "endpoint"), [("2", "serviceValidate"), ("3", P3_VALIDATE)])
def test_json_answers_sign_in_with_attributes_and_pgtiou(
    client: Client, cas_http: responses.RequestsMock, settings, version: str, endpoint: str
) -> None:
    settings.CAS_VERSION = version
    url = endpoint if endpoint.startswith("http") else CAS + endpoint
    cas_http.get(url, body=apereo_json_success("alice", RELEASED, pgtiou="PGTIOU-1-json"))
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    assert sign_in(client).status_code == 302
    assert client.session["attributes"] == RELEASED
    assert client.session["pgtiou"] == "PGTIOU-1-json"


@pytest.mark.parametrize("code", ["INVALID_TICKET", "INVALID_SERVICE", "INVALID_REQUEST"])
def test_json_refusal_is_a_403_not_an_outage(
    client: Client, cas_http: responses.RequestsMock, code: str, caplog
) -> None:
    cas_http.get(P3_VALIDATE, body=apereo_json_failure(code))
    assert sign_in(client).status_code == 403
    assert code in caplog.text


def test_json_response_format_asks_for_json(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_RESPONSE_FORMAT = "JSON"
    cas_http.get(
        P3_VALIDATE,
        body=apereo_json_success("alice"),
        match=[matchers.query_param_matcher({"format": "JSON"}, strict_match=False)],
    )
    assert sign_in(client).status_code == 302


def test_xml_response_format_sends_no_format(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=apereo_json_success("alice"))
    sign_in(client)
    assert "format" not in sent_query(cas_http.calls[0])


def test_json_proxy_validation_reads_the_chain() -> None:
    answer = apereo_json_success("alice", {"mail": "a@x.org"}, proxies=[APP_A])
    validated = parse_proxy_validation(answer)
    assert (validated.username, validated.proxies) == ("alice", (APP_A,))
    assert validated.attributes == {"mail": "a@x.org"}


def test_json_proxy_validation_refusal_carries_its_code() -> None:
    with pytest.raises(TicketValidationError) as refused:
        parse_proxy_validation(apereo_json_failure("INVALID_TICKET"))
    assert refused.value.code == "INVALID_TICKET"


def test_json_proxy_ticket_answer_is_read() -> None:
    assert parse_proxy_answer(apereo_json_proxy_success("PT-9-json")) == "PT-9-json"


def test_json_proxy_request_refusal_is_a_proxy_error() -> None:
    refusal = json.dumps(
        {"serviceResponse": {"proxyFailure": {"code": "INVALID_TICKET", "description": "no"}}}
    )
    with pytest.raises(ProxyError) as refused:
        parse_proxy_answer(refusal)
    assert refused.value.args[0] == "INVALID_TICKET"


@pytest.mark.parametrize("body", ["{", '{"serviceResponse": 3}', '["x"]', '{"a": 1}'])
def test_unreadable_json_is_an_outage_not_a_500(
    client: Client, cas_http: responses.RequestsMock, body: str
) -> None:
    cas_http.get(P3_VALIDATE, body=body)
    assert sign_in(client).status_code == 503


# --- 5. SAML 1.1 attribute without a value ----------------------------------------------------


def test_saml_attribute_without_value_is_an_empty_attribute(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    cas_http.post(CAS + "samlValidate", body=saml_success_with_empty_attribute("alice", "groups"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"
    assert client.session["attributes"]["groups"] == []
    assert client.session["attributes"]["mail"] == "alice@example.org"


# --- 6. Another namespace (EU Login) -----------------------------------------------------------


def test_eu_login_refusal_is_a_403(client: Client, cas_http: responses.RequestsMock) -> None:
    cas_http.get(P3_VALIDATE, body=eu_login_failure())
    assert sign_in(client).status_code == 403


def test_eu_login_proxy_validation_reads_user_and_chain() -> None:
    validated = parse_proxy_validation(eu_login_success("alice", proxies=[APP_A]))
    assert (validated.username, validated.proxies) == ("alice", (APP_A,))


def test_a_cas_namespace_answer_is_not_renamed() -> None:
    # A foreign element inside a CAS answer stays foreign: it is not read as a CAS element.
    answer = (
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas" xmlns:x="urn:x">'
        "<cas:authenticationSuccess><x:user>mallory</x:user><cas:user>alice</cas:user>"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )
    assert parse_proxy_validation(answer).username == "alice"


# --- 7. Ticket by POST -------------------------------------------------------------------------


def test_a_ticket_posted_by_the_cas_form_signs_in_with_the_same_service_url(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=apereo_json_success("alice"))
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(LOGIN + "?next=%2Fhere%2F", {"ticket": "ST-1-abc"})
    assert response.status_code == 302
    assert response["Location"] == "/here/"
    assert sent_query(cas_http.calls[0])["service"] == [
        "http://testserver/accounts/login/?next=%2Fhere%2F"
    ]


def test_a_refused_posted_ticket_is_a_403(client: Client, cas_http: responses.RequestsMock) -> None:
    cas_http.get(P3_VALIDATE, body=apereo_json_failure())
    assert client.post(LOGIN, {"ticket": "ST-1-abc"}).status_code == 403


def test_login_method_post_is_sent_to_cas(client: Client, settings) -> None:
    settings.CAS_LOGIN_METHOD = "POST"
    location = client.get(LOGIN)["Location"]
    assert parse_qs(urlsplit(location).query)["method"] == ["POST"]


def test_no_login_method_is_sent_by_default(client: Client) -> None:
    assert "method" not in parse_qs(urlsplit(client.get(LOGIN)["Location"]).query)


# --- 8. The user's language at CAS -------------------------------------------------------------


def test_the_active_language_is_sent_as_locale(client: Client, settings) -> None:
    settings.CAS_SEND_LOCALE = True
    with translation.override("fr"):
        location = client.get(LOGIN)["Location"]
    assert parse_qs(urlsplit(location).query)["locale"] == ["fr"]


def test_no_locale_is_sent_by_default(client: Client) -> None:
    with translation.override("fr"):
        assert "locale" not in client.get(LOGIN)["Location"]


# --- 9. is_local_url as in 5.1 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host_url", "url", "local"),
    [
        ("https://a.com", "//a.com", True),
        ("https://a.com", "//a.com/page/", True),
        ("http://a.com", "//a.com", True),
        ("https://a.com", "//b.com", False),
        ("https://a.com", "http://a.com", False),
        ("http://a.com", "https://a.com", False),
    ],
)
def test_is_local_url_accepts_a_scheme_relative_url_of_the_same_host(
    host_url: str, url: str, local: bool
) -> None:
    assert is_local_url(host_url, url) is local


def test_json_success_with_an_empty_proxy_list_is_no_proxy() -> None:
    answer = json.loads(apereo_json_success("alice"))
    answer["serviceResponse"]["authenticationSuccess"]["proxies"] = []
    assert parse_proxy_validation(json.dumps(answer)).proxies == ()


def test_json_answer_with_a_byte_order_mark_is_read() -> None:
    answer = "\ufeff" + apereo_json_success("alice")
    assert parse_proxy_validation(answer.encode("utf-8")).username == "alice"


def test_a_tenant_may_ask_its_server_for_json(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_CONFIG_RESOLVER = lambda request: {"CAS_RESPONSE_FORMAT": "JSON"}
    cas_http.get(
        P3_VALIDATE,
        body=apereo_json_success("alice"),
        match=[matchers.query_param_matcher({"format": "JSON"}, strict_match=False)],
    )
    assert sign_in(client).status_code == 302


def test_a_posted_ticket_faces_the_login_nonce_too(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_LOGIN_NONCE = True
    assert client.post(LOGIN, {"ticket": "ST-1-abc"}).status_code == 403
    assert len(cas_http.calls) == 0
