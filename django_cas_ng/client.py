"""The python-cas client for each CAS version, as this package uses it: answers read with the
hardened parser, proxy tickets asked through our transport, and the factories that wire a
client to the settings and the pooled HTTP session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import cas
import requests
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from lxml import etree

from .conf import cas_settings
from .exceptions import (
    CASUnavailable,
    MalformedAnswer,
    MalformedXML,
    ProxyError,
    TicketValidationError,
)
from .origin import get_server_url
from .safexml import parse_xml
from .tenancy import request_config
from .transport import get_http_session, validation_renew

CAS_NS = "http://www.yale.edu/tp/cas"
SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:1.0:assertion"
ATTRIBUTE_BLOCKS = ("attributes", "norEduPerson")

Answer = tuple[str | None, dict[str, Any], str | None]


class CASClient(Protocol):
    """What this package uses of a python-cas client (``get_cas_client`` returns one)."""

    service_url: str | None
    server_url: str
    extra_login_params: dict[str, Any]
    renew: bool
    session: requests.Session

    def get_login_url(self) -> str: ...

    def get_logout_url(self, redirect_url: str | None = None) -> str: ...

    def verify_ticket(self, ticket: str) -> tuple[str | None, Any, str | None]: ...

    def get_proxy_url(self, pgt: str) -> str: ...

    def get_proxy_ticket(self, pgt: str) -> str: ...


class ProxyValidateClient(CASClient, Protocol):
    """A client of ``(p3/)proxyValidate``, whose raw answer the caller reads itself."""

    def get_verification_response(self, ticket: str) -> bytes: ...


def parse_cas_answer(data: bytes | str) -> Any:
    """The root of a CAS server's XML answer; unreadable or unsafe XML is CASUnavailable."""
    try:
        return parse_xml(data)
    except MalformedXML as exc:
        raise MalformedAnswer(f"CAS answer refused: {exc}") from None


def read_service_response(root: Any) -> Answer:
    """(user, attributes, pgtiou) of a parsed CAS 2/3 answer; a refusal raises its code."""
    first = next((child for child in root if isinstance(child.tag, str)), None)
    if first is None:
        raise MalformedAnswer("CAS answer has no authenticationSuccess or Failure element")
    name = etree.QName(first).localname
    if name == "authenticationFailure":
        code = first.get("code", "UNKNOWN")
        raise TicketValidationError((first.text or "").strip()[:200], code=code)
    if name != "authenticationSuccess":
        raise MalformedAnswer(f"unexpected CAS answer element {name!r}")
    user = first.findtext(f"{{{CAS_NS}}}user")
    pgtiou = first.findtext(f"{{{CAS_NS}}}proxyGrantingTicket")
    attributes: dict[str, Any] = {}
    for element in first:
        if isinstance(element.tag, str) and etree.QName(element).localname in ATTRIBUTE_BLOCKS:
            _collect_attributes(element, attributes)
    return (user.strip() if user else None), attributes, (pgtiou.strip() if pgtiou else None)


def _collect_attributes(element: Any, attributes: dict[str, Any]) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "attraStyle":
            continue
        value = child.text
        if name in attributes:
            existing = attributes[name]
            attributes[name] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            attributes[name] = value


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
            raise ProxyError(failure.get("code", "UNKNOWN"), (failure.text or "").strip()[:200])
    raise ProxyError("INVALID_RESPONSE", "The CAS server answered neither proxySuccess nor failure")


class _ProxyTicketMixin:
    """Proxy tickets asked through our transport and read with the hardened parser."""

    session: requests.Session

    if TYPE_CHECKING:

        def get_proxy_url(self, pgt: str) -> str: ...

    def get_proxy_ticket(self, pgt: str) -> str:
        """A proxy ticket for ``service_url`` in exchange for ``pgt``: the extension point.

        Raises ``ProxyError(code, message)`` when the server refuses and ``CASUnavailable``
        when it cannot be asked; a site changes how tickets are obtained by overriding this.
        """
        response = self.session.get(self.get_proxy_url(pgt))
        if response.status_code != 200:
            raise ProxyError(f"Bad http code {response.status_code}")
        return parse_proxy_answer(response.content)


class _RenewMixin:
    """Validation carries ``renew=true`` when this client's ``renew`` is true (python-cas puts
    it on the login URL only)."""

    renew: bool

    def verify_ticket(self, ticket: str, **kwargs: Any) -> tuple[Any, Any, Any]:
        with validation_renew(self.renew):
            return super().verify_ticket(ticket, **kwargs)  # type: ignore[misc]


class _HardenedXMLMixin(_RenewMixin, _ProxyTicketMixin):
    """Reads CAS 2/3 answers with the hardened parser instead of python-cas's ElementTree."""

    @classmethod
    def parse_response_xml(cls, response: bytes) -> Answer:
        return read_service_response(parse_cas_answer(response))


class CASClientV1(_RenewMixin, _ProxyTicketMixin, cas.CASClientV1):  # type: ignore[misc]
    """CAS 1.0: plain-text ``/validate``."""


class CASClientV2(_HardenedXMLMixin, cas.CASClientV2):  # type: ignore[misc]
    """CAS 2.0: XML ``/serviceValidate``."""


class CASClientV3(_HardenedXMLMixin, cas.CASClientV3):  # type: ignore[misc]
    """CAS 3.0: XML ``/p3/serviceValidate`` with attributes."""


class CASClientWithSAMLV1(_HardenedXMLMixin, cas.CASClientWithSAMLV1):  # type: ignore[misc]
    """SAML 1.1 ``/samlValidate``.

    python-cas reads the answer with ElementTree, which expands entities: the answer is parsed
    here first with the hardened parser and handed on re-serialised, so no DTD reaches it.
    Servers release a multi-valued attribute as several ``Attribute`` elements of one name;
    python-cas keeps only the last, so such attributes are made lists here, in order.
    """

    _saml_root: Any = None

    def fetch_saml_validation(self, ticket: str) -> requests.Response:
        response: requests.Response = super().fetch_saml_validation(ticket)
        self._saml_root = parse_cas_answer(response.content)
        response._content = etree.tostring(self._saml_root)
        return response

    def verify_ticket(self, ticket: str, **kwargs: Any) -> tuple[Any, Any, Any]:
        self._saml_root = None
        username, attributes, pgtiou = super().verify_ticket(ticket, **kwargs)
        if username and isinstance(attributes, dict) and self._saml_root is not None:
            attributes.update(_saml_multi_valued_attributes(self._saml_root))
        return username, attributes, pgtiou


def _saml_multi_valued_attributes(root: Any) -> dict[str, list[str | None]]:
    """The attributes of a SAML 1.1 answer that carry more than one value, as lists."""
    values: dict[str, list[str | None]] = {}
    for attribute in root.iter(f"{{{SAML_ASSERTION_NS}}}Attribute"):
        name = attribute.get("AttributeName")
        if name:
            found = values.setdefault(name, [])
            found.extend(v.text for v in attribute.iter(f"{{{SAML_ASSERTION_NS}}}AttributeValue"))
    return {name: found for name, found in values.items() if len(found) > 1}


CLIENT_CLASSES: dict[str, type[Any]] = {
    "1": CASClientV1,
    "2": CASClientV2,
    "3": CASClientV3,
    "CAS_2_SAML_1_0": CASClientWithSAMLV1,
}


def get_cas_client(service_url: str | None = None, request: HttpRequest | None = None) -> CASClient:
    """A python-cas client for ``CAS_VERSION``, wired to the pooled session and our settings
    (the tenant's, with several CAS servers)."""
    config = request_config(request)
    version = config.version
    try:
        client_class = CLIENT_CLASSES[version]
    except KeyError:
        raise ImproperlyConfigured(f"Unsupported CAS_VERSION {version!r}") from None
    kwargs: dict[str, Any] = {
        "service_url": service_url,
        "server_url": get_server_url(request),
        "extra_login_params": dict(config.extra_login_params),
        "renew": config.renew,
        "username_attribute": cas_settings.username_attribute,
        "verify_ssl_certificate": cas_settings.verify_ssl_certificate,
        "session": get_http_session(),
    }
    if version != "1":
        kwargs["proxy_callback"] = config.proxy_callback
    return client_class(**kwargs)


def at_server(client: CASClient, server_url: str | None) -> CASClient:
    """``client`` pointed at ``server_url`` (the server that issued a session's ticket), if any."""
    if server_url:
        client.server_url = server_url
    return client


def validate_ticket(client: CASClient, ticket: str) -> Answer:
    """Run python-cas validation; unusable answers become CASUnavailable, never a 500."""
    try:
        username, attributes, pgtiou = client.verify_ticket(ticket)
    except (CASUnavailable, TicketValidationError):
        raise
    except (
        MalformedXML,
        StopIteration,
        etree.LxmlError,
        SyntaxError,
        LookupError,
        AttributeError,
        ValueError,
        TypeError,
        UnicodeError,
    ) as exc:
        raise MalformedAnswer(
            f"CAS answer could not be read: {exc.__class__.__name__}: {exc}"
        ) from exc
    return username, dict(attributes or {}), pgtiou


class CASProxyValidateClientV2(CASClientV2):
    """CAS 2.0 ``/proxyValidate``: accepts proxy tickets as well as service tickets."""

    url_suffix = "proxyValidate"


class CASProxyValidateClientV3(CASClientV3):
    """CAS 3.0 ``/p3/proxyValidate``: as CAS 2.0, plus attributes."""

    url_suffix = "p3/proxyValidate"


def get_proxy_validate_client(
    service_url: str, request: HttpRequest | None = None, *, accept_proxy_tickets: bool = True
) -> ProxyValidateClient:
    """A client validating presented tickets for ``service_url``.

    At ``(p3/)proxyValidate``: CAS 3 uses ``/p3/proxyValidate``; every other version
    ``/proxyValidate``, because CAS 1 and SAML 1.1 cannot report a proxy chain. With
    ``accept_proxy_tickets=False`` (no chain is allowed) at ``(p3/)serviceValidate``, where the
    CAS server itself refuses proxy tickets. It never sends ``renew`` (no proxy ticket comes
    from a fresh login, so every one would be refused) nor ``pgtUrl``.
    """
    v3 = request_config(request).version == "3"
    if accept_proxy_tickets:
        client_class: type[Any] = CASProxyValidateClientV3 if v3 else CASProxyValidateClientV2
    else:
        client_class = CASClientV3 if v3 else CASClientV2
    return client_class(
        service_url=service_url,
        server_url=get_server_url(request),
        renew=False,
        username_attribute=cas_settings.username_attribute,
        verify_ssl_certificate=cas_settings.verify_ssl_certificate,
        session=get_http_session(),
        proxy_callback=None,
    )
