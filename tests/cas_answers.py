"""What a CAS server says, built once for every unit test: validation, proxy and logout XML."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

CAS_NS = 'xmlns:cas="http://www.yale.edu/tp/cas"'
APP_A = "https://app-a.example.org/accounts/callback/"
"""The proxy callback of "app A", the usual proxy in proxy ticket chains."""


def success_xml(
    user: str = "alice",
    attributes: Mapping[str, Any] | None = None,
    pgtiou: str | None = None,
    proxies: Sequence[str] = (),
) -> str:
    """A CAS 2/3 authenticationSuccess; a list attribute value becomes repeated elements."""
    attrs = ""
    for name, value in (attributes or {}).items():
        for v in value if isinstance(value, list) else [value]:
            attrs += f"<cas:{name}>{v}</cas:{name}>"
    pgt = f"<cas:proxyGrantingTicket>{pgtiou}</cas:proxyGrantingTicket>" if pgtiou else ""
    chain = ""
    if proxies:
        chain = "<cas:proxies>" + "".join(f"<cas:proxy>{p}</cas:proxy>" for p in proxies)
        chain += "</cas:proxies>"
    return (
        f"<cas:serviceResponse {CAS_NS}>"
        f"<cas:authenticationSuccess><cas:user>{user}</cas:user>{pgt}"
        f"<cas:attributes>{attrs}</cas:attributes>{chain}"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )


def proxy_validate_xml(
    user: str = "alice",
    proxies: Sequence[str] = (APP_A,),
    attributes: Mapping[str, Any] | None = None,
) -> str:
    """A proxyValidate success for a proxy ticket that came through ``proxies`` (app A)."""
    return success_xml(user, attributes, proxies=proxies)


def failure_xml(code: str = "INVALID_TICKET") -> str:
    """A CAS 2/3 authenticationFailure answer."""
    return (
        f"<cas:serviceResponse {CAS_NS}>"
        f'<cas:authenticationFailure code="{code}">Ticket not recognized</cas:authenticationFailure>'
        "</cas:serviceResponse>"
    )


def proxy_success(ticket: str = "PT-1-xyz") -> str:
    """The answer of ``/proxy`` handing out a proxy ticket."""
    return (
        f"<cas:serviceResponse {CAS_NS}><cas:proxySuccess>"
        f"<cas:proxyTicket>{ticket}</cas:proxyTicket></cas:proxySuccess></cas:serviceResponse>"
    )


def proxy_failure(code: str, element: str = "proxyFailure") -> str:
    """The answer of ``/proxy`` refusing a PGT (some servers say authenticationFailure)."""
    return (
        f"<cas:serviceResponse {CAS_NS}>"
        f'<cas:{element} code="{code}">PGT-1-secret unknown</cas:{element}>'
        "</cas:serviceResponse>"
    )


def saml_success(name: str, attributes: Mapping[str, str]) -> str:
    """A SAML 1.1 samlValidate success answer."""
    attrs = "".join(
        f'<saml:Attribute AttributeName="{key}" AttributeNamespace="http://www.ja-sig.org/">'
        f"<saml:AttributeValue>{value}</saml:AttributeValue></saml:Attribute>"
        for key, value in attributes.items()
    )
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        "<SOAP-ENV:Body>"
        '<Response xmlns="urn:oasis:names:tc:SAML:1.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" '
        'xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" MajorVersion="1" MinorVersion="1">'
        '<Status><StatusCode Value="samlp:Success"/></Status>'
        "<saml:Assertion><saml:AttributeStatement>"
        f"<saml:Subject><saml:NameIdentifier>{name}</saml:NameIdentifier></saml:Subject>"
        f"{attrs}</saml:AttributeStatement></saml:Assertion>"
        "</Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def logout_request(*tickets: str) -> str:
    """A SAML 2.0 LogoutRequest naming ``tickets`` as SessionIndex values."""
    indexes = "".join(f"<samlp:SessionIndex>{t}</samlp:SessionIndex>" for t in tickets)
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="LR-1" Version="2.0" '
        'IssueInstant="2026-01-01T00:00:00Z"><saml:NameID>@NOT_USED@</saml:NameID>'
        f"{indexes}</samlp:LogoutRequest>"
    )


def front_channel(xml: str) -> str:
    """``base64(raw deflate(xml))``, as Apereo CAS sends a front-channel logout."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = compressor.compress(xml.encode()) + compressor.flush()
    return base64.b64encode(packed).decode()


def many_values_xml(name: str, count: int, user: str = "alice") -> str:
    """A CAS 3 success releasing values 0 .. ``count``-1 of attribute ``name``; the CAS
    namespace is the default one, as some servers write it, to fit many values in the cap."""
    values = "".join(f"<{name}>{i}</{name}>" for i in range(count))
    return (
        '<serviceResponse xmlns="http://www.yale.edu/tp/cas"><authenticationSuccess>'
        f"<user>{user}</user><attributes>{values}</attributes></authenticationSuccess>"
        "</serviceResponse>"
    )
