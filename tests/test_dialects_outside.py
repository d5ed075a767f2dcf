"""Answers and logout requests of servers the suite had not met (EU Login's groups, Keycloak's
CAS plugin, Apereo CAS through OpenSAML, other encodings and prefixes), read as an integrator
would expect them: the user, the attributes, the refusal code, the session a logout ends."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
import responses
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from django_cas_ng import session_age, stepup
from django_cas_ng._internal.presented import parse_proxy_validation
from django_cas_ng.client import parse_proxy_answer
from django_cas_ng.exceptions import ProxyError
from django_cas_ng.models import ProxyGrantingTicket
from tests.cas_answers import (
    APP_A,
    CAS_NS,
    apereo6_json_success,
    apereo_saml_success,
    eu_login_groups_success,
    front_channel,
    groups_in_attributes_block,
    keycloak_failure,
    keycloak_json_failure,
    keycloak_logout_request,
    keycloak_saml_success,
    keycloak_success,
    lemonldap_failure,
    lemonldap_success,
    logout_request,
    mama_cas_logout_request,
    mama_cas_proxy_success,
    mama_cas_saml_answer,
    nested_user_success,
    success_xml,
)
from tests.conftest import CAS
from tests.test_dialects import LOGIN, P3_VALIDATE, sign_in, signed_in_as
from tests.test_proxy import PROXY, TARGET, request_of
from tests.test_proxy import sign_in as sign_in_with_pgt
from tests.test_slo import signed_in_session
from tests.test_stepup import BACKEND, step_up

pytestmark = pytest.mark.django_db


# --- EU Login ------------------------------------------------------------------------------------


def test_eu_login_groups_are_one_attribute_listing_its_members(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = eu_login_groups_success("jdupont", ["INTERNET", "DIGIT_STAFF"])
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "jdupont"
    attributes = client.session["attributes"]
    assert attributes["groups"] == ["INTERNET", "DIGIT_STAFF"]
    assert attributes["email"] == "j.dupont@example.eu"
    assert attributes["ticketType"] == "SERVICE"


def test_eu_login_single_group_is_read_like_any_single_value(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=eu_login_groups_success("jdupont", ["INTERNET"]))
    assert sign_in(client).status_code == 302
    assert client.session["attributes"]["groups"] == "INTERNET"


@pytest.mark.parametrize(
    "answer",
    [
        eu_login_groups_success("jdupont", []),
        eu_login_groups_success("jdupont", []).replace(
            '<cas:groups number="0">\n    </cas:groups>', '<cas:groups number="0"/>'
        ),
    ],
    ids=["open-and-closed", "self-closed"],
)
def test_eu_login_groups_counted_zero_are_an_empty_list(
    client: Client, cas_http: responses.RequestsMock, answer: str
) -> None:
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert client.session["attributes"]["groups"] == []


def test_a_wrapper_around_the_user_is_not_read_as_a_list_attribute(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=nested_user_success("alice"))
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"
    assert "principal" not in client.session.get("attributes", {})


def test_eu_login_strengths_and_factors_stay_out_of_the_attributes(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=eu_login_groups_success("jdupont", ["INTERNET"]))
    assert sign_in(client).status_code == 302
    attributes = client.session["attributes"]
    assert "strengths" not in attributes
    assert "authenticationFactors" not in attributes


def test_a_list_element_inside_the_attributes_block_is_read_as_its_members(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=groups_in_attributes_block("jdupont", ["g1", "g2"]))
    assert sign_in(client).status_code == 302
    assert client.session["attributes"] == {"assuranceLevel": "40", "groups": ["g1", "g2"]}


def test_a_nested_structure_inside_the_attributes_block_is_not_read_as_whitespace(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = groups_in_attributes_block("jdupont", ["g1"]).replace(
        "  </cas:attributes>",
        "   <cas:extendedAttributes>\n"
        '    <cas:extendedAttribute name="urn:example:badge">\n'
        "     <cas:attributeValue>B-1</cas:attributeValue>\n"
        "    </cas:extendedAttribute>\n   </cas:extendedAttributes>\n  </cas:attributes>",
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert client.session["attributes"] == {"assuranceLevel": "40", "groups": "g1"}


def test_eu_login_proxy_validation_reads_groups_too() -> None:
    answer = eu_login_groups_success("jdupont", ["A", "B"]).replace(
        "  </cas:authenticationSuccess>",
        f"    <cas:proxies><cas:proxy>{APP_A}</cas:proxy></cas:proxies>\n"
        "  </cas:authenticationSuccess>",
    )
    validated = parse_proxy_validation(answer)
    assert (validated.username, validated.proxies) == ("jdupont", (APP_A,))
    assert validated.attributes["groups"] == ["A", "B"]


# --- Keycloak's CAS protocol plugin --------------------------------------------------------------


def test_keycloak_refusal_sent_with_http_400_is_a_403(
    client: Client, cas_http: responses.RequestsMock, caplog
) -> None:
    cas_http.get(P3_VALIDATE, body=keycloak_failure("INVALID_TICKET"), status=400)
    assert sign_in(client).status_code == 403
    assert "INVALID_TICKET" in caplog.text


def test_keycloak_json_refusal_sent_with_http_400_is_a_403(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=keycloak_json_failure("INVALID_SERVICE"), status=400)
    assert sign_in(client).status_code == 403


def test_keycloak_cas1_no_sent_with_http_400_is_a_403(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "1"
    cas_http.get(CAS + "validate", body=b"no\n", status=400, content_type="text/plain")
    assert sign_in(client).status_code == 403


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (keycloak_failure("INVALID_TICKET", "proxyFailure"), "INVALID_TICKET"),
        (keycloak_failure("INVALID_REQUEST", "proxyFailure"), "INVALID_REQUEST"),
        (keycloak_json_failure("UNAUTHORIZED_SERVICE", "proxyFailure"), "UNAUTHORIZED_SERVICE"),
    ],
    ids=["xml-invalid-ticket", "xml-invalid-request", "json"],
)
def test_keycloak_proxy_refusal_sent_with_http_400_keeps_its_code(
    client: Client, cas_http: responses.RequestsMock, settings, answer: str, code: str
) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    sign_in_with_pgt(client, cas_http)
    cas_http.get(PROXY, body=answer, status=400)
    with pytest.raises(ProxyError) as refused:
        ProxyGrantingTicket.retrieve_pt(request_of(client), TARGET)
    assert refused.value.args[0] == code


def test_keycloak_proxy_validation_reads_chain_and_attributes() -> None:
    answer = keycloak_success(
        "jdoe", "PGTIOU-kc-1", [APP_A], {"roles": ["admin", "user"], "level": "123"}
    )
    validated = parse_proxy_validation(answer)
    assert (validated.username, validated.proxies) == ("jdoe", (APP_A,))
    assert validated.attributes == {"roles": ["admin", "user"], "level": "123"}


def test_line_breaks_inside_an_attribute_value_are_kept(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    cas_http.get(P3_VALIDATE, body=success_xml("alice", {"postalAddress": "1 Main St\n\nTown"}))
    assert sign_in(client).status_code == 302
    assert client.session["attributes"]["postalAddress"] == "1 Main St\n\nTown"


def test_keycloak_saml_answer_signs_in_with_its_attributes(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    answer = keycloak_saml_success("jdoe@example.org", {"roles": ["admin", "user"], "sn": ["Doe"]})
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "jdoe@example.org"
    assert client.session["attributes"]["roles"] == ["admin", "user"]
    assert client.session["attributes"]["sn"] == "Doe"


def test_keycloak_back_channel_logout_as_an_application_xml_body_ends_the_session(
    client: Client,
) -> None:
    key = signed_in_session("ST-9-kc")
    other = signed_in_session("ST-9-other", username="bob")
    response = client.post(
        LOGIN, keycloak_logout_request("ST-9-kc"), content_type="application/xml; charset=UTF-8"
    )
    assert response.status_code == 200
    assert not SessionStore().exists(key)
    assert SessionStore().exists(other)


# --- LemonLDAP::NG -----------------------------------------------------------------------------


def test_lemonldap_answer_signs_in_with_attributes_and_pgtiou(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_PROXY_CALLBACK = "https://testserver/accounts/callback/"
    answer = lemonldap_success(
        "dwho", {"mail": "dwho@example.org", "groups": ["tardis", "su"]}, "PGTIOU-llng-1"
    )
    cas_http.get(P3_VALIDATE, body=answer, content_type="text/xml")
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "dwho"
    assert client.session["attributes"] == {"mail": "dwho@example.org", "groups": ["tardis", "su"]}
    assert client.session["pgtiou"] == "PGTIOU-llng-1"


def test_lemonldap_refusal_is_a_403_with_its_code(
    client: Client, cas_http: responses.RequestsMock, caplog
) -> None:
    cas_http.get(
        P3_VALIDATE,
        body=lemonldap_failure(
            "INVALID_SERVICE", "Submitted service does not match initial service"
        ),
    )
    assert sign_in(client).status_code == 403
    assert "INVALID_SERVICE" in caplog.text


# --- Apereo CAS through OpenSAML -------------------------------------------------------------------


def test_apereo_saml1p_answer_with_typed_values_signs_in(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    answer = apereo_saml_success("casuser", {"memberOf": ["staff", "faculty"], "cn": ["CAS"]})
    cas_http.post(CAS + "samlValidate", body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "casuser"
    assert client.session["attributes"]["memberOf"] == ["staff", "faculty"]
    assert client.session["attributes"]["cn"] == "CAS"


def test_front_channel_logout_through_jquery_jsonp_with_a_cache_buster(client: Client) -> None:
    key = signed_in_session("ST-9-jq")
    response = client.get(
        LOGIN,
        {
            "callback": "jQuery3610_1709",
            "logoutRequest": front_channel(logout_request("ST-9-jq")),
            "_": "1709000000000",
        },
    )
    assert response.status_code == 200
    assert response.content.decode().startswith("/**/jQuery3610_1709(")
    assert not SessionStore().exists(key)


# --- Encodings, prefixes, comments ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_an_answer_in_utf16_is_read(
    client: Client, cas_http: responses.RequestsMock, encoding: str
) -> None:
    declared = "UTF-16"
    text = f'<?xml version="1.0" encoding="{declared}"?>\n' + success_xml("zoë", {"cn": "Zoë"})
    body = text.encode(encoding)
    if encoding != "utf-16":  # the plain codec writes its own byte order mark
        body = ("\ufeff" + text).encode(encoding)
    cas_http.get(P3_VALIDATE, body=body, content_type="application/xml")
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "zoë"
    assert client.session["attributes"]["cn"] == "Zoë"


def test_comments_and_processing_instructions_around_the_answer_are_ignored(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- rendered by node 3 -->\n'
        '<?xml-stylesheet type="text/xsl" href="cas.xsl"?>\n'
        f"<cas:serviceResponse {CAS_NS}><!-- ok -->\n"
        "<cas:authenticationSuccess><!-- principal --><cas:user>alice</cas:user>"
        "<cas:attributes><!-- released --><cas:mail>a@example.org</cas:mail>"
        "</cas:attributes></cas:authenticationSuccess></cas:serviceResponse><!-- end -->\n"
    )
    cas_http.get(P3_VALIDATE, body=answer)
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"
    assert client.session["attributes"] == {"mail": "a@example.org"}


def test_the_cas_namespace_under_another_prefix_is_read() -> None:
    answer = (
        '<sso:serviceResponse xmlns:sso="http://www.yale.edu/tp/cas">'
        "<sso:authenticationSuccess><sso:user>alice</sso:user>"
        "<sso:attributes><sso:mail>a@example.org</sso:mail></sso:attributes>"
        f"<sso:proxies><sso:proxy>{APP_A}</sso:proxy></sso:proxies>"
        "</sso:authenticationSuccess></sso:serviceResponse>"
    )
    validated = parse_proxy_validation(answer)
    assert (validated.username, validated.proxies) == ("alice", (APP_A,))
    assert validated.attributes == {"mail": "a@example.org"}


def test_a_proxy_ticket_answer_with_a_declaration_and_default_namespace_is_read() -> None:
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<serviceResponse '
        'xmlns="http://www.yale.edu/tp/cas">\n  <proxySuccess>\n'
        "    <proxyTicket>PT-3-dflt</proxyTicket>\n  </proxySuccess>\n</serviceResponse>\n"
    )
    assert parse_proxy_answer(answer) == "PT-3-dflt"


def test_a_json_answer_with_unicode_escapes_is_read(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    body = json.dumps(
        {"serviceResponse": {"authenticationSuccess": {"user": "zoë", "attributes": {}}}},
        ensure_ascii=True,
    )
    assert "\\u00eb" in body
    cas_http.get(P3_VALIDATE, body=body, content_type="application/json")
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "zoë"


def test_logout_request_in_the_default_namespace_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-9-dflt")
    xml = (
        '<LogoutRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" ID="_d1" Version="2.0" '
        'IssueInstant="2026-03-04T05:06:07Z" NotOnOrAfter="2026-03-04T05:16:07Z">'
        '<NameID xmlns="urn:oasis:names:tc:SAML:2.0:assertion">jdoe</NameID>'
        "<SessionIndex><![CDATA[ST-9-dflt]]></SessionIndex></LogoutRequest>"
    )
    assert client.post(LOGIN, {"logoutRequest": xml}).status_code == 200
    assert not SessionStore().exists(key)


def test_mama_cas_logout_request_sent_as_form_bytes_ends_the_session(client: Client) -> None:
    key = signed_in_session("ST-1767312345-q8Xr2LmN0pVb7TzK4sYw1Hc6Jd3Fg9Ae")
    body = urlencode(
        {"logoutRequest": mama_cas_logout_request("ST-1767312345-q8Xr2LmN0pVb7TzK4sYw1Hc6Jd3Fg9Ae")}
    )
    response = client.post(LOGIN, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not SessionStore().exists(key)


def test_mama_cas_saml_answer_in_default_namespaces_signs_in_with_its_attributes(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    answer = mama_cas_saml_answer(
        "alice", {"email": "alice@example.org", "groups": ["staff", "ops"], "short_name": ""}
    )
    cas_http.post(CAS + "samlValidate", body=answer, content_type="text/xml")
    assert sign_in(client).status_code == 302
    assert signed_in_as(client) == "alice"
    assert client.session["attributes"]["email"] == "alice@example.org"
    assert client.session["attributes"]["groups"] == ["staff", "ops"]
    assert client.session["attributes"]["short_name"] is None  # as an empty CAS 2/3 element


def test_mama_cas_saml_refusal_is_a_403(
    client: Client, cas_http: responses.RequestsMock, settings
) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    cas_http.post(CAS + "samlValidate", body=mama_cas_saml_answer(None), content_type="text/xml")
    assert sign_in(client).status_code == 403
    assert signed_in_as(client) is None


def test_mama_cas_proxy_validation_reports_the_chain_it_sends() -> None:
    answer = mama_cas_proxy_success("alice", [TARGET], {"email": "alice@example.org"})
    validated = parse_proxy_validation(answer)
    assert (validated.username, validated.proxies) == ("alice", (TARGET,))
    assert validated.attributes == {"email": "alice@example.org"}


# --- Apereo CAS 6's JSON dates ----------------------------------------------------------------


def test_an_apereo6_json_sign_in_records_its_epoch_authentication_date(
    client: Client, cas_http: responses.RequestsMock
) -> None:
    two_hours_ago = time.time() - 7200
    cas_http.get(P3_VALIDATE, body=apereo6_json_success("casuser", two_hours_ago))
    assert sign_in(client).status_code == 302
    record = client.session[session_age.SESSION_KEY]
    assert record["dated"] is True
    assert abs(record["at"] - two_hours_ago) < 1


@pytest.mark.urls("tests.test_stepup")
@pytest.mark.parametrize(("seconds_ago", "status"), [(5, 302), (400, 403)], ids=["fresh", "old"])
def test_an_apereo6_json_step_up_is_judged_by_its_epoch_date(
    client: Client, cas_http: responses.RequestsMock, seconds_ago: int, status: int
) -> None:
    client.force_login(get_user_model().objects.create_user("alice"), backend=BACKEND)
    cas_http.get(P3_VALIDATE, body=apereo6_json_success("alice", time.time() - seconds_ago))
    response = client.get(step_up(client, "/payroll/"))
    assert response.status_code == status
    if status == 302:
        assert response.url == "/payroll/"
        assert stepup.SESSION_KEY in client.session
    else:
        assert b"older than the 300 seconds" in response.content
