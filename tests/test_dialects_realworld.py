"""What real CAS servers, their templates and hostile callers send, beyond the clean shapes
of tests/test_dialects.py: whitespace, declarations, byte order marks, error pages, wrong JSON
types, undecodable bytes, SAML statuses and hostile logout requests."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any
from urllib.parse import quote

import pytest
import responses
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from django_cas_ng.client import parse_proxy_answer
from django_cas_ng.exceptions import CASUnavailable, ProxyError
from tests.cas_answers import (
    APEREO_CAS3_SUCCESS,
    HTML_ERROR_PAGE,
    LAUGHS_LOGOUT_REQUEST,
    XHTML_ERROR_PAGE,
    XXE_LOGOUT_REQUEST,
    apereo_json_success,
    front_channel,
    java_mime_base64,
    jsp_success,
    logout_request,
    pretty_logout_request,
    proxy_failure,
    rubycas_logout_request,
    saml_apereo_answer,
    success_xml,
    two_users_success,
    unprefixed_attributes_success,
)
from tests.conftest import CAS
from tests.test_dialects import LOGIN, P3_VALIDATE, sign_in, signed_in_as
from tests.test_slo import signed_in_session

pytestmark = pytest.mark.django_db


def json_success(**success: Any) -> str:
    return json.dumps({"serviceResponse": {"authenticationSuccess": success}})


# --- CAS 2/3 XML --------------------------------------------------------------------------------


def test_whitespace_before_the_xml_declaration_is_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=jsp_success("alice", {"mail": "a@example.org"}))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"
    assert client.session["attributes"] == {"mail": "a@example.org"}


def test_xml_answer_with_a_byte_order_mark_is_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=b"\xef\xbb\xbf" + jsp_success("alice").encode())
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"


def test_apereo_authentication_attributes_cdata_and_escapes_are_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=APEREO_CAS3_SUCCESS, content_type="text/html")
    assert sign_in(client).status_code == 302
    attributes = client.session["attributes"]
    assert attributes["isFromNewLogin"] == "true"
    assert attributes["displayName"] == "Jane <Q> Doe & Co"
    assert attributes["title"] == "R&D <lead>"
    assert attributes["eduPersonAffiliation"] == ["member", "staff"]
    assert attributes["clientName"] is None


def test_attribute_elements_in_no_namespace_are_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=unprefixed_attributes_success("alice"))
    assert sign_in(client).status_code == 302
    assert client.session["attributes"] == {"email": "a@example.org", "ssoGuid": "F00D-1"}


def test_an_answer_naming_two_users_is_refused(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=two_users_success("alice", "root"))
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_a_comment_inside_the_user_does_not_cut_the_name_short(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=success_xml("admin<!-- note -->.guest"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "admin.guest"


def test_a_user_holding_elements_is_refused(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=success_xml("admin<b>x</b>"))
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_deeply_nested_xml_is_an_outage(client: Client, cas_http: responses.RequestsMock) -> None:
    cas_http.get(P3_VALIDATE, body=success_xml("<a>" * 5000 + "x" + "</a>" * 5000))
    assert sign_in(client).status_code == 503


def test_an_empty_user_is_a_refusal(client: Client, cas_http: responses.RequestsMock) -> None:
    cas_http.get(P3_VALIDATE, body=success_xml("  \n "))
    assert sign_in(client).status_code == 403


@pytest.mark.parametrize("page", [HTML_ERROR_PAGE, XHTML_ERROR_PAGE], ids=["html", "xhtml"])
def test_an_error_page_served_with_200_is_an_outage(
    client: Client, cas_http: responses.RequestsMock, page: str
) -> None:
    cas_http.get(P3_VALIDATE, body=page, content_type="text/html")
    assert sign_in(client).status_code == 503


def test_invalid_utf8_in_an_xml_answer_is_an_outage(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=success_xml("zo\xeb").encode("latin-1"))
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_an_answer_declaring_latin1_is_read_in_its_encoding(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-1"?>' + success_xml("zo\xeb")
    cas_http.get(P3_VALIDATE, body=body.encode("latin-1"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "zoë"


def test_an_answer_with_a_dtd_is_an_outage(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = '<!DOCTYPE x [<!ENTITY u "root">]>' + success_xml("&u;")
    cas_http.get(P3_VALIDATE, body=body)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


# --- CAS 1 --------------------------------------------------------------------------------------


@pytest.fixture
def cas1(settings) -> None:
    settings.CAS_VERSION = "1"


@pytest.mark.usefixtures("cas1")
@pytest.mark.parametrize(
    "body", [b"yes\r\nalice\r\n", b"\xef\xbb\xbfyes\nalice\n"], ids=["crlf", "bom"]
)
def test_cas1_yes_with_crlf_line_ends_or_a_bom_signs_in(
    client: Client, cas_http: responses.RequestsMock, body: bytes
) -> None:
    cas_http.get(CAS + "validate", body=body)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"


@pytest.mark.usefixtures("cas1")
@pytest.mark.parametrize("body", [b"no\n", b"no\n\n", b"no\r\n\r\n"])
def test_cas1_no_is_a_refusal(
    client: Client, cas_http: responses.RequestsMock, body: bytes
) -> None:
    cas_http.get(CAS + "validate", body=body)
    assert sign_in(client).status_code == 403


@pytest.mark.usefixtures("cas1")
@pytest.mark.parametrize(
    "body",
    [b"", b"yes\n", b"yes\n\n", HTML_ERROR_PAGE.encode()],
    ids=["empty", "no-user", "blank-user", "html"],
)
def test_cas1_answer_that_is_neither_yes_nor_no_is_an_outage(
    client: Client, cas_http: responses.RequestsMock, body: bytes
) -> None:
    cas_http.get(CAS + "validate", body=body)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


@pytest.mark.usefixtures("cas1")
def test_cas1_answer_in_its_declared_latin1_charset_is_read_in_it(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = "yes\nzo\xeb\n".encode("latin-1")
    content_type = "text/plain;charset=ISO-8859-1"
    cas_http.get(CAS + "validate", body=body, headers={"Content-Type": content_type})
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "zoë"


@pytest.mark.usefixtures("cas1")
def test_cas1_answer_that_is_not_utf8_without_a_charset_is_an_outage(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = "yes\nzo\xeb\n".encode("latin-1")
    cas_http.get(CAS + "validate", body=body, headers={"Content-Type": "text/plain"})
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


# --- JSON ---------------------------------------------------------------------------------------


def test_json_answer_with_a_bom_then_a_newline_is_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=("\ufeff\n" + apereo_json_success("alice")).encode())
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"


def test_json_answer_that_is_not_utf8_is_an_outage(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = json.dumps(
        {"serviceResponse": {"authenticationSuccess": {"user": "zo\xeb"}}}, ensure_ascii=False
    )
    cas_http.get(P3_VALIDATE, body=body.encode("latin-1"))
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_json_scalar_attributes_of_every_type_are_read_as_text(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = json_success(
        user="alice",
        attributes={"isFromNewLogin": True, "loginCount": 7, "mail": "a@example.org"},
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert client.session["attributes"] == {
        "isFromNewLogin": "true",
        "loginCount": "7",
        "mail": "a@example.org",
    }


@pytest.mark.parametrize(
    "user",
    [["alice", "root"], {"id": "alice"}, True, 42.5],
    ids=["list", "object", "bool", "number"],
)
def test_json_user_that_is_not_a_string_is_refused(
    client: Client, cas_http: responses.RequestsMock, user: Any
) -> None:
    cas_http.get(P3_VALIDATE, body=json_success(user=user))
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_json_keys_of_the_server_own_beside_the_protocol_ones_do_not_stop_sign_in(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = json_success(
        user="alice", attributes={"mail": ["a@example.org"]}, authTime=1770000000, **{"@id": {}}
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert client.session["attributes"] == {"mail": "a@example.org"}


def test_json_answer_repeating_the_user_key_is_refused(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = '{"serviceResponse": {"authenticationSuccess": {"user": "alice", "user": "root"}}}'
    cas_http.get(P3_VALIDATE, body=body)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_json_user_null_is_a_refusal(client: Client, cas_http: responses.RequestsMock) -> None:
    cas_http.get(P3_VALIDATE, body=json_success(user=None))
    assert sign_in(client).status_code == 403


@pytest.mark.parametrize(
    "attributes", ["mail=a@example.org", ["mail"], 3], ids=["string", "list", "number"]
)
def test_json_attributes_that_are_not_an_object_are_refused(
    client: Client, cas_http: responses.RequestsMock, attributes: Any
) -> None:
    cas_http.get(P3_VALIDATE, body=json_success(user="alice", attributes=attributes))
    assert sign_in(client).status_code == 503


def test_json_pgtiou_that_is_not_a_string_is_refused(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=json_success(user="alice", proxyGrantingTicket=["PGTIOU-1"]))
    assert sign_in(client).status_code == 503


def test_deeply_nested_json_is_an_outage(client: Client, cas_http: responses.RequestsMock) -> None:
    cas_http.get(P3_VALIDATE, body="{" + '"a":[' * 100000 + "]" * 100000 + "}")
    assert sign_in(client).status_code == 503


def test_json_with_a_nul_in_the_user_is_an_outage(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=json_success(user="alice\u0000root"))
    assert sign_in(client).status_code == 503


def test_json_answer_bigger_than_the_cap_is_an_outage(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_MAX_RESPONSE_BYTES = 4096
    answer = apereo_json_success("alice", {"memberOf": [f"group-{i}" for i in range(2000)]})
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 503


def test_json_failure_without_a_code_is_a_refusal(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = json.dumps({"serviceResponse": {"authenticationFailure": {"description": "no"}}})
    cas_http.get(P3_VALIDATE, body=body)
    assert sign_in(client).status_code == 403


def test_json_proxy_ticket_that_is_not_a_string_is_refused() -> None:
    answer = json.dumps({"serviceResponse": {"proxySuccess": {"proxyTicket": ["PT-1", "PT-2"]}}})
    with pytest.raises((ProxyError, CASUnavailable)):
        parse_proxy_answer(answer)


# --- SAML 1.1 -----------------------------------------------------------------------------------


@pytest.fixture
def saml(settings) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"


@pytest.mark.usefixtures("saml")
def test_saml_answer_as_apereo_writes_it_signs_in_with_a_trimmed_name(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.post(CAS + "samlValidate", body=saml_apereo_answer("alice"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"
    assert client.session["attributes"]["eduPersonAffiliation"] == ["member", "staff"]


@pytest.mark.usefixtures("saml")
@pytest.mark.parametrize("status", ["samlp:RequestDenied", "samlp:Responder", "saml1p:Requester"])
def test_saml_refusal_is_a_403_that_logs_its_status(
    client: Client, cas_http: responses.RequestsMock, caplog, status: str
) -> None:
    answer = saml_apereo_answer("alice", status, "Ticket ST-1-abc not recognized")
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(client).status_code == 403
    assert status.split(":")[1] in caplog.text
    assert "ST-1-abc" not in caplog.text  # the server's message quotes the ticket


@pytest.mark.usefixtures("saml")
def test_saml_status_code_without_a_value_is_an_outage(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = saml_apereo_answer("alice").replace(' Value="samlp:Success"', "")
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(client).status_code == 503


@pytest.mark.usefixtures("saml")
def test_saml_answer_whose_statements_name_different_users_is_refused(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = saml_apereo_answer("alice").replace(
        "<NameIdentifier>alice</NameIdentifier>", "<NameIdentifier>root</NameIdentifier>"
    )
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


@pytest.mark.usefixtures("saml")
def test_saml_error_page_served_with_200_is_an_outage(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.post(CAS + "samlValidate", body=HTML_ERROR_PAGE, content_type="text/html")
    assert sign_in(client).status_code == 503


@pytest.mark.usefixtures("saml")
def test_saml_answer_after_a_bom_and_blank_lines_is_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = b"\xef\xbb\xbf\r\n" + saml_apereo_answer("alice").encode()
    cas_http.post(CAS + "samlValidate", body=body)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"


# --- Proxy tickets ------------------------------------------------------------------------------


def test_proxy_ticket_between_line_breaks_is_trimmed() -> None:
    answer = (
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">\n  <cas:proxySuccess>\n'
        "    <cas:proxyTicket>\n      PT-7-line\n    </cas:proxyTicket>\n  </cas:proxySuccess>\n"
        "</cas:serviceResponse>"
    )
    assert parse_proxy_answer(answer) == "PT-7-line"


@pytest.mark.parametrize(
    "code", ["INVALID_REQUEST", "UNAUTHORIZED_SERVICE", "INTERNAL_ERROR", "BAD_PGT"]
)
def test_every_proxy_failure_code_is_reported(code: str) -> None:
    with pytest.raises(ProxyError) as refused:
        parse_proxy_answer(proxy_failure(code))
    assert refused.value.args[0] == code


def test_an_html_page_from_the_proxy_endpoint_is_an_outage() -> None:
    with pytest.raises(CASUnavailable):
        parse_proxy_answer(HTML_ERROR_PAGE)


# --- Single Logout ------------------------------------------------------------------------------


def test_back_channel_logout_with_declaration_and_line_breaks_ends_the_session(
    client: Client,
) -> None:
    key = signed_in_session("ST-7-pretty")
    response = client.post(LOGIN, {"logoutRequest": pretty_logout_request("ST-7-pretty")})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_back_channel_logout_with_leading_blank_lines_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-7-blank")
    response = client.post(LOGIN, {"logoutRequest": "\r\n\n" + pretty_logout_request("ST-7-blank")})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_back_channel_logout_encoded_twice_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-7-twice")
    body = "logoutRequest=" + quote(quote(logout_request("ST-7-twice"), safe=""), safe="")
    response = client.post(LOGIN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_back_channel_logout_as_a_raw_xml_body_with_charset_ends_the_session(
    client: Client,
) -> None:
    key = signed_in_session("ST-7-raw")
    response = client.post(
        LOGIN, pretty_logout_request("ST-7-raw"), content_type="text/xml; charset=UTF-8"
    )
    assert response.status_code == 200
    assert not SessionStore().exists(key)


@pytest.mark.parametrize("xml", [XXE_LOGOUT_REQUEST, LAUGHS_LOGOUT_REQUEST], ids=["xxe", "laughs"])
@pytest.mark.parametrize("channel", ["back", "front"])
def test_logout_request_declaring_entities_is_a_400(client: Client, xml: str, channel: str) -> None:
    if channel == "back":
        response = client.post(LOGIN, {"logoutRequest": xml})
    else:
        response = client.get(LOGIN, {"logoutRequest": front_channel(xml)})
    assert response.status_code == 400


def test_back_channel_logout_that_is_not_xml_is_a_400(client: Client) -> None:
    assert client.post(LOGIN, {"logoutRequest": "<samlp:LogoutRequest"}).status_code == 400


def test_back_channel_logout_with_bytes_that_are_not_utf8_is_a_400(client: Client) -> None:
    body = b"logoutRequest=%3Csamlp%3ALogoutRequest%3E%FF%FE%3C"
    response = client.post(LOGIN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_huge_back_channel_logout_is_refused_without_a_500(client: Client) -> None:
    xml = logout_request("ST-1") + " " * (200 * 1024)
    assert client.post(LOGIN, {"logoutRequest": xml}).status_code in (400, 413)


def test_front_channel_logout_in_java_mime_base64_lines_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-7-mime")
    packed = zlib.compress(pretty_logout_request("ST-7-mime").encode())
    response = client.get(LOGIN, {"logoutRequest": java_mime_base64(packed)})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_front_channel_logout_in_base64_without_deflate_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-7-plain")
    encoded = base64.b64encode(pretty_logout_request("ST-7-plain").encode()).decode()
    assert client.get(LOGIN, {"logoutRequest": encoded}).status_code == 200
    assert not SessionStore().exists(key)


def test_front_channel_logout_with_a_jsonp_callback_answers_javascript(client: Client) -> None:
    key = signed_in_session("ST-7-jsonp")
    response = client.get(
        LOGIN,
        {"logoutRequest": front_channel(logout_request("ST-7-jsonp")), "callback": "jQuery1_2"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response.content.decode().startswith("/**/jQuery1_2(")
    assert not SessionStore().exists(key)


def test_front_channel_logout_with_a_hostile_callback_is_not_echoed(client: Client) -> None:
    response = client.get(
        LOGIN,
        {
            "logoutRequest": front_channel(logout_request("ST-7-x")),
            "callback": "alert(1)//",
        },
    )
    assert response.status_code == 200
    assert b"alert" not in response.content


def test_front_channel_zip_bomb_is_refused_without_a_500(client: Client) -> None:
    packed = zlib.compress(b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>", 9)
    response = client.get(LOGIN, {"logoutRequest": base64.b64encode(packed).decode()})
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    "value", ["%%%not-base64%%%", "AAAA", base64.b64encode(b"\xff\xfe").decode()]
)
def test_front_channel_garbage_is_a_400(client: Client, value: str) -> None:
    assert client.get(LOGIN, {"logoutRequest": value}).status_code == 400


def test_rubycas_logout_request_with_undeclared_prefixes_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-7-ruby")
    response = client.post(LOGIN, {"logoutRequest": rubycas_logout_request("ST-7-ruby")})
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_undeclared_prefixes_do_not_let_entities_through(client: Client) -> None:
    xml = '<!DOCTYPE r [<!ENTITY t "ST-7-ruby">]>' + rubycas_logout_request("&t;")
    assert client.post(LOGIN, {"logoutRequest": xml}).status_code == 400


def test_back_channel_form_with_too_many_fields_is_a_400(client: Client) -> None:
    body = "&".join(f"f{i}=x" for i in range(3000)) + "&logoutRequest=x"
    response = client.post(LOGIN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_back_channel_logout_of_megabytes_is_a_413(client: Client) -> None:
    xml = logout_request("ST-1") + " " * (3 * 1024 * 1024)
    assert client.post(LOGIN, {"logoutRequest": xml}).status_code == 413


@pytest.mark.parametrize("path", [LOGIN, "/accounts/callback/"])
def test_back_channel_logout_needs_no_csrf_token(path: str) -> None:
    key = signed_in_session("ST-7-csrf")
    response = Client(enforce_csrf_checks=True).post(
        path, {"logoutRequest": rubycas_logout_request("ST-7-csrf")}
    )
    assert response.status_code == 200
    assert not SessionStore().exists(key)
