"""What a CAS server says, built once for every unit test: validation, proxy and logout XML."""

from __future__ import annotations

import base64
import json
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
    """``base64(zlib(xml))``, as Apereo CAS sends a front-channel logout: its
    ``CompressionUtils.deflate`` uses a default ``java.util.zip.Deflater`` (zlib wrapper, RFC
    1950, default level), which is what ``zlib.compress`` writes."""
    return base64.b64encode(zlib.compress(xml.encode("utf-8"))).decode()


def front_channel_raw(xml: str) -> str:
    """``base64(raw deflate(xml))`` (RFC 1951, no zlib wrapper), as some other servers send."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = compressor.compress(xml.encode("utf-8")) + compressor.flush()
    return base64.b64encode(packed).decode()


#: ``front_channel(logout_request("ST-1-apereo"))`` as Java itself wrote it: the XML piped
#: through a default ``java.util.zip.Deflater`` and base64, the steps of Apereo CAS's
#: ``CompressionUtils.deflate`` (see docs/dialects.rst).
APEREO_FRONT_CHANNEL = (
    "eJx9kE0LgkAQhv+K7N1aPXQYVAzsIJiBax26xFJDCLprOyv481uVwDoEc3rej2EmItm1PRT6qQdb4WtAst7Y"
    "tYpgVmI2GAVaUkOgZIcE9g5ifywg3HDojbb6rlu2ivxPSCI0ttGKeXkWs6LyA+Zd0JBDMXMOx4kGzBVZqaxD"
    "PNz5PHBTcw7zXFkSTZugdPV5lqTlqb6dxSFLo+2aR8ttAmlqz9UDx0TUfuDLHg3qxfyjf+DXQ5I36oJj7w=="
)


def many_values_xml(name: str, count: int, user: str = "alice") -> str:
    """A CAS 3 success releasing values 0 .. ``count``-1 of attribute ``name``; the CAS
    namespace is the default one, as some servers write it, to fit many values in the cap."""
    values = "".join(f"<{name}>{i}</{name}>" for i in range(count))
    return (
        '<serviceResponse xmlns="http://www.yale.edu/tp/cas"><authenticationSuccess>'
        f"<user>{user}</user><attributes>{values}</attributes></authenticationSuccess>"
        "</serviceResponse>"
    )


# --- One answer per dialect (docs/dialects.rst lists where each shape comes from) -------------

EU_LOGIN_NS = "https://ecas.ec.europa.eu/cas/schemas"
"""The namespace EU Login (the European Commission's CAS) writes its answers in."""


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def apereo_json_success(
    user: str = "alice",
    attributes: Mapping[str, Any] | None = None,
    pgtiou: str | None = None,
    proxies: Sequence[str] = (),
) -> str:
    """Apereo CAS's ``format=JSON`` success: every attribute value in a list, as its renderer
    writes them, with the PGTIOU and the proxy chain when there are any."""
    success: dict[str, Any] = {"user": user}
    if pgtiou:
        success["proxyGrantingTicket"] = pgtiou
    if proxies:
        success["proxies"] = list(proxies)
    success["attributes"] = {name: _values(v) for name, v in (attributes or {}).items()}
    return json.dumps({"serviceResponse": {"authenticationSuccess": success}}, indent=2)


def apereo_json_failure(code: str = "INVALID_TICKET") -> str:
    """Apereo CAS's ``format=JSON`` refusal: a code and a description."""
    failure = {"code": code, "description": "Ticket ST-1-abc not recognized"}
    return json.dumps({"serviceResponse": {"authenticationFailure": failure}})


def apereo_json_proxy_success(ticket: str = "PT-9-json") -> str:
    """``/proxy`` answered in JSON."""
    return json.dumps({"serviceResponse": {"proxySuccess": {"proxyTicket": ticket}}})


def rubycas_success(user: str = "alice", attributes: Mapping[str, Any] | None = None) -> str:
    """RubyCAS-era layout: attributes directly under authenticationSuccess, after a style
    marker, no ``cas:attributes`` block."""
    attrs = "".join(
        f"<cas:{name}>{v}</cas:{name}>"
        for name, value in (attributes or {}).items()
        for v in _values(value)
    )
    return (
        f"<cas:serviceResponse {CAS_NS}>\n  <cas:authenticationSuccess>\n"
        f"    <cas:user>{user}</cas:user>\n    <cas:attraStyle>RubyCAS</cas:attraStyle>\n"
        f"    {attrs}\n  </cas:authenticationSuccess>\n</cas:serviceResponse>"
    )


def name_value_success(
    user: str = "alice", attributes: Mapping[str, Any] | None = None, *, in_block: bool = False
) -> str:
    """Name/value layout: ``<cas:attribute name=".." value=".."/>`` per value, directly under
    authenticationSuccess or (``in_block``) inside ``cas:attributes``."""
    pairs = '<cas:attribute name="attraStyle" value="Name-Value"/>' + "".join(
        f'<cas:attribute name="{name}" value="{v}"/>'
        for name, value in (attributes or {}).items()
        for v in _values(value)
    )
    if in_block:
        pairs = f"<cas:attributes>{pairs}</cas:attributes>"
    return (
        f"<cas:serviceResponse {CAS_NS}><cas:authenticationSuccess>"
        f"<cas:user>{user}</cas:user>{pairs}</cas:authenticationSuccess></cas:serviceResponse>"
    )


def nested_user_success(user: str = "alice") -> str:
    """A server wrapping the user in an element of its own: ``user`` is below
    authenticationSuccess but not its child (python-cas, so 5.1, accepted it)."""
    return (
        f"<cas:serviceResponse {CAS_NS}><cas:authenticationSuccess>"
        f"<cas:principal><cas:user>{user}</cas:user></cas:principal>"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )


def eu_login_success(
    user: str = "alice",
    attributes: Mapping[str, Any] | None = None,
    proxies: Sequence[str] = (),
) -> str:
    """EU Login: the CAS elements in its own namespace, attributes directly under
    authenticationSuccess, plus its authentication strengths."""
    attrs = "".join(
        f"<cas:{name}>{v}</cas:{name}>"
        for name, value in (attributes or {}).items()
        for v in _values(value)
    )
    chain = ""
    if proxies:
        chain = "<cas:proxies>" + "".join(f"<cas:proxy>{p}</cas:proxy>" for p in proxies)
        chain += "</cas:proxies>"
    return (
        f'<cas:serviceResponse xmlns:cas="{EU_LOGIN_NS}" server="ECAS MOCKUP version 4.9.0">'
        f"<cas:authenticationSuccess><cas:user>{user}</cas:user>{attrs}"
        "<cas:strengths><cas:strength>PASSWORD</cas:strength></cas:strengths>"
        "<cas:authenticationFactors><cas:moniker>" + user + "</cas:moniker>"
        f"</cas:authenticationFactors>{chain}"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )


def eu_login_failure(code: str = "INVALID_TICKET") -> str:
    """EU Login's refusal, in its own namespace."""
    return (
        f'<cas:serviceResponse xmlns:cas="{EU_LOGIN_NS}">'
        f'<cas:authenticationFailure code="{code}">ticket refused</cas:authenticationFailure>'
        "</cas:serviceResponse>"
    )


def saml_success_with_empty_attribute(name: str, empty: str) -> str:
    """A SAML 1.1 success in which attribute ``empty`` has no ``AttributeValue`` at all, as a
    server writes an attribute whose value list is empty."""
    answer = saml_success(name, {"mail": f"{name}@example.org"})
    empty_attribute = (
        f'<saml:Attribute AttributeName="{empty}" AttributeNamespace="http://www.ja-sig.org/">'
        "</saml:Attribute>"
    )
    return answer.replace(
        "</saml:AttributeStatement>", f"{empty_attribute}</saml:AttributeStatement>"
    )


def cas1_success(user: str) -> bytes:
    """CAS 1 ``/validate`` success: two lines, UTF-8 (sent as text/plain with no charset)."""
    return f"yes\n{user}\n".encode()


def both_layouts_success(user: str = "alice", attributes: Mapping[str, Any] | None = None) -> str:
    """django-cas-server's CAS 3 answer: every attribute in ``cas:attributes`` and again as a
    name/value pair directly under authenticationSuccess."""
    block = "".join(
        f"<cas:{name}>{v}</cas:{name}>"
        for name, value in (attributes or {}).items()
        for v in _values(value)
    )
    pairs = "".join(
        f'<cas:attribute name="{name}" value="{v}"/>'
        for name, value in (attributes or {}).items()
        for v in _values(value)
    )
    return (
        f"<cas:serviceResponse {CAS_NS}><cas:authenticationSuccess><cas:user>{user}</cas:user>"
        f"<cas:attributes>{block}</cas:attributes>{pairs}"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )
