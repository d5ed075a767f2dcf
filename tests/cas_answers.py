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


# --- Real-world oddities (tests/test_dialects_realworld.py) -------------------------------------


def jsp_success(user: str = "alice", attributes: Mapping[str, Any] | None = None) -> str:
    """A JSP/PHP-rendered success: blank lines and an XML declaration after them (what page
    directives leave behind), tabs and newlines around every value."""
    attrs = "".join(
        f"\n\t\t\t<cas:{name}>{v}</cas:{name}>"
        for name, value in (attributes or {}).items()
        for v in _values(value)
    )
    return (
        '\n\n<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<cas:serviceResponse {CAS_NS}>\n\t<cas:authenticationSuccess>\n"
        f"\t\t<cas:user>\n\t\t\t{user}\n\t\t</cas:user>\n\t\t<cas:attributes>{attrs}\n"
        "\t\t</cas:attributes>\n\t</cas:authenticationSuccess>\n</cas:serviceResponse>\n"
    )


#: Apereo CAS 3 answer: the authentication's own attributes next to the person's.
APEREO_CAS3_SUCCESS = (
    f"<cas:serviceResponse {CAS_NS}>\n  <cas:authenticationSuccess>\n"
    "    <cas:user>jdoe</cas:user>\n    <cas:attributes>\n"
    "      <cas:credentialType>UsernamePasswordCredential</cas:credentialType>\n"
    "      <cas:isFromNewLogin>true</cas:isFromNewLogin>\n"
    "      <cas:authenticationDate>2026-03-04T05:06:07.891Z[UTC]</cas:authenticationDate>\n"
    "      <cas:authenticationMethod>LdapHandler</cas:authenticationMethod>\n"
    "      <cas:successfulAuthenticationHandlers>LdapHandler</cas:successfulAuthenticationHandlers>\n"
    "      <cas:longTermAuthenticationRequestTokenUsed>false</cas:longTermAuthenticationRequestTokenUsed>\n"
    "      <cas:clientName/>\n"
    "      <cas:displayName><![CDATA[Jane <Q> Doe & Co]]></cas:displayName>\n"
    "      <cas:title>R&amp;D &lt;lead&gt;</cas:title>\n"
    "      <cas:eduPersonAffiliation>member</cas:eduPersonAffiliation>\n"
    "      <cas:eduPersonAffiliation>staff</cas:eduPersonAffiliation>\n"
    "    </cas:attributes>\n  </cas:authenticationSuccess>\n</cas:serviceResponse>\n"
)


def unprefixed_attributes_success(user: str = "alice") -> str:
    """A customised JSP writing attribute elements with no prefix, so in no namespace."""
    return (
        f"<cas:serviceResponse {CAS_NS}><cas:authenticationSuccess><cas:user>{user}</cas:user>"
        "<cas:attributes><email>a@example.org</email><ssoGuid>F00D-1</ssoGuid></cas:attributes>"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )


def two_users_success(first: str = "alice", second: str = "root") -> str:
    """An answer naming two users, as an unescaped user name would inject a second one."""
    return (
        f"<cas:serviceResponse {CAS_NS}><cas:authenticationSuccess>"
        f"<cas:user>{first}</cas:user><cas:user>{second}</cas:user>"
        "</cas:authenticationSuccess></cas:serviceResponse>"
    )


#: A portal's HTML error page served with status 200 instead of an answer.
HTML_ERROR_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
    "<body><h1>Maintenance</h1><p>Back soon<br></p></body></html>\n"
)
#: The same page as well-formed XHTML (no DOCTYPE): it parses, but is no CAS answer.
XHTML_ERROR_PAGE = "<html><head><title>Oops</title></head><body><p>Error</p></body></html>"


def saml_apereo_answer(name: str, status: str = "samlp:Success", message: str = "") -> str:
    """samlValidate as Apereo CAS writes it: the assertion in the default namespace, with
    Conditions, an AuthenticationStatement and a pretty-printed NameIdentifier; a refusal
    has no assertion, only a status code and message."""
    assertion = (
        '<Assertion xmlns="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="_a7" '
        'IssueInstant="2026-03-04T05:06:07Z" Issuer="cas.example.org" MajorVersion="1" '
        'MinorVersion="1"><Conditions NotBefore="2026-03-04T05:06:07Z" '
        'NotOnOrAfter="2026-03-04T05:06:37Z"><AudienceRestrictionCondition><Audience>\n'
        "  https://testserver/accounts/login/\n</Audience></AudienceRestrictionCondition>"
        "</Conditions><AttributeStatement><Subject><NameIdentifier>\n"
        f"    {name}\n  </NameIdentifier></Subject>"
        '<Attribute AttributeName="eduPersonAffiliation" AttributeNamespace="http://www.ja-sig.org/products/cas/">'
        "<AttributeValue>member</AttributeValue><AttributeValue>staff</AttributeValue></Attribute>"
        "</AttributeStatement>"
        '<AuthenticationStatement AuthenticationInstant="2026-03-04T05:06:00Z" '
        'AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password"><Subject>'
        f"<NameIdentifier>{name}</NameIdentifier></Subject></AuthenticationStatement>"
        "</Assertion>"
    )
    detail = f"<StatusMessage>{message}</StatusMessage>" if message else ""
    body = assertion if status.endswith("Success") else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        "<SOAP-ENV:Header/><SOAP-ENV:Body>"
        '<Response xmlns="urn:oasis:names:tc:SAML:1.0:protocol" '
        'xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" IssueInstant="2026-03-04T05:06:07Z" '
        'MajorVersion="1" MinorVersion="1" ResponseID="_r7">'
        f'<Status><StatusCode Value="{status}"></StatusCode>{detail}</Status>{body}'
        "</Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def pretty_logout_request(ticket: str) -> str:
    """A LogoutRequest with an XML declaration, line breaks and indentation around the
    NameID and the SessionIndex."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"\n'
        '    ID="LR-77" Version="2.0" IssueInstant="2026-03-04T05:06:07Z">\n'
        '  <saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">\n'
        "    jdoe\n  </saml:NameID>\n"
        f"  <samlp:SessionIndex>\n    {ticket}\n  </samlp:SessionIndex>\n"
        "</samlp:LogoutRequest>\n"
    )


#: A logout request that declares an external entity (XXE) and uses it as the ticket.
XXE_LOGOUT_REQUEST = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY t SYSTEM "file:///etc/passwd">]>\n'
    '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
    'Version="2.0"><samlp:SessionIndex>&t;</samlp:SessionIndex></samlp:LogoutRequest>'
)
#: A logout request expanding nested entities (the "billion laughs").
LAUGHS_LOGOUT_REQUEST = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "hahahahahahahahahaha">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
    'Version="2.0"><samlp:SessionIndex>&d;</samlp:SessionIndex></samlp:LogoutRequest>'
)


def java_mime_base64(packed: bytes) -> str:
    """Base64 broken into 76-character lines with CRLF, as Java's MIME encoders write it."""
    text = base64.b64encode(packed).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def rubycas_logout_request(ticket: str) -> str:
    """RubyCAS-Server's back-channel message: the ``samlp`` and ``saml`` prefixes used but
    never declared, an RFC 2822 date, line breaks between the elements."""
    return (
        '<samlp:LogoutRequest ID="b4fc3a1e9d" Version="2.0" '
        'IssueInstant="Wed, 04 Mar 2026 05:06:07 +0000">\n<saml:NameID></saml:NameID>\n'
        f"<samlp:SessionIndex>{ticket}</samlp:SessionIndex>\n</samlp:LogoutRequest>"
    )


# --- Servers probed from outside (tests/test_dialects_outside.py) -------------------------------


def eu_login_groups_success(user: str = "jdupont", groups: Sequence[str] = ()) -> str:
    """EU Login's answer as its own PHP and Java clients expect it: its namespace (with the
    trailing slash), an XML declaration, person attributes directly under
    authenticationSuccess and the user's groups as ``cas:group`` members of one
    ``cas:groups`` element counted by ``number``; then the authentication's strengths and
    factors, an empty ``loginDate`` and a proxy chain."""
    members = "".join(f"\n        <cas:group>{group}</cas:group>" for group in groups)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<cas:serviceResponse xmlns:cas="https://ecas.ec.europa.eu/cas/schemas/" '
        'date="2026-03-04T05:06:07.891+01:00" version="4.9">\n'
        "  <cas:authenticationSuccess>\n"
        f"    <cas:user>{user}</cas:user>\n"
        "    <cas:email>j.dupont@example.eu</cas:email>\n"
        "    <cas:departmentNumber>DG.X.1.002</cas:departmentNumber>\n"
        f'    <cas:groups number="{len(groups)}">{members}\n    </cas:groups>\n'
        '    <cas:strengths number="1">\n      <cas:strength>PASSWORD_SMS</cas:strength>\n'
        "    </cas:strengths>\n"
        '    <cas:authenticationFactors number="1">\n'
        f"      <cas:moniker>{user}@example.eu</cas:moniker>\n"
        "    </cas:authenticationFactors>\n"
        "    <cas:loginDate></cas:loginDate>\n"
        "    <cas:ticketType>SERVICE</cas:ticketType>\n"
        "  </cas:authenticationSuccess>\n</cas:serviceResponse>\n"
    )


def groups_in_attributes_block(user: str = "jdupont", groups: Sequence[str] = ()) -> str:
    """The same ``groups`` list element inside a ``cas:attributes`` block, in the CAS
    namespace, as EU Login's PHP bundle tests it."""
    members = "".join(f"<cas:group>{group}</cas:group>" for group in groups)
    return (
        f"<cas:serviceResponse {CAS_NS}>\n <cas:authenticationSuccess>\n"
        f"  <cas:user>{user}</cas:user>\n  <cas:attributes>\n"
        "   <cas:assuranceLevel>40</cas:assuranceLevel>\n"
        f'   <cas:groups number="{len(groups)}">\n    {members}\n   </cas:groups>\n'
        "  </cas:attributes>\n </cas:authenticationSuccess>\n</cas:serviceResponse>"
    )


def keycloak_failure(code: str = "INVALID_TICKET", element: str = "authenticationFailure") -> str:
    """The Keycloak CAS protocol plugin's refusal: indented XML, sent with HTTP 400."""
    return (
        f"<cas:serviceResponse {CAS_NS}>\n"
        f'    <cas:{element} code="{code}">Code not valid</cas:{element}>\n'
        "</cas:serviceResponse>"
    )


def keycloak_json_failure(
    code: str = "INVALID_TICKET", element: str = "authenticationFailure"
) -> str:
    """The same refusal in JSON (Keycloak answers JSON when the client asks for it)."""
    failure = {"code": code, "description": "Code is expired"}
    return json.dumps({"serviceResponse": {element: failure}}, indent=2)


def keycloak_saml_success(user: str, attributes: Mapping[str, Sequence[str]]) -> str:
    """samlValidate as the Keycloak CAS plugin writes it: a ``soap:`` envelope, an XML
    declaration with ``standalone``, the authentication statement before the attribute
    statement, a NameIdentifier with a Format, and one Attribute per name."""
    attrs = "".join(
        f'<saml:Attribute AttributeName="{name}" '
        'AttributeNamespace="http://www.ja-sig.org/products/cas/">'
        + "".join(f"<saml:AttributeValue>{value}</saml:AttributeValue>" for value in values)
        + "</saml:Attribute>"
        for name, values in attributes.items()
    )
    subject = (
        "<saml:Subject><saml:NameIdentifier "
        'Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">'
        f"{user}</saml:NameIdentifier></saml:Subject>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
        '<soap:Body><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" '
        'IssueInstant="2026-03-04T05:06:07.123Z" MajorVersion="1" MinorVersion="1" '
        'ResponseID="_0f3c"><samlp:Status><samlp:StatusCode Value="samlp:Success"/>'
        '</samlp:Status><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" '
        'AssertionID="_9e1a" IssueInstant="2026-03-04T05:06:07.123Z" Issuer="keycloak" '
        'MajorVersion="1" MinorVersion="1"><saml:Conditions '
        'NotBefore="2026-03-04T05:06:07.123Z" NotOnOrAfter="2026-03-04T05:11:07.123Z"/>'
        '<saml:AuthenticationStatement AuthenticationInstant="2026-03-04T05:06:07.123Z" '
        'AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password">'
        f"{subject}</saml:AuthenticationStatement>"
        f"<saml:AttributeStatement>{subject}{attrs}</saml:AttributeStatement>"
        "</saml:Assertion></samlp:Response></soap:Body></soap:Envelope>"
    )


def keycloak_logout_request(ticket: str) -> str:
    """The Keycloak CAS plugin's back-channel message, POSTed as the raw body with
    ``application/xml; charset=UTF-8``: an IssueInstant with no time zone."""
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'ID="ID_5d2b9c" Version="2.0" IssueInstant="2026-03-04T5:06:07">\n'
        '  <saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID>\n'
        f"  <samlp:SessionIndex>{ticket}</samlp:SessionIndex>\n"
        "</samlp:LogoutRequest>"
    )


def apereo_saml_success(user: str, attributes: Mapping[str, Sequence[str]]) -> str:
    """samlValidate as Apereo CAS 6 and later write it through OpenSAML: ``saml1p`` and
    ``saml1`` prefixes, typed attribute values, the status as ``saml1p:Success``."""
    attrs = "".join(
        f'<saml1:Attribute AttributeName="{name}" '
        'AttributeNamespace="http://www.ja-sig.org/products/cas/">'
        + "".join(
            '<saml1:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:string">{value}'
            "</saml1:AttributeValue>"
            for value in values
        )
        + "</saml1:Attribute>"
        for name, values in attributes.items()
    )
    subject = (
        f"<saml1:Subject><saml1:NameIdentifier>{user}</saml1:NameIdentifier>"
        "<saml1:SubjectConfirmation><saml1:ConfirmationMethod>"
        "urn:oasis:names:tc:SAML:1.0:cm:artifact</saml1:ConfirmationMethod>"
        "</saml1:SubjectConfirmation></saml1:Subject>"
    )
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        "<SOAP-ENV:Header/><SOAP-ENV:Body>"
        '<saml1p:Response xmlns:saml1p="urn:oasis:names:tc:SAML:1.0:protocol" '
        'IssueInstant="2026-03-04T05:06:07.891Z" MajorVersion="1" MinorVersion="1" '
        'Recipient="http://testserver/accounts/login/" ResponseID="_r8">'
        '<saml1p:Status><saml1p:StatusCode Value="saml1p:Success"/></saml1p:Status>'
        '<saml1:Assertion xmlns:saml1="urn:oasis:names:tc:SAML:1.0:assertion" '
        'AssertionID="_a8" IssueInstant="2026-03-04T05:06:07.891Z" Issuer="cas.example.org" '
        'MajorVersion="1" MinorVersion="1">'
        '<saml1:AuthenticationStatement AuthenticationInstant="2026-03-04T05:06:00.000Z" '
        'AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:unspecified">'
        f"{subject}</saml1:AuthenticationStatement>"
        f"<saml1:AttributeStatement>{subject}{attrs}</saml1:AttributeStatement>"
        "</saml1:Assertion></saml1p:Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def mama_cas_logout_request(ticket: str) -> bytes:
    """django-mama-cas's back-channel message as ElementTree serialises it: a declaration in
    single quotes, both prefixes declared on the root, an empty self-closed NameID; sent
    as bytes in a ``logoutRequest`` form field."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<samlp:LogoutRequest xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="q8Xr2LmN0pVb7TzK4sYw1Hc6Jd3Fg9Ae" '
        'Version="2.0" IssueInstant="2026-03-04T05:06:07.891234Z"><saml:NameID />'
        f"<samlp:SessionIndex>{ticket}</samlp:SessionIndex></samlp:LogoutRequest>"
    ).encode()


def keycloak_success(
    user: str, pgtiou: str, proxies: Sequence[str], attributes: Mapping[str, Any]
) -> str:
    """The Keycloak CAS plugin's success as JAXB formats it: four-space indentation, the
    PGTIOU and the chain before the attributes, a list written as repeated elements."""
    chain = "".join(f"            <cas:proxy>{proxy}</cas:proxy>\n" for proxy in proxies)
    attrs = "".join(
        f"            <cas:{name}>{value}</cas:{name}>\n"
        for name, values in attributes.items()
        for value in _values(values)
    )
    return (
        f"<cas:serviceResponse {CAS_NS}>\n    <cas:authenticationSuccess>\n"
        f"        <cas:user>{user}</cas:user>\n"
        f"        <cas:proxyGrantingTicket>{pgtiou}</cas:proxyGrantingTicket>\n"
        f"        <cas:proxies>\n{chain}        </cas:proxies>\n"
        f"        <cas:attributes>\n{attrs}        </cas:attributes>\n"
        "    </cas:authenticationSuccess>\n</cas:serviceResponse>"
    )


def apereo6_json_success(user: str, authenticated_at: float, new_login: bool = True) -> str:
    """Apereo CAS 6's ``format=JSON`` success: its JSON view registered Java time support
    but left dates as timestamps, so ``authenticationDate`` is a number of epoch seconds
    with nine decimals (Jackson's default for a ``ZonedDateTime``); booleans are JSON ones."""
    seconds = f"{authenticated_at:.9f}"
    flag = "true" if new_login else "false"
    return (
        '{\n  "serviceResponse" : {\n    "authenticationSuccess" : {\n'
        f'      "user" : "{user}",\n      "attributes" : {{\n'
        '        "credentialType" : [ "UsernamePasswordCredential" ],\n'
        f'        "isFromNewLogin" : [ {flag} ],\n'
        f'        "authenticationDate" : [ {seconds} ],\n'
        '        "authenticationMethod" : [ "QueryDatabaseAuthenticationHandler" ],\n'
        '        "longTermAuthenticationRequestTokenUsed" : [ false ]\n'
        "      }\n    }\n  }\n}"
    )


def lemonldap_success(user: str, attributes: Mapping[str, Any], pgtiou: str) -> str:
    """LemonLDAP::NG's CAS answer, printed line by line: single-quoted namespace, tab
    indentation, the attributes block before the PGTIOU."""
    attrs = "".join(
        f"\t\t\t<cas:{name}>{value}</cas:{name}>\n"
        for name, values in attributes.items()
        for value in _values(values)
    )
    return (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>\n"
        f"\t<cas:authenticationSuccess>\n\t\t<cas:user>{user}</cas:user>\n"
        f"\t\t<cas:attributes>\n{attrs}\t\t</cas:attributes>\n"
        f"\t\t<cas:proxyGrantingTicket>{pgtiou}</cas:proxyGrantingTicket>\n"
        "\t</cas:authenticationSuccess>\n</cas:serviceResponse>\n"
    )


def lemonldap_failure(code: str, text: str) -> str:
    """LemonLDAP::NG's refusal: the code, then the text on a line of its own between tabs."""
    return (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>\n"
        f'\t<cas:authenticationFailure code="{code}">\n\t\t{text}\n'
        "\t</cas:authenticationFailure>\n</cas:serviceResponse>\n"
    )


def mama_cas_saml_answer(
    user: str | None, attributes: Mapping[str, str | Sequence[str]] | None = None
) -> str:
    """samlValidate as django-mama-cas 2.5 builds it with ElementTree: only the envelope is
    prefixed (``SOAP-ENV``); ``Response`` and ``Assertion`` set their namespaces as default
    ``xmlns``, so Status, Conditions and the statements carry no prefix; timestamps have
    microseconds; the attribute statement comes first; an empty value is a self-closed
    ``AttributeValue``. With no user, the refusal: ``Recipient="UNKNOWN"``, RequestDenied."""
    stamp = 'IssueInstant="2026-03-04T05:06:07.123456Z"'
    head = (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        "<SOAP-ENV:Header /><SOAP-ENV:Body>"
        '<Response xmlns="urn:oasis:names:tc:SAML:1.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" '
        'xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'{stamp} MajorVersion="1" MinorVersion="1" ResponseID="_5be0c81a9d2f4e67a1b3c0d9e8f7a6b5" '
    )
    tail = "</Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    if user is None:
        return (
            f'{head}Recipient="UNKNOWN"><Status><StatusCode Value="samlp:RequestDenied" />'
            "<StatusMessage>Ticket ST-1-abc does not exist</StatusMessage></Status>" + tail
        )
    subject = (
        f"<Subject><NameIdentifier>{user}</NameIdentifier><SubjectConfirmation>"
        "<ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:artifact</ConfirmationMethod>"
        "</SubjectConfirmation></Subject>"
    )
    attrs = "".join(
        f'<Attribute AttributeName="{name}" '
        'AttributeNamespace="http://www.ja-sig.org/products/cas/">'
        + "".join(
            f"<AttributeValue>{value}</AttributeValue>" if value else "<AttributeValue />"
            for value in _values(values)
        )
        + "</Attribute>"
        for name, values in (attributes or {}).items()
    )
    return (
        f'{head}Recipient="https://app.example.org/accounts/login/">'
        '<Status><StatusCode Value="samlp:Success" /></Status>'
        '<Assertion xmlns="urn:oasis:names:tc:SAML:1.0:assertion" '
        f'AssertionID="_0a1b2c3d4e5f60718293a4b5c6d7e8f9" {stamp} Issuer="localhost" '
        'MajorVersion="1" MinorVersion="1">'
        '<Conditions NotBefore="2026-03-04T05:06:07.123456Z" '
        'NotOnOrAfter="2026-03-04T05:06:37.123456Z"><AudienceRestrictionCondition>'
        "<Audience>https://app.example.org/accounts/login/</Audience>"
        "</AudienceRestrictionCondition></Conditions>"
        f"<AttributeStatement>{subject}{attrs}</AttributeStatement>"
        '<AuthenticationStatement AuthenticationInstant="2026-03-04T05:06:07.120001Z" '
        'AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password">'
        f"{subject}</AuthenticationStatement></Assertion>" + tail
    )


def mama_cas_proxy_success(
    user: str, proxies: Sequence[str], attributes: Mapping[str, str | Sequence[str]]
) -> str:
    """django-mama-cas 2.5's proxyValidate success: one line with no declaration, the
    attributes block before ``cas:proxies``, which lists the services the proxy tickets were
    issued for (the validating service first) where the protocol has callback URLs."""
    attrs = "".join(
        f"<cas:{name}>{value}</cas:{name}>"
        for name, values in attributes.items()
        for value in _values(values)
    )
    chain = "".join(f"<cas:proxy>{proxy}</cas:proxy>" for proxy in proxies)
    return (
        f'<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>'
        f"<cas:user>{user}</cas:user><cas:attributes>{attrs}</cas:attributes>"
        f"<cas:proxies>{chain}</cas:proxies></cas:authenticationSuccess></cas:serviceResponse>"
    )


def apereo5_unchecked_names_success(user: str, mail: str) -> str:
    """Apereo CAS 5.0/5.1's CAS 3 view, which wrote each released attribute's name as an
    element name unchecked (apereo/cas#2023, #2841): a name mapped to a URN gives
    ``<cas:urn:mace:...>``, LDAP's per-user handler attribute an element name holding ``@``.
    Its authentication attributes come first, multi-valued ones repeated."""
    urn = "urn:mace:dir:attribute-def:displayName"
    handler = f"LdapAuthenticationHandler.{mail}"
    return (
        f"<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>\n"
        "    <cas:authenticationSuccess>\n"
        f"        <cas:user>{user}</cas:user>\n"
        "        <cas:attributes>\n"
        "            <cas:isFromNewLogin>true</cas:isFromNewLogin>\n"
        "            <cas:authenticationDate>2026-03-04T05:06:07.891Z[UTC]</cas:authenticationDate>\n"
        "            <cas:longTermAuthenticationRequestTokenUsed>false"
        "</cas:longTermAuthenticationRequestTokenUsed>\n"
        "            <cas:successfulAuthenticationHandlers>LdapAuthenticationHandler"
        "</cas:successfulAuthenticationHandlers>\n"
        f"            <cas:{urn}>Kim O&apos;Hara &amp; co</cas:{urn}>\n"
        f"            <cas:{handler}>{mail}</cas:{handler}>\n"
        "            <cas:memberOf>cn=staff,ou=groups</cas:memberOf>\n"
        "            <cas:memberOf>cn=vpn,ou=groups</cas:memberOf>\n"
        f"            <cas:mail>{mail}</cas:mail>\n"
        "        </cas:attributes>\n"
        "    </cas:authenticationSuccess>\n"
        "</cas:serviceResponse>\n"
    )


def apereo7_success(user: str) -> str:
    """Apereo CAS 7's Thymeleaf CAS 3 answer: single-quoted namespace, every authentication
    attribute it adds (``credentialType``, ``authenticationMethod``, several
    ``successfulAuthenticationHandlers``...), dotted attribute names, an empty line where a
    skipped ``th:if`` stood."""
    return (
        "<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>\n"
        "    <cas:authenticationSuccess>\n"
        f"        <cas:user>{user}</cas:user>\n\n"
        "        <cas:attributes>\n"
        "            <cas:credentialType>UsernamePasswordCredential</cas:credentialType>\n"
        "            <cas:isFromNewLogin>false</cas:isFromNewLogin>\n"
        "            <cas:authenticationDate>2026-03-04T05:06:07.123456789Z</cas:authenticationDate>\n"
        "            <cas:authenticationMethod>LdapAuthenticationHandler</cas:authenticationMethod>\n"
        "            <cas:successfulAuthenticationHandlers>LdapAuthenticationHandler"
        "</cas:successfulAuthenticationHandlers>\n"
        "            <cas:successfulAuthenticationHandlers>DuoSecurityAuthenticationHandler"
        "</cas:successfulAuthenticationHandlers>\n"
        "            <cas:longTermAuthenticationRequestTokenUsed>true"
        "</cas:longTermAuthenticationRequestTokenUsed>\n"
        "            <cas:samlAuthenticationStatementAuthMethod>"
        "urn:oasis:names:tc:SAML:1.0:am:password</cas:samlAuthenticationStatementAuthMethod>\n"
        "            <cas:org.example.costCentre>CC-4711</cas:org.example.costCentre>\n"
        "            <cas:eduPersonAffiliation>member</cas:eduPersonAffiliation>\n"
        "            <cas:eduPersonAffiliation>employee</cas:eduPersonAffiliation>\n"
        "        </cas:attributes>\n"
        "    </cas:authenticationSuccess>\n"
        "</cas:serviceResponse>"
    )


def spaced_failure(code: str, element: str = "authenticationFailure") -> str:
    """A refusal from a hand-written template that puts the code on a line of its own."""
    return (
        f"<cas:serviceResponse {CAS_NS}>\n"
        f'  <cas:{element} code="\n      {code}\t ">\n'
        "      Ticket 'ST-9-abc' not recognized\n"
        f"  </cas:{element}>\n"
        "</cas:serviceResponse>\n"
    )


def saml_two_statements(user: str) -> str:
    """samlValidate as java-cas-client reads it: the attributes split over two
    ``AttributeStatement`` elements (each repeating the subject), typed values."""
    subject = f"<Subject><NameIdentifier>{user}</NameIdentifier></Subject>"
    typed = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xsd:string"'
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        "<SOAP-ENV:Body>"
        '<Response xmlns="urn:oasis:names:tc:SAML:1.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" '
        'IssueInstant="2026-03-04T05:06:07.100Z" MajorVersion="1" MinorVersion="1" '
        'ResponseID="_7f1e">'
        '<Status><StatusCode Value="samlp:Success"/></Status>'
        '<Assertion xmlns="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="_a1" '
        'IssueInstant="2026-03-04T05:06:07.100Z" Issuer="cas.example.org" '
        'MajorVersion="1" MinorVersion="1">'
        f"<AttributeStatement>{subject}"
        '<Attribute AttributeName="mail" AttributeNamespace="http://www.ja-sig.org/products/cas/">'
        f"<AttributeValue {typed}>kim@example.org</AttributeValue></Attribute>"
        "</AttributeStatement>"
        f"<AttributeStatement>{subject}"
        '<Attribute AttributeName="memberOf" '
        'AttributeNamespace="http://www.ja-sig.org/products/cas/">'
        f"<AttributeValue {typed}>staff</AttributeValue>"
        f"<AttributeValue {typed}>vpn</AttributeValue></Attribute>"
        "</AttributeStatement>"
        '<AuthenticationStatement AuthenticationInstant="2026-03-04T05:06:00.000Z" '
        f'AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password">{subject}'
        "</AuthenticationStatement></Assertion></Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def txcas_logout_request(ticket: str) -> str:
    """txcas's (the Twisted CAS server's) back-channel message: a dedented template, one
    attribute a line, a local time with no zone, a line break at the end; POSTed as the bare
    body with no Content-Type at all (treq sends a string body so)."""
    return (
        "<samlp:LogoutRequest\n"
        '    xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"\n'
        '    xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"\n'
        '    ID="5f0c6a4e-2b1d-4c8e-9a7f-3e6d1b2c4a59"\n'
        '    Version="2.0"\n'
        '    IssueInstant="2026-03-04T05:06:07">\n'
        "    <saml:NameID>@NOT_USED@</saml:NameID>\n"
        f"    <samlp:SessionIndex>{ticket}</samlp:SessionIndex>\n"
        "</samlp:LogoutRequest>\n"
    )


def shibboleth_cas_success(user: str, attributes: Mapping[str, Sequence[str]], pgtiou: str) -> str:
    """Shibboleth IdP's CAS extension through its Velocity views: a declaration from the
    header view, the lines where ``#if``/``#foreach`` directives stood left with their
    indentation, each value of an attribute as its own element, the PGTIOU first."""
    attrs = "".join(
        f"        \n            <cas:{name}>{value}</cas:{name}>\n"
        for name, values in attributes.items()
        for value in values
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">\n'
        "  <cas:authenticationSuccess>\n"
        f"    <cas:user>{user}</cas:user>\n"
        f"          <cas:proxyGrantingTicket>{pgtiou}</cas:proxyGrantingTicket>\n"
        "          <cas:attributes>\n"
        f"{attrs}        \n      </cas:attributes>\n"
        "      </cas:authenticationSuccess>\n"
        "</cas:serviceResponse>\n"
    )


def shibboleth_cas_failure(code: str, detail: str) -> str:
    """Shibboleth IdP's CAS refusal: its own detail code (``E_TICKET_EXPIRED``...) as the
    text, between line breaks."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">\n'
        f'  <cas:authenticationFailure code="{code}">\n    {detail}\n'
        "  </cas:authenticationFailure>\n</cas:serviceResponse>\n"
    )


def saml_authentication_statement_only(user: str) -> str:
    """samlValidate of a CAS 3 server releasing no attribute: the subject only in the
    ``AuthenticationStatement``, the protocol namespace as the default one (java-cas-client's
    compatibility fixture has this shape)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
        'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/>'
        '<SOAP-ENV:Body><Response xmlns="urn:oasis:names:tc:SAML:1.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" '
        'xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" '
        'IssueInstant="2026-03-04T05:06:07.500Z" MajorVersion="1" MinorVersion="1" '
        'Recipient="https://app.example.org/accounts/login/" ResponseID="_c0ffee">'
        '<Status><StatusCode Value="samlp:Success"></StatusCode></Status>'
        '<Assertion xmlns="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="_beef" '
        'IssueInstant="2026-03-04T05:06:07.500Z" Issuer="cas.example.org" MajorVersion="1" '
        'MinorVersion="1"><AuthenticationStatement AuthenticationInstant='
        '"2026-03-04T05:06:01.000Z" AuthenticationMethod="urn:ietf:rfc:2246"><Subject>'
        f"<NameIdentifier>{user}</NameIdentifier><SubjectConfirmation><ConfirmationMethod>"
        "urn:oasis:names:tc:SAML:1.0:cm:artifact</ConfirmationMethod></SubjectConfirmation>"
        "</Subject></AuthenticationStatement></Assertion></Response></SOAP-ENV:Body>"
        "</SOAP-ENV:Envelope>"
    )


def simplesamlphp_success(user: str, attributes: Mapping[str, Sequence[str]]) -> str:
    """SimpleSAMLphp's casserver module through PHP's DOMDocument with ``formatOutput``: a
    bare declaration, two-space indentation, colons in SAML names turned into ``_``, every
    value base64-encoded and the ``base64Attributes`` indicator added, as its sample
    configuration has it (``base64attributes => true``)."""
    attrs = "".join(
        f"      <cas:{name.replace(':', '_')}>"
        f"{base64.b64encode(value.encode()).decode()}</cas:{name.replace(':', '_')}>\n"
        for name, values in attributes.items()
        for value in values
    )
    return (
        '<?xml version="1.0"?>\n'
        '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">\n'
        "  <cas:authenticationSuccess>\n"
        f"    <cas:user>{user}</cas:user>\n"
        "    <cas:attributes>\n"
        f"{attrs}      <cas:base64Attributes>true</cas:base64Attributes>\n"
        "    </cas:attributes>\n"
        "  </cas:authenticationSuccess>\n"
        "</cas:serviceResponse>\n"
    )


def saml_with_targeted_id(user: str, targeted_id: str, inner: str = "saml2") -> str:
    """samlValidate releasing eduPersonTargetedID as Shibboleth IdP encodes it for SAML 1: the
    value is an element (a SAML 2 ``NameID``, or with ``inner="saml1"`` a SAML 1
    ``NameIdentifier``), not text, beside an ordinary string attribute."""
    element = "saml2:NameID" if inner == "saml2" else "saml1:NameIdentifier"
    subject = (
        f"<saml1:Subject><saml1:NameIdentifier>{user}</saml1:NameIdentifier>"
        "<saml1:SubjectConfirmation><saml1:ConfirmationMethod>"
        "urn:oasis:names:tc:SAML:1.0:cm:artifact</saml1:ConfirmationMethod>"
        "</saml1:SubjectConfirmation></saml1:Subject>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap11:Envelope xmlns:soap11="http://schemas.xmlsoap.org/soap/envelope/"><soap11:Body>'
        '<saml1p:Response xmlns:saml1p="urn:oasis:names:tc:SAML:1.0:protocol" '
        'IssueInstant="2026-03-04T05:06:07.000Z" MajorVersion="1" MinorVersion="1" '
        'ResponseID="_9a8b">'
        '<saml1p:Status><saml1p:StatusCode Value="saml1p:Success"/></saml1p:Status>'
        '<saml1:Assertion xmlns:saml1="urn:oasis:names:tc:SAML:1.0:assertion" '
        'AssertionID="_7c6d" IssueInstant="2026-03-04T05:06:07.000Z" '
        'Issuer="https://idp.example.org/idp/shibboleth" MajorVersion="1" MinorVersion="1">'
        '<saml1:AuthenticationStatement AuthenticationInstant="2026-03-04T05:06:00.000Z" '
        'AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password">'
        f"{subject}</saml1:AuthenticationStatement>"
        f"<saml1:AttributeStatement>{subject}"
        '<saml1:Attribute AttributeName="urn:oid:1.3.6.1.4.1.5923.1.1.1.10" '
        'AttributeNamespace="urn:mace:shibboleth:1.0:attributeNamespace:uri">'
        "<saml1:AttributeValue>\n"
        f'  <{element} xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" '
        'Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" '
        'NameQualifier="https://idp.example.org/idp/shibboleth">'
        f"\n    {targeted_id}\n  </{element}>\n"
        "</saml1:AttributeValue></saml1:Attribute>"
        '<saml1:Attribute AttributeName="urn:oid:0.9.2342.19200300.100.1.3" '
        'AttributeNamespace="urn:mace:shibboleth:1.0:attributeNamespace:uri">'
        "<saml1:AttributeValue>kim@example.org</saml1:AttributeValue></saml1:Attribute>"
        "</saml1:AttributeStatement></saml1:Assertion></saml1p:Response>"
        "</soap11:Body></soap11:Envelope>"
    )


def jscas_logout_request(ticket: str) -> str:
    """jscas-server's back-channel message from its template, on one line; POSTed by the
    Node ``request`` library as a bare string body, so with no Content-Type."""
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="k3v9q2m7x1c8z4b6" '
        'Version="2.0" IssueInstant="2026-03-04T05:06:07.891Z">'
        "<saml:NameID>@NOT_USED@</saml:NameID>"
        f"<samlp:SessionIndex>{ticket}</samlp:SessionIndex></samlp:LogoutRequest>"
    )
