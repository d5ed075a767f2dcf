"""One hardened XML parse for every document the package reads: no DTD in any encoding."""

from __future__ import annotations

from unittest import mock

import pytest

from django_cas_ng._internal import presented as proxy_auth
from django_cas_ng._internal import slo
from django_cas_ng._internal import xml as answers
from django_cas_ng._internal.xml import parse_xml
from django_cas_ng.client import get_cas_client, validate_ticket
from django_cas_ng.exceptions import BadLogoutRequest, CASUnavailable, MalformedXML
from tests.cas_answers import logout_request
from tests.cas_answers import saml_success as saml_answer
from tests.conftest import CAS, success_xml

SERVICE = "https://app.example.org/accounts/login/?next=%2F"
DTD = '<!DOCTYPE x [<!ENTITY who "admin">]>'


def utf16(document: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-16"?>' + document).encode("utf-16")


def test_a_utf16_document_hides_its_doctype_from_a_byte_search() -> None:
    assert b"<!DOCTYPE" not in utf16(DTD + "<a/>").upper()


@pytest.mark.parametrize(
    "document",
    [
        (DTD + "<a>&who;</a>").encode(),
        utf16(DTD + "<a>&who;</a>"),
        utf16("<!DOCTYPE a><a/>"),
        b'<!DOCTYPE a SYSTEM "http://evil.example/a.dtd"><a/>',
    ],
)
def test_a_document_declaring_a_dtd_is_refused_whatever_its_encoding(document: bytes) -> None:
    with pytest.raises(MalformedXML, match="DTD"):
        parse_xml(document)


@pytest.mark.parametrize("document", [b"", b"<a>", b"<a>&undefined;</a>", b"\x00"])
def test_unreadable_xml_is_malformed(document: bytes) -> None:
    with pytest.raises(MalformedXML):
        parse_xml(document)


def test_a_utf16_document_without_dtd_is_read() -> None:
    assert parse_xml(utf16("<a>b</a>")).text == "b"


def test_validation_answer_with_a_utf16_dtd_is_unavailable(cas_http) -> None:
    cas_http.get(CAS + "p3/serviceValidate", body=utf16(DTD + success_xml("&who;")))
    with pytest.raises(CASUnavailable, match="DTD"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


def test_saml_answer_building_the_username_from_an_entity_is_refused(settings, cas_http) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    cas_http.post(CAS + "samlValidate", body=utf16(DTD + saml_answer("&who;", {})))
    with pytest.raises(CASUnavailable, match="DTD"):
        validate_ticket(get_cas_client(SERVICE), "ST-1")


def test_saml_answer_in_utf16_without_dtd_is_read(settings, cas_http) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    cas_http.post(CAS + "samlValidate", body=utf16(saml_answer("alice", {"mail": "a@x.org"})))
    assert validate_ticket(get_cas_client(SERVICE), "ST-1")[:2] == ("alice", {"mail": "a@x.org"})


def test_saml_answer_still_goes_through_python_cas(settings, cas_http) -> None:
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    cas_http.post(CAS + "samlValidate", body=saml_answer("alice", {"mail": "a@example.org"}))
    with mock.patch("cas.CASClientWithSAMLV1.verify_ticket", autospec=True) as verify:
        verify.return_value = ("alice", {}, None)
        validate_ticket(get_cas_client(SERVICE), "ST-1")
    verify.assert_called_once()


def test_logout_request_with_a_utf16_dtd_is_a_bad_logout_request() -> None:
    document = logout_request("ST-1-abc").replace('<?xml version="1.0" encoding="UTF-8"?>', "")
    with pytest.raises(BadLogoutRequest, match="DTD"):
        slo.session_indexes(utf16("<!DOCTYPE x>" + document))


def test_proxy_validation_answer_is_parsed_once() -> None:
    answer = success_xml("alice")
    with mock.patch.object(answers, "parse_xml", wraps=answers.parse_xml) as parse:
        assert proxy_auth.parse_proxy_validation(answer).username == "alice"
    assert parse.call_count == 1
