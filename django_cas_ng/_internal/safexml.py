"""The one way this package reads XML from outside: no DTD, no entities, no network."""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree

from ..exceptions import MalformedXML

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
    JSP and PHP templates leave before an XML declaration, which must come first."""
    trimmed = data.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")
    return trimmed if trimmed.startswith(b"<") else data


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
