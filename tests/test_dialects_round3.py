"""Third round of server dialects: Apereo CAS 5's unchecked attribute element names, Apereo
CAS 7's authentication attributes, refusal codes written with whitespace around them, a
NUL after the answer, SAML 1.1 split over several statements; read as the server meant
them, and never a sign-in from an unusable answer."""

from __future__ import annotations

import json

import pytest
import responses
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from django_cas_ng._internal.presented import parse_proxy_validation
from django_cas_ng._internal.xml import parse_cas_answer, read_service_response
from django_cas_ng.client import parse_proxy_answer
from django_cas_ng.exceptions import CASUnavailable, ProxyError, TicketValidationError
from django_cas_ng.models import ProxyGrantingTicket
from tests.cas_answers import (
    apereo5_unchecked_names_success,
    apereo7_success,
    jscas_logout_request,
    saml_authentication_statement_only,
    saml_two_statements,
    saml_with_targeted_id,
    shibboleth_cas_failure,
    shibboleth_cas_success,
    simplesamlphp_success,
    spaced_failure,
    success_xml,
    txcas_logout_request,
)
from tests.conftest import CAS
from tests.test_dialects import LOGIN, P3_VALIDATE, sign_in, signed_in_as
from tests.test_slo import signed_in_session

pytestmark = pytest.mark.django_db

URN = "urn:mace:dir:attribute-def:displayName"


# --- Apereo CAS 5.0/5.1: attribute names that are not XML names ------------------------------


def test_apereo5_attribute_names_that_are_not_xml_names_are_read_as_named_values(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=apereo5_unchecked_names_success("kim", "kim@example.org"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim"
    attributes = client.session["attributes"]
    assert attributes[URN] == "Kim O'Hara & co"
    assert attributes["LdapAuthenticationHandler.kim@example.org"] == "kim@example.org"
    assert attributes["memberOf"] == ["cn=staff,ou=groups", "cn=vpn,ou=groups"]
    assert attributes["mail"] == "kim@example.org"
    assert attributes["isFromNewLogin"] == "true"


def test_apereo5_unchecked_names_in_proxy_validation_keep_user_and_chain() -> None:
    answer = apereo5_unchecked_names_success("kim", "kim@example.org").replace(
        "    </cas:authenticationSuccess>",
        "        <cas:proxies><cas:proxy>https://app-a.example.org/pgt</cas:proxy></cas:proxies>\n"
        "    </cas:authenticationSuccess>",
    )
    validated = parse_proxy_validation(answer)
    assert (validated.username, validated.proxies) == ("kim", ("https://app-a.example.org/pgt",))
    assert validated.attributes[URN] == "Kim O'Hara & co"


def test_an_unchecked_name_cannot_smuggle_a_second_user(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = apereo5_unchecked_names_success("kim", "kim@example.org").replace(
        "        <cas:attributes>\n",
        "        <cas:attributes>\n            <cas:urn:x>v</cas:urn:x><cas:user>root</cas:user>\n",
    )
    cas_http.get(P3_VALIDATE, body=answer)
    response = sign_in(client)
    assert signed_in_as(client) != "root"
    assert response.status_code in (302, 503)


@pytest.mark.parametrize(
    "broken",
    [
        "<cas:user>kim</cas:user><cas:user:x>root</cas:user:x>",
        "<cas:user:x>root</cas:user:x>",
        '<cas:attributes><cas:urn:x a="1">v</cas:urn:x></cas:attributes>',
        "<cas:attributes><cas:urn:x>v</cas:urn:y></cas:attributes>",
        "<cas:attributes><cas:urn:x><b>v</b></cas:urn:x></cas:attributes>",
    ],
    ids=["beside-user", "as-user", "with-attribute", "unmatched", "nested"],
)
def test_names_that_are_not_xml_names_elsewhere_stay_unusable(
    client: Client, cas_http: responses.RequestsMock, broken: str
) -> None:
    answer = (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'><cas:authenticationSuccess>"
        f"{broken if 'user' in broken else '<cas:user>kim</cas:user>' + broken}"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_a_dtd_still_refuses_an_answer_with_unchecked_names(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = '<!DOCTYPE r [<!ENTITY e "root">]>' + apereo5_unchecked_names_success(
        "&e;", "kim@example.org"
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


# --- Apereo CAS 7: authentication attributes ------------------------------------------------------


def test_apereo7_authentication_attributes_and_dotted_names_are_kept(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=apereo7_success("casuser"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "casuser"
    attributes = client.session["attributes"]
    assert attributes["successfulAuthenticationHandlers"] == [
        "LdapAuthenticationHandler",
        "DuoSecurityAuthenticationHandler",
    ]
    assert attributes["longTermAuthenticationRequestTokenUsed"] == "true"
    assert attributes["credentialType"] == "UsernamePasswordCredential"
    assert attributes["org.example.costCentre"] == "CC-4711"
    assert attributes["eduPersonAffiliation"] == ["member", "employee"]


# --- Shibboleth IdP's CAS protocol ------------------------------------------------------------


def test_shibboleth_velocity_answer_signs_in_with_its_attributes_and_pgtiou(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    answer = shibboleth_cas_success(
        "kim@example.org",
        {"eduPersonPrincipalName": ["kim@example.org"], "eduPersonEntitlement": ["urn:a", "urn:b"]},
        "PGTIOU-4-shib",
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim@example.org"
    attributes = client.session["attributes"]
    assert attributes["eduPersonEntitlement"] == ["urn:a", "urn:b"]
    assert attributes["eduPersonPrincipalName"] == "kim@example.org"
    assert client.session["pgtiou"] == "PGTIOU-4-shib"


def test_shibboleth_refusal_with_its_detail_code_is_a_403(
    client: Client, cas_http: responses.RequestsMock, caplog
) -> None:
    cas_http.get(P3_VALIDATE, body=shibboleth_cas_failure("INVALID_TICKET", "E_TICKET_EXPIRED"))
    assert sign_in(client).status_code == 403
    assert "INVALID_TICKET" in caplog.text


# --- SimpleSAMLphp's casserver module ------------------------------------------------------------


def test_simplesamlphp_base64_attributes_are_kept_as_sent_with_their_indicator(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = simplesamlphp_success(
        "kim@example.org", {"urn:oid:2.5.4.42": ["Kim"], "eduPersonAffiliation": ["a", "b"]}
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim@example.org"
    # Decoding is the site's choice (5.1 handed the values on as sent): nothing is decoded.
    assert client.session["attributes"] == {
        "urn_oid_2.5.4.42": "S2lt",
        "eduPersonAffiliation": ["YQ==", "Yg=="],
        "base64Attributes": "true",
    }


def test_simplesamlphp_cas1_no_on_a_single_line_is_a_refusal(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body=b"no\n", content_type="text/html; charset=UTF-8")
    assert sign_in(client).status_code == 403
    assert signed_in_as(client) is None


# --- Refusal codes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "INVALID_TICKET_SPEC",
        "INVALID_PROXY_CALLBACK",
        "UNAUTHORIZED_SERVICE_PROXY",
        "INTERNAL_ERROR",
    ],
)
def test_a_refusal_code_between_whitespace_is_a_403_logging_the_bare_code(
    client: Client, cas_http: responses.RequestsMock, caplog, code: str
) -> None:
    cas_http.get(P3_VALIDATE, body=spaced_failure(code))
    assert sign_in(client).status_code == 403
    assert signed_in_as(client) is None
    assert f": {code} Ticket" in caplog.text  # the code alone, then the server's message


def test_a_presented_ticket_refusal_reports_the_bare_code() -> None:
    with pytest.raises(TicketValidationError) as refused:
        parse_proxy_validation(spaced_failure("INVALID_TICKET_SPEC"))
    assert refused.value.code == "INVALID_TICKET_SPEC"


@pytest.mark.parametrize(
    ("attribute", "code"), [("", "UNKNOWN"), (' code=""', ""), (' code=" \n "', "")]
)
def test_a_refusal_without_a_code_reads_as_before(attribute: str, code: str) -> None:
    answer = (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>"
        f"<cas:authenticationFailure{attribute}>no</cas:authenticationFailure></cas:serviceResponse>"
    )
    with pytest.raises(TicketValidationError) as refused:
        read_service_response(parse_cas_answer(answer))
    assert refused.value.code == code


@pytest.mark.parametrize("element", ["proxyFailure", "authenticationFailure"])
def test_a_proxy_refusal_code_between_whitespace_is_reported_bare(element: str) -> None:
    with pytest.raises(ProxyError) as refused:
        parse_proxy_answer(spaced_failure("UNAUTHORIZED_SERVICE_PROXY", element))
    assert refused.value.args[0] == "UNAUTHORIZED_SERVICE_PROXY"


# --- Bytes after the answer -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail", [b"\x00", b"\n\x00", b"\r\n\x00\x00"], ids=["nul", "lf-nul", "crlf"]
)
def test_a_nul_after_the_answer_is_ignored(
    client: Client, cas_http: responses.RequestsMock, tail: bytes
) -> None:
    body = success_xml("kim", {"mail": "kim@example.org"}).encode() + tail
    cas_http.get(P3_VALIDATE, body=body)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim"


def test_a_nul_after_a_json_answer_is_ignored(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = json.dumps({"serviceResponse": {"authenticationSuccess": {"user": "kim"}}}) + "\n\x00"
    cas_http.get(P3_VALIDATE, body=body.encode())
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim"


@pytest.mark.parametrize(
    "tail",
    [
        b"garbage",
        b"\x00<cas:user>root</cas:user>",
        success_xml("root").encode(),
        b"\x00" + success_xml("root").encode(),
    ],
    ids=["text", "nul-then-element", "second-answer", "nul-then-second-answer"],
)
def test_anything_else_after_the_answer_is_an_outage(
    client: Client, cas_http: responses.RequestsMock, tail: bytes
) -> None:
    cas_http.get(P3_VALIDATE, body=success_xml("kim").encode() + tail)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


def test_a_nul_after_a_proxy_ticket_answer_is_ignored() -> None:
    answer = (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'><cas:proxySuccess>"
        "<cas:proxyTicket>PT-3-nul</cas:proxyTicket></cas:proxySuccess></cas:serviceResponse>"
    )
    assert parse_proxy_answer(answer.encode() + b"\x00") == "PT-3-nul"


def test_garbage_after_a_proxy_ticket_answer_is_an_outage() -> None:
    answer = (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'><cas:proxySuccess>"
        "<cas:proxyTicket>PT-3-nul</cas:proxyTicket></cas:proxySuccess></cas:serviceResponse>"
    )
    with pytest.raises(CASUnavailable):
        parse_proxy_answer(answer + "<x/>")


# --- SAML 1.1 --------------------------------------------------------------------------------------


def test_saml_attributes_split_over_two_statements_are_all_read(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    cas_http.post(CAS + "samlValidate", body=saml_two_statements("kim"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim"
    attributes = client.session["attributes"]
    assert attributes["mail"] == "kim@example.org"
    assert attributes["memberOf"] == ["staff", "vpn"]


def test_saml_answer_with_only_an_authentication_statement_signs_in_without_attributes(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    cas_http.post(CAS + "samlValidate", body=saml_authentication_statement_only("kim"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim"
    assert client.session.get("attributes", {}) == {}


# --- Single Logout --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LOGIN, "/accounts/callback/"])
@pytest.mark.parametrize("content_type", ["", "text/plain", "application/octet-stream"])
def test_txcas_logout_request_as_a_bare_body_without_content_type_ends_the_session(
    client: Client, path: str, content_type: str
) -> None:
    key = signed_in_session("ST-5-txcas")
    response = client.post(path, txcas_logout_request("ST-5-txcas"), content_type=content_type)
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_jscas_logout_request_as_a_bare_body_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-6-jscas")
    response = client.post(LOGIN, jscas_logout_request("ST-6-jscas"), content_type="")
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_a_bare_body_that_is_no_logout_request_is_not_one(client: Client) -> None:
    key = signed_in_session("ST-5-other")
    response = client.post("/accounts/callback/", "ST-5-other", content_type="")
    assert response.status_code == 400
    assert SessionStore().exists(key)


def test_a_bare_logout_request_declaring_entities_is_a_400(client: Client) -> None:
    key = signed_in_session("ST-5-xxe")
    body = '<!DOCTYPE r [<!ENTITY t "ST-5-xxe">]>' + txcas_logout_request("&t;")
    response = client.post(LOGIN, body, content_type="")
    assert response.status_code == 400
    assert SessionStore().exists(key)


def test_an_oversized_bare_body_is_not_read_as_a_logout_request(client: Client, settings) -> None:
    settings.CAS_SLO_MAX_BYTES = 1024
    body = txcas_logout_request("ST-5-big") + " " * 2048
    response = client.post("/accounts/callback/", body, content_type="")
    assert response.status_code == 400


TARGETED_ID = "urn:oid:1.3.6.1.4.1.5923.1.1.1.10"


@pytest.mark.parametrize("inner", ["saml2", "saml1"])
def test_saml_attribute_value_holding_a_name_id_is_read_as_its_text(
    client: Client, cas_http: responses.RequestsMock, settings, inner: str
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    answer = saml_with_targeted_id("kim", "4A7E0C2B9D", inner)
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "kim"
    attributes = client.session["attributes"]
    assert attributes[TARGETED_ID] == "4A7E0C2B9D"
    assert attributes["urn:oid:0.9.2342.19200300.100.1.3"] == "kim@example.org"


def test_saml_subjects_naming_different_users_stay_refused_beside_a_name_id_value(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    answer = saml_with_targeted_id("kim", "4A7E0C2B9D", "saml1").replace(
        "<saml1:NameIdentifier>kim</saml1:NameIdentifier>",
        "<saml1:NameIdentifier>root</saml1:NameIdentifier>",
        1,
    )
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(client).status_code == 503
    assert signed_in_as(client) is None


# --- Proxy tickets -------------------------------------------------------------------------------


def test_apereo_callback_sequence_stores_the_pgt(client: Client, settings) -> None:
    """Apereo CAS first GETs the bare pgtUrl (is it reachable?), then sends the pair with
    ``pgtId`` before ``pgtIou``."""
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    assert client.get("/accounts/callback/").status_code == 200
    query = "pgtId=PGT-7-Zq0aB1cD2eF3-cas01.example.org&pgtIou=PGTIOU-7-Yx9wV8uT7sR6-cas01"
    assert client.get(f"/accounts/callback/?{query}").status_code == 200
    stored = ProxyGrantingTicket.objects.get(pgtiou="PGTIOU-7-Yx9wV8uT7sR6-cas01")
    assert stored.pgt == "PGT-7-Zq0aB1cD2eF3-cas01.example.org"


def test_simplesamlphp_proxy_ticket_heredoc_is_read() -> None:
    answer = (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>\n    <cas:proxySuccess>\n"
        "        <cas:proxyTicket>PT-8-c0ffee</cas:proxyTicket>\n    </cas:proxySuccess>\n"
        "</cas:serviceResponse>"
    )
    assert parse_proxy_answer(answer) == "PT-8-c0ffee"


def test_shibboleth_proxy_refusal_keeps_its_code_and_detail() -> None:
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">\n'
        '  <cas:proxyFailure code="INVALID_TICKET">\n    E_TICKET_EXPIRED\n  </cas:proxyFailure>\n'
        "</cas:serviceResponse>\n"
    )
    with pytest.raises(ProxyError) as refused:
        parse_proxy_answer(answer)
    assert refused.value.args == ("INVALID_TICKET", "E_TICKET_EXPIRED")
