"""The one way this package reads XML from outside (no DTD, no entities, no network), and
reading CAS 2/3 answers in every dialect servers send: XML in the CAS namespace or another
one (EU Login), JSON (``format=JSON``), and attributes in the standard, RubyCAS and name/value
layouts; in linear time, with a cap on values per attribute, within the overall deadline.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from email.message import Message
from typing import Any

from lxml import etree

from ..conf import cas_settings
from ..exceptions import MalformedAnswer, MalformedXML, ProxyError, TicketValidationError
from . import observe
from .http import check_deadline

__all__ = [
    "XML_SPACE",
    "AttributeValues",
    "adopt_cas_namespace",
    "check_saml_answer",
    "json_answer_as_xml",
    "parse_cas_answer",
    "parse_proxy_answer",
    "parse_xml",
    "read_attributes",
    "read_cas1_answer",
    "read_service_response",
    "saml_attributes",
]


# --- The hardened parse -----------------------------------------------------------------

_local = threading.local()
_UTF8_BOM = b"\xef\xbb\xbf"


def _parser() -> etree.XMLParser:
    """This thread's hardened parser (lxml parsers must not be shared across threads)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            dtd_validation=False,
        )
        _local.parser = parser
    return parser


def _trimmed(data: bytes) -> bytes:
    """``data`` without a UTF-8 byte order mark and blank lines before its first ``<``: what
    JSP and PHP templates leave before an XML declaration, which must come first; and
    without NULs ending it (a C string's terminator sent along), unless it holds others
    (UTF-16 text, where every other byte is one)."""
    trimmed = data.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")
    if not trimmed.startswith(b"<"):
        return data
    if trimmed.endswith(b"\x00"):
        unterminated = trimmed.rstrip(b"\x00")
        if b"\x00" not in unterminated:
            return unterminated
    return trimmed


def parse_xml(data: bytes | str) -> Any:
    """The root element of ``data``; :class:`MalformedXML` if unreadable or it declares a DTD.

    The DTD is looked for in the parsed document, so no encoding (UTF-16, a BOM) hides one;
    no legitimate CAS or SAML message carries a DTD.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        root = etree.fromstring(_trimmed(data), parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise MalformedXML(f"not well-formed XML: {exc}") from None
    if root is None:
        raise MalformedXML("empty XML document")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise MalformedXML("XML document declares a DTD, which no CAS message carries")
    return root


# --- CAS answers -------------------------------------------------------------------------

CAS_NS = "http://www.yale.edu/tp/cas"
SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:1.0:assertion"
SAML_PROTOCOL_NS = "urn:oasis:names:tc:SAML:1.0:protocol"
ATTRIBUTE_BLOCKS = ("attributes", "norEduPerson")
#: Children of authenticationSuccess that are protocol, not attributes (RubyCAS layout).
_PROTOCOL_ELEMENTS = frozenset({"user", "proxyGrantingTicket", "proxies", *ATTRIBUTE_BLOCKS})
#: Marker some servers add to say which attribute layout they use; never an attribute.
_STYLE_MARKER = "attraStyle"
#: EU Login's account of how the user signed in, beside its attributes; as before, not read.
_SIGN_IN_LISTS = frozenset({"strengths", "authenticationFactors"})
#: Keys of a JSON success whose values are protocol strings, never lists or objects.
_JSON_PROTOCOL_KEYS = frozenset({"user", "proxyGrantingTicket", "proxyTicket"})
#: How many elements are read between two looks at the deadline.
_DEADLINE_STRIDE = 4096
#: The white space XML (and a pretty-printer) writes around a value; str.strip() also drops
#: no-break and ideographic spaces, which would make "root\u00a0" the user "root".
XML_SPACE = " \t\r\n"

Answer = tuple[str | None, dict[str, Any], str | None]


def parse_cas_answer(data: bytes | str) -> Any:
    """The root of a CAS answer (XML, or JSON rebuilt as CAS XML), its elements in the CAS
    namespace; unreadable or unsafe answers are :class:`MalformedAnswer`."""
    if _looks_like_json(data):
        return json_answer_as_xml(data)
    try:
        root = parse_xml(data)
    except MalformedXML as exc:
        root = _with_unchecked_names_as_pairs(data)
        if root is None:
            raise MalformedAnswer(f"CAS answer refused: {exc}") from None
    return adopt_cas_namespace(root)


#: The opening tag of an attributes block, and in it an element of text only whose name is
#: repeated on both tags.
_ATTRIBUTES_OPENING = re.compile(rb"<(\w+):attributes>")
_NAMED_TEXT = re.compile(rb"<(\w+):([^<>\s=\"']+)>([^<]*)</\1:\2>")
_XML_NAME = re.compile(r"[^\W\d][\w.-]*")


def _with_unchecked_names_as_pairs(data: bytes | str) -> Any:
    """The root of an answer that was not XML only because attribute names were written as
    element names unchecked (Apereo CAS 5.0/5.1: ``<cas:urn:mace:...>``, ``<cas:x@y>``):
    those elements of the attributes block become ``cas:attribute`` name/value pairs. None
    when that changes nothing or the result is still not XML (a DTD stays refused)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    opening = _ATTRIBUTES_OPENING.search(raw)
    if opening is None:
        return None
    end = raw.find(b"</%s:attributes>" % opening.group(1), opening.end())
    if end < 0:
        return None

    def pair(found: re.Match[bytes]) -> bytes:
        prefix, name, value = found.groups()
        if _XML_NAME.fullmatch(name.decode("utf-8", "replace")):
            return found.group(0)
        # An empty value is left out, as an empty element is an attribute with no value.
        parts = {b"p": prefix, b"n": name, b"v": value}
        text = b"<%(p)b:value>%(v)b</%(p)b:value>" % parts if value else b""
        return (
            b"<%(p)b:attribute><%(p)b:name>%(n)b</%(p)b:name>" % parts
            + text
            + (b"</%(p)b:attribute>" % parts)
        )

    block = _NAMED_TEXT.sub(pair, raw[opening.end() : end])
    if block == raw[opening.end() : end]:
        return None
    try:
        return parse_xml(raw[: opening.end()] + block + raw[end:])
    except MalformedXML:
        return None


def _looks_like_json(data: bytes | str) -> bool:
    head = data[:64].decode("utf-8", "replace") if isinstance(data, bytes) else data[:64]
    return head.lstrip("\ufeff \t\r\n").startswith("{")


def adopt_cas_namespace(root: Any) -> Any:
    """An answer whose ``serviceResponse`` is in another namespace (EU Login's) or none, read
    by local names: its elements in that namespace move to the CAS one."""
    qname = etree.QName(root)
    if qname.namespace == CAS_NS or qname.localname != "serviceResponse":
        return root
    foreign = qname.namespace
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).namespace == foreign:
            element.tag = f"{{{CAS_NS}}}{etree.QName(element).localname}"
    return root


def read_service_response(root: Any) -> Answer:
    """(user, attributes, pgtiou) of a parsed CAS 2/3 answer; a refusal raises its code."""
    first = next((child for child in root if isinstance(child.tag, str)), None)
    if first is None:
        raise MalformedAnswer("CAS answer has no authenticationSuccess or Failure element")
    name = _localname(first)
    if name == "authenticationFailure":
        code = first.get("code", "UNKNOWN").strip()
        raise TicketValidationError((first.text or "").strip()[:200], code=code)
    if name != "authenticationSuccess":
        raise MalformedAnswer(f"unexpected CAS answer element {name!r}")
    pgtiou = first.findtext(f"{{{CAS_NS}}}proxyGrantingTicket")
    attributes = read_attributes(first)
    return _user(first), attributes, (pgtiou.strip() if pgtiou else None)


def _user(success: Any) -> str | None:
    """The direct ``user`` child, else (as python-cas read it for 5.1) the one below; two of
    them (what an unescaped user name injects) make the answer unusable."""
    users = success.findall(f"{{{CAS_NS}}}user") or success.findall(f".//{{{CAS_NS}}}user")
    if len(users) > 1:
        raise MalformedAnswer(f"CAS answer names {len(users)} users")
    if not users:
        return None
    if _has_elements(users[0]):
        raise MalformedAnswer("CAS answer's user holds elements, not a name")
    # All its text: a comment inside must not cut the name short ("admin<!---->.evil").
    return "".join(users[0].itertext()).strip(XML_SPACE) or None


class AttributeValues:
    """Attribute values gathered in order, in linear time, at most ``cap`` per name."""

    def __init__(self, cap: int | None = None) -> None:
        self.cap = cas_settings.max_attribute_values if cap is None else cap
        self.values: dict[str, list[Any]] = {}
        self.capped: set[str] = set()
        self._seen = 0

    def add(self, name: str, value: Any) -> None:
        self._seen += 1
        if self._seen % _DEADLINE_STRIDE == 0:
            check_deadline()
        found = self.values.setdefault(name, [])
        if len(found) < self.cap:
            found.append(value)
        else:
            self.capped.add(name)

    def declare(self, name: str) -> None:
        """An attribute released with no value: an empty list."""
        self.values.setdefault(name, [])

    def result(self) -> dict[str, Any]:
        """One value as itself, several as a list (python-cas's shape); logs capped names."""
        for name in sorted(self.capped):
            observe.client.warning(
                "CAS answer released more than %d values of attribute %r; kept the first %d "
                "(raise CAS_MAX_ATTRIBUTE_VALUES to keep more)",
                self.cap,
                name,
                self.cap,
            )
        return {name: found[0] if len(found) == 1 else found for name, found in self.values.items()}


def read_attributes(success: Any) -> dict[str, Any]:
    """The attributes of an authenticationSuccess in any layout: ``cas:attributes`` (and
    ``norEduPerson``) children; without them, RubyCAS elements and name/value pairs directly
    under it. The layouts are alternatives, as phpCAS reads them: django-cas-server writes
    every attribute twice, in a block and as a name/value pair. An element listing children
    of one name (EU Login's ``groups``) is one attribute of their values."""
    gathered = AttributeValues()
    children = list(_elements(success))
    blocks = [child for child in children if _localname(child) in ATTRIBUTE_BLOCKS]
    if any(_has_elements(block) for block in blocks):
        for block in blocks:
            for element in _elements(block):
                _add_element(gathered, element)
        return gathered.result()
    for child in children:
        local = _localname(child)
        if local == "attribute" or (
            local not in _PROTOCOL_ELEMENTS
            and (not _has_elements(child) or (local not in _SIGN_IN_LISTS and _is_list(child)))
        ):
            _add_element(gathered, child)
    return gathered.result()


def _add_element(gathered: AttributeValues, element: Any) -> None:
    local = _localname(element)
    if local == "attribute" and (element.get("name") or _has_elements(element, "name")):
        name = element.get("name") or element.findtext(f"{{{CAS_NS}}}name") or ""
        if "value" in element.attrib:
            value = element.get("value")
        else:
            value = element.findtext(f"{{{CAS_NS}}}value")
        if name and name != _STYLE_MARKER:
            gathered.add(name, value)
    elif local == _STYLE_MARKER:
        return
    elif len(element) and _is_list(element):
        for member in _elements(element):
            gathered.add(local, member.text)
    elif _has_elements(element) and not (element.text or "").strip():
        return  # a structure of its own (EU Login's extendedAttributes): no single value
    elif element.get("number") == "0" and not len(element) and not (element.text or "").strip():
        gathered.declare(local)  # EU Login's empty list: <cas:groups number="0"/>
    else:
        gathered.add(local, element.text)


def _is_list(element: Any) -> bool:
    """Whether ``element`` lists values as children of one name and nothing else, as EU Login
    lists a user's groups: ``<cas:groups><cas:group>A</cas:group>...</cas:groups>``."""
    members = list(_elements(element))
    if not members or (element.text or "").strip() or any((m.tail or "").strip() for m in members):
        return False
    name = _localname(members[0])
    return name not in _PROTOCOL_ELEMENTS and all(
        _localname(member) == name and not _has_elements(member) for member in members
    )


def _localname(element: Any) -> str:
    """The tag of ``element`` without its namespace (what ``etree.QName`` gives, without
    building one)."""
    return str(element.tag).rpartition("}")[2]


def _elements(parent: Any) -> Iterable[Any]:
    return (child for child in parent if isinstance(child.tag, str))


def _has_elements(element: Any, name: str | None = None) -> bool:
    """Whether ``element`` has element children (named ``name``, when given)."""
    return any(name is None or _localname(child) == name for child in _elements(element))


def parse_proxy_answer(data: bytes | str) -> str:
    """The ticket of a ``cas:proxySuccess`` answer; ``ProxyError(code, message)`` otherwise."""
    root = parse_cas_answer(data)
    ticket = root.findtext(f"{{{CAS_NS}}}proxySuccess/{{{CAS_NS}}}proxyTicket")
    if ticket and ticket.strip():
        return str(ticket.strip())
    # The protocol says proxyFailure; some servers (django-cas-server) send authenticationFailure.
    for name in ("proxyFailure", "authenticationFailure"):
        failure = root.find(f"{{{CAS_NS}}}{name}")
        if failure is not None:
            code = failure.get("code", "UNKNOWN").strip()
            raise ProxyError(code, (failure.text or "").strip()[:200])
    raise ProxyError("INVALID_RESPONSE", "The CAS server answered neither proxySuccess nor failure")


# --- CAS 1.0 ----------------------------------------------------------------------------------


def read_cas1_answer(body: bytes, content_type: str | None = None) -> str | None:
    """The user of a CAS 1 ``/validate`` answer (``yes``, then the user), None for ``no``;
    anything else (an error page, no user, undecodable bytes) is unusable.

    UTF-8 first, as the protocol says; bytes that are not UTF-8 are read in the charset the
    Content-Type names, if any (old JSP servers send ISO-8859-1 and say so).
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _decode_declared(body, content_type)
    lines = [line.strip(XML_SPACE) for line in text.split("\n")]
    if lines[0] == "no":
        return None
    if lines[0] == "yes" and len(lines) > 1 and lines[1]:
        return lines[1]
    raise MalformedAnswer("CAS 1 answer is neither 'yes' and a user nor 'no'")


def _decode_declared(body: bytes, content_type: str | None) -> str:
    message = Message()
    message["Content-Type"] = content_type or ""
    charset = message.get_content_charset()
    try:
        if charset and charset not in ("utf-8", "utf8"):
            return body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        pass
    raise MalformedAnswer(f"CAS 1 answer is neither UTF-8 nor in its declared charset {charset}")


# --- JSON answers (Apereo CAS's renderer, asked for with format=JSON) --------------------------


def json_answer_as_xml(data: bytes | str) -> Any:
    """A JSON ``serviceResponse`` rebuilt as the CAS XML answer it stands for, so one reader
    serves both; attributes become name/value pairs (JSON names need not be XML names)."""
    try:
        # Strict: a user name garbled by a wrong encoding must not become an account.
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        text = text.lstrip("\ufeff").rstrip("\x00")  # a C string's terminator, as for XML
        document = json.loads(text, object_pairs_hook=_unique_keys)
        body = document["serviceResponse"]
        root = etree.Element(f"{{{CAS_NS}}}serviceResponse", nsmap={"cas": CAS_NS})
        for kind, content in body.items():
            _json_element(root, str(kind), content)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise MalformedAnswer(f"CAS JSON answer refused: {exc.__class__.__name__}") from None
    return root


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique: a key given twice (``"user"`` twice, what an
    unescaped value injects) makes the answer unusable, as two ``cas:user`` do."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a JSON object repeats a key")
    return found


def _json_element(root: Any, kind: str, content: dict[str, Any]) -> None:
    element = etree.SubElement(root, f"{{{CAS_NS}}}{kind}")
    if kind.endswith("Failure"):
        element.set("code", _json_text(content.get("code")) or "UNKNOWN")
        element.text = _json_text(content.get("description"))
        return
    for name, value in content.items():
        if name == "attributes":
            _json_attributes(etree.SubElement(element, f"{{{CAS_NS}}}attributes"), value)
        elif name == "proxies":
            if not value:
                continue  # an empty chain is no chain (an empty cas:proxies is refused)
            proxies = etree.SubElement(element, f"{{{CAS_NS}}}proxies")
            for proxy in _json_list(value):
                etree.SubElement(proxies, f"{{{CAS_NS}}}proxy").text = _json_string(proxy)
        elif name in _JSON_PROTOCOL_KEYS:
            etree.SubElement(element, f"{{{CAS_NS}}}{name}").text = _json_string(value)
        else:
            _json_extra(element, name, value)


def _json_extra(element: Any, name: str, value: Any) -> None:
    """A key of a server's own next to the protocol ones, kept as an element when its name
    can be one (read as an attribute where RubyCAS-style ones are)."""
    try:
        extra = etree.SubElement(element, f"{{{CAS_NS}}}{name}")
    except ValueError:
        return
    extra.text = _json_text(value)


def _json_attributes(block: Any, attributes: dict[str, Any]) -> None:
    for name, value in attributes.items():
        for item in _json_list(value):
            pair = etree.SubElement(block, f"{{{CAS_NS}}}attribute", name=str(name))
            if item is not None:
                pair.set("value", _json_text(item) or "")


def _json_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _json_string(value: Any) -> str | None:
    """A protocol value (user, PGTIOU, proxy, ticket): a string or nothing, never read from
    a list or an object (``["alice", "root"]`` is no user name)."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


# --- SAML 1.1 ----------------------------------------------------------------------------------


def saml_attributes(root: Any) -> dict[str, Any]:
    """Every ``Attribute`` of a SAML 1.1 answer: repeated ones gathered in order, one with no
    ``AttributeValue`` an empty list."""
    gathered = AttributeValues()
    for attribute in root.iter(f"{{{SAML_ASSERTION_NS}}}Attribute"):
        name = attribute.get("AttributeName")
        if not name:
            continue
        gathered.declare(name)
        for value in attribute.iter(f"{{{SAML_ASSERTION_NS}}}AttributeValue"):
            gathered.add(name, _saml_value(value))
    return gathered.result()


def _saml_value(value: Any) -> str | None:
    """An ``AttributeValue``'s text; for one holding an element (Shibboleth's
    eduPersonTargetedID: a ``NameID``), that element's text, trimmed."""
    inner = next(iter(_elements(value)), None)
    if inner is None or (value.text or "").strip():
        return str(value.text) if value.text is not None else None
    return "".join(inner.itertext()).strip(XML_SPACE)


def check_saml_answer(root: Any) -> None:
    """Raise the refusal a SAML 1.1 answer's top ``StatusCode`` states (``samlp:RequestDenied``,
    ``samlp:Responder``...), its code kept for the log; two different ``NameIdentifier``
    (each statement repeats the user) make it unusable, as two ``cas:user`` do."""
    status = root.find(f".//{{{SAML_PROTOCOL_NS}}}StatusCode")
    value = status.get("Value") if status is not None else None
    if value and not value.endswith("Success"):
        message = root.findtext(f".//{{{SAML_PROTOCOL_NS}}}StatusMessage") or ""
        raise TicketValidationError(message.strip()[:200], code=value)
    # The subjects' users; a NameIdentifier inside an AttributeValue is an attribute's value.
    names = {
        "".join(element.itertext()).strip(XML_SPACE)
        for element in root.iter(f"{{{SAML_ASSERTION_NS}}}NameIdentifier")
        if _localname(element.getparent()) != "AttributeValue"
    }
    if len(names) > 1:
        raise MalformedAnswer(f"SAML answer names {len(names)} different users")
