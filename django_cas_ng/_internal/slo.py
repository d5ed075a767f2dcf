"""Single Logout: recognise a logout request, refuse hostile ones, parse it safely, and end the
sessions of the ticket it names.

Back channel: the CAS server POSTs ``logoutRequest=<XML>`` (or the bare XML) to the service URL.
Front channel: the browser GETs the service URL with ``logoutRequest=<base64 of deflated
XML>`` (Apereo CAS: zlib-wrapped, RFC 1950; raw deflate is accepted too), sometimes with a
JSONP ``callback``; CAS 4.0 sends it as ``SAMLRequest`` with a ``RelayState`` that the service
hands back to the server's ``/logout`` so it can go on to the next service.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import zlib
from typing import Any
from urllib.parse import unquote, urlencode, urljoin

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, RawPostDataException
from lxml import etree

from ..conf import cas_settings
from ..exceptions import BadLogoutRequest, MalformedXML
from . import observe
from .sessions import end_sessions_for_tickets
from .tenancy import request_config
from .urls import get_server_url, issuing_server_url
from .xml import parse_xml

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
PARAM = "logoutRequest"
#: The front-channel parameter of CAS 4.0 servers, and the state to hand back to them.
SAML_PARAM = "SAMLRequest"
RELAY_STATE = "RelayState"
_MAX_RELAY_STATE = 1024
_XML_CONTENT_TYPES = {"text/xml", "application/xml", "application/soap+xml"}
FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
#: What a body arrives as when its sender names no type (txcas, through treq, sends none).
_BARE_CONTENT_TYPES = {"", "text/plain", "application/octet-stream"}
#: SessionIndex values accepted in one logout request; a CAS server sends one.
MAX_SESSION_INDEXES = 20
_SAML_PREFIXES = (
    f'<prefixes xmlns:samlp="{SAMLP_NS}" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
).encode()
#: A JSONP callback echoed: one plain name, as CAS servers' jQuery sends. A property path
#: ("opener.document.forms...") would let anyone have this origin serve a script calling it.
_JSONP_CALLBACK = re.compile(r"[A-Za-z_$][\w$]*", re.ASCII)


def is_back_channel(request: HttpRequest) -> bool:
    """A POST carrying a logout request, as a form field or as a bare XML body (typed as XML,
    or with no type and a body that opens a ``LogoutRequest``).

    An oversized form counts as one, unread, so that :func:`handle` refuses it with 413.
    """
    if request.method != "POST":
        return False
    if request.content_type in _XML_CONTENT_TYPES:
        return True
    if request.content_type in FORM_CONTENT_TYPES:
        return _declared_length(request) > cas_settings.slo_max_bytes or PARAM in request.POST
    if request.content_type in _BARE_CONTENT_TYPES:
        return _is_bare_logout_request(request)
    return False


def _is_bare_logout_request(request: HttpRequest) -> bool:
    """An untyped body of at most ``CAS_SLO_MAX_BYTES`` that begins as XML and names a
    ``LogoutRequest`` early on (a larger one is left unread: it is no logout request)."""
    if not 0 < _declared_length(request) <= cas_settings.slo_max_bytes:
        return False
    try:
        head = request.body[:1024]
    except RawPostDataException:
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"LogoutRequest" in head


def is_front_channel(request: HttpRequest) -> bool:
    """A browser GET carrying a deflated, base64-encoded logout request, when accepted.

    ``CAS_SLO_FRONT_CHANNEL`` ``None`` (default) accepts it unless
    ``CAS_SLO_ALLOWED_NETWORKS`` restricts who may log users out.
    """
    if request.method != "GET" or not front_channel_param(request):
        return False
    enabled = cas_settings.slo_front_channel
    if enabled is not None:
        return enabled
    return request_config(request).slo_allowed_networks is None


def front_channel_param(request: HttpRequest) -> str | None:
    """The query parameter carrying a front-channel logout request, if any."""
    return next((name for name in (PARAM, SAML_PARAM) if name in request.GET), None)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refuse_oversized(request: HttpRequest) -> None:
    length = _declared_length(request)
    if length > cas_settings.slo_max_bytes:
        raise BadLogoutRequest(
            f"logout request of {length} bytes exceeds {cas_settings.slo_max_bytes}", status=413
        )


def client_ip(request: HttpRequest) -> str:
    """The sender's address: the configured trusted proxy header's last hop, else REMOTE_ADDR."""
    header = cas_settings.slo_client_ip_header
    if header and request.META.get(header):
        return _without_port(str(request.META[header]).split(",")[-1].strip())
    return str(request.META.get("REMOTE_ADDR", ""))


def _without_port(address: str) -> str:
    """``address`` without the port some front ends add (Azure: ``203.0.113.9:50001``,
    ``[2001:db8::9]:50001``): a new connection must not count as a new client."""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    host, colon, port = address.partition(":")
    return host if colon and port.isdigit() else address


def check_sender(request: HttpRequest) -> None:
    """Refuse (403) a back-channel request from outside ``CAS_SLO_ALLOWED_NETWORKS`` (the
    tenant's: another tenant's CAS server may then not send logout requests here)."""
    networks = request_config(request).slo_allowed_networks
    if networks is None:
        return
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise BadLogoutRequest(f"logout request from unparsable address {address!r}", 403) from None
    if not _in_networks(ip, networks):
        raise BadLogoutRequest(f"logout request from {ip} is not from an allowed network", 403)


def is_named_sender(request: HttpRequest) -> bool:
    """The sender's address is in ``CAS_SLO_ALLOWED_NETWORKS``: a CAS node the site named."""
    networks = request_config(request).slo_allowed_networks
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return _in_networks(ip, networks)


def _in_networks(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Any) -> bool:
    forms = address_forms(ip)
    return any(
        form in ipaddress.ip_network(net, strict=False) for net in networks for form in forms
    )


def address_forms(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """``ip`` and its other spelling: an IPv4-mapped IPv6 address (``::ffff:10.0.0.5``, as a
    dual-stack listener reports an IPv4 sender) and the IPv4 address it carries are one sender."""
    if isinstance(ip, ipaddress.IPv6Address):
        return [ip] if ip.ipv4_mapped is None else [ip, ip.ipv4_mapped]
    return [ip, ipaddress.IPv6Address(f"::ffff:{ip}")]


def back_channel_xml(request: HttpRequest) -> bytes:
    """The XML of a back-channel request, size-checked before it is read."""
    _refuse_oversized(request)
    if request.content_type in _XML_CONTENT_TYPES or request.content_type in _BARE_CONTENT_TYPES:
        try:
            body = request.body
        except RawPostDataException:
            raise BadLogoutRequest("request body was already consumed") from None
        return body
    value = request.POST.get(PARAM, "").strip()
    # Some servers URL-encode the XML once more; phpCAS decodes the field again for them.
    if value[:3].upper() == "%3C":
        value = unquote(value)
    return value.encode("utf-8")


def front_channel_xml(encoded: str) -> bytes:
    """Decode ``base64(deflate(XML))``, zlib-wrapped or raw, without inflating past the cap."""
    limit = cas_settings.slo_max_bytes
    if len(encoded) > limit:
        raise BadLogoutRequest(f"logout request exceeds {limit} bytes", status=413)
    # A '+' left unescaped in the query string arrives as a space; accept URL-safe base64 too.
    normalised = encoded.replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        packed = base64.b64decode(normalised + "=" * (-len(normalised) % 4))
    except (binascii.Error, ValueError):
        raise BadLogoutRequest("logoutRequest is not base64") from None
    # Apereo CAS (Java's Deflater) wraps the stream in zlib's header and checksum; others not.
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        inflater = zlib.decompressobj(wbits)
        try:
            xml = inflater.decompress(packed, limit)
        except zlib.error:
            continue
        if inflater.unconsumed_tail:
            raise BadLogoutRequest(f"logout request inflates past {limit} bytes", status=413)
        if inflater.eof:  # else the bytes only began like a deflate stream
            return xml
    return packed  # some servers send it base64-encoded but not deflated


def _parse_logout_request(xml: bytes) -> Any:
    """The root of a logout request; RubyCAS-era servers use the ``samlp`` and ``saml``
    prefixes without declaring them, so such a request is read with them declared around it."""
    try:
        return parse_xml(xml)
    except MalformedXML:
        if b"xmlns:samlp" in xml or not xml.lstrip().startswith(b"<samlp:"):
            raise
    wrapper = parse_xml(_SAML_PREFIXES + xml.strip() + b"</prefixes>")
    return next(child for child in wrapper if isinstance(child.tag, str))


def session_indexes(xml: bytes) -> list[str]:
    """The ``SessionIndex`` values (service tickets) of a SAML 2 ``LogoutRequest``."""
    if len(xml) > cas_settings.slo_max_bytes:
        raise BadLogoutRequest(f"logout request exceeds {cas_settings.slo_max_bytes} bytes", 413)
    try:
        root = _parse_logout_request(xml)
    except MalformedXML as exc:
        raise BadLogoutRequest(f"logoutRequest refused: {exc}") from None
    if etree.QName(root).localname != "LogoutRequest":
        raise BadLogoutRequest("logoutRequest is not a SAML LogoutRequest")
    tickets = [(element.text or "").strip() for element in root.iter(f"{{{SAMLP_NS}}}SessionIndex")]
    tickets = [ticket for ticket in tickets if ticket]
    if not tickets:
        raise BadLogoutRequest("LogoutRequest has no SessionIndex")
    return tickets


def end_sessions(xml: bytes, server_url: str | None = None) -> int:
    """End every session of every ticket the logout request names (at most
    ``MAX_SESSION_INDEXES`` of them, looked up in one query); with ``server_url``, only the
    sessions that server's tickets opened (see :func:`sender_server`)."""
    tickets = session_indexes(xml)
    if len(tickets) > MAX_SESSION_INDEXES:
        raise BadLogoutRequest(
            f"logout request names {len(tickets)} sessions; at most {MAX_SESSION_INDEXES} accepted"
        )
    return end_sessions_for_tickets(tickets, server_url)


def sender_server(request: HttpRequest) -> str | None:
    """With several CAS servers, the one this request's tenant signs in at: a logout request
    arriving here may only end sessions that server opened."""
    return issuing_server_url(request)


def back_to_server(request: HttpRequest, relay_state: str) -> str:
    """The CAS server's logout URL that resumes its front-channel logout (CAS 4.0's flow, as
    java-cas-client and pac4j answer it): ``/logout?_eventId=next&RelayState=...``."""
    query = urlencode({"_eventId": "next", RELAY_STATE: relay_state})
    return f"{urljoin(get_server_url(request), 'logout')}?{query}"


@observe.hide_secrets
def handle(request: HttpRequest) -> HttpResponse:
    """Serve a back- or front-channel Single Logout request; errors raise BadLogoutRequest."""
    if is_front_channel(request):
        param = front_channel_param(request) or PARAM
        ended = end_sessions(front_channel_xml(request.GET[param]), sender_server(request))
        observe.slo.debug("Front-channel Single Logout ended %d session(s)", ended)
        relay_state = request.GET.get(RELAY_STATE)
        if relay_state and len(relay_state) <= _MAX_RELAY_STATE:
            return HttpResponseRedirect(back_to_server(request, relay_state))
        callback = request.GET.get("callback")
        # The same body whatever was ended: an anonymous caller learns nothing from it.
        if callback and len(callback) <= 128 and _JSONP_CALLBACK.fullmatch(callback):
            body = f'/**/{callback}({{"status": "ok"}});'
            return HttpResponse(body, content_type="application/javascript")
        return HttpResponse("ok\n", content_type="text/plain")
    check_sender(request)
    ended = end_sessions(back_channel_xml(request), sender_server(request))
    observe.slo.debug("Back-channel Single Logout ended %d session(s)", ended)
    return HttpResponse("ok\n", content_type="text/plain")
