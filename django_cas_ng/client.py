"""The python-cas client for each CAS version, as this package uses it: answers read with the
hardened parser, proxy tickets asked through our transport, and the factories that wire a
client to the settings and the pooled HTTP session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import urlencode, urljoin

import cas
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from lxml import etree

from ._internal.http import (
    check_deadline,
    get_http_session,
    validation_deadline,
    validation_format,
    validation_renew,
)
from ._internal.tenancy import request_config
from ._internal.urls import get_server_url
from ._internal.xml import (
    SAML_ASSERTION_NS,
    XML_SPACE,
    Answer,
    check_saml_answer,
    parse_cas_answer,
    parse_proxy_answer,
    read_cas1_answer,
    read_service_response,
    saml_attributes,
)
from .conf import cas_settings
from .exceptions import (
    CASUnavailable,
    MalformedAnswer,
    MalformedXML,
    ProxyError,
    TicketValidationError,
)

__all__ = [
    "CLIENT_CLASSES",
    "CASClient",
    "CASClientV1",
    "CASClientV2",
    "CASClientV3",
    "CASClientWithSAMLV1",
    "CASProxyValidateClientV2",
    "CASProxyValidateClientV3",
    "at_server",
    "client_class",
    "get_cas_client",
    "get_proxy_validate_client",
    "validate_ticket",
]


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
            raise _stated_refusal(response.content) or ProxyError(
                f"Bad http code {response.status_code}"
            )
        return parse_proxy_answer(response.content)


def _stated_refusal(body: bytes) -> ProxyError | None:
    """The ``proxyFailure`` an HTTP error answer states, if it is one: Keycloak's CAS plugin
    sends its refusals with HTTP 400, and their code must not be lost."""
    try:
        parse_proxy_answer(body)
    except ProxyError as refusal:
        return refusal if refusal.args[:1] != ("INVALID_RESPONSE",) else None
    except MalformedAnswer:
        return None
    return None


class _RenewMixin:
    """Validation carries ``renew=true`` when this client's ``renew`` is true (python-cas puts
    it on the login URL only)."""

    renew: bool

    def verify_ticket(self, ticket: str, **kwargs: Any) -> tuple[Any, Any, Any]:
        with validation_renew(self.renew):
            return super().verify_ticket(ticket, **kwargs)  # type: ignore[misc]


class _HardenedXMLMixin(_RenewMixin, _ProxyTicketMixin):
    """Reads CAS 2/3 answers (XML or JSON) with the hardened parser instead of python-cas's
    ElementTree; asks for JSON when ``response_format`` is ``'JSON'``."""

    response_format = "XML"

    def get_verification_response(self, ticket: str) -> bytes:
        with validation_format(self.response_format == "JSON"):
            return super().get_verification_response(ticket)  # type: ignore[misc]

    @classmethod
    def parse_response_xml(cls, response: bytes) -> Answer:
        return read_service_response(parse_cas_answer(response))


class _Cas1AnswerMixin:
    """Reads the whole CAS 1 answer strictly (python-cas reads its first lines, and a byte
    order mark or an error page becomes a refusal or a garbled user)."""

    server_url: str
    service_url: str | None
    session: requests.Session
    verify_ssl_certificate: bool

    def verify_ticket(self, ticket: str, **kwargs: Any) -> tuple[str | None, None, None]:
        query = urlencode([("ticket", ticket), ("service", self.service_url or "")])
        url = f"{urljoin(self.server_url, 'validate')}?{query}"
        response = self.session.get(url, verify=self.verify_ssl_certificate)
        content_type = response.headers.get("Content-Type")
        return read_cas1_answer(response.content, content_type), None, None


class CASClientV1(
    _RenewMixin,
    _ProxyTicketMixin,
    _Cas1AnswerMixin,
    cas.CASClientV1,  # type: ignore[misc]
):
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
    python-cas keeps only the last, so attributes are read again here (lists in order, an
    ``Attribute`` with no value an empty list).
    """

    _saml_root: Any = None

    def fetch_saml_validation(self, ticket: str) -> requests.Response:
        response: requests.Response = super().fetch_saml_validation(ticket)
        self._saml_root = parse_cas_answer(response.content)
        check_saml_answer(self._saml_root)
        # python-cas fails on an Attribute without values; they are read here instead.
        handed_on = etree.fromstring(etree.tostring(self._saml_root))
        for attribute in list(handed_on.iter(f"{{{SAML_ASSERTION_NS}}}Attribute")):
            parent = attribute.getparent()
            if (
                parent is not None
                and attribute.find(f"{{{SAML_ASSERTION_NS}}}AttributeValue") is None
            ):
                parent.remove(attribute)
        response._content = etree.tostring(handed_on)
        return response

    def verify_ticket(self, ticket: str, **kwargs: Any) -> tuple[Any, Any, Any]:
        self._saml_root = None
        username, attributes, pgtiou = super().verify_ticket(ticket, **kwargs)
        # A pretty-printed NameIdentifier is the same user as in CAS 1, 2 and 3.
        if isinstance(username, str):
            username = username.strip(XML_SPACE) or None
        if username and isinstance(attributes, dict) and self._saml_root is not None:
            attributes.update(saml_attributes(self._saml_root))
        return username, attributes, pgtiou


#: The package's client class for each ``CAS_VERSION``: what ``CASBackend.client_classes``
#: starts from.
CLIENT_CLASSES: dict[str, type[Any]] = {
    "1": CASClientV1,
    "2": CASClientV2,
    "3": CASClientV3,
    "CAS_2_SAML_1_0": CASClientWithSAMLV1,
}


def client_class(version: str) -> type[Any]:
    """The client class for ``version``, as the site's CAS backend chooses it: the first
    backend of ``AUTHENTICATION_BACKENDS`` with ``get_client_class`` (``CASBackend``'s reads
    its ``client_classes``), else :data:`CLIENT_CLASSES`. KeyError for an unknown version."""
    choose = _client_chooser(tuple(settings.AUTHENTICATION_BACKENDS))
    return choose(version) if choose is not None else CLIENT_CLASSES[version]


@lru_cache(maxsize=8)
def _client_chooser(paths: tuple[str, ...]) -> Callable[[str], type[Any]] | None:
    for path in paths:
        try:
            backend_class = import_string(path)
        except ImportError:
            continue
        if callable(getattr(backend_class, "get_client_class", None)):
            return cast("Callable[[str], type[Any]]", backend_class().get_client_class)
    return None


def get_cas_client(service_url: str | None = None, request: HttpRequest | None = None) -> CASClient:
    """A python-cas client for ``CAS_VERSION``, wired to the pooled session and our settings
    (the tenant's, with several CAS servers)."""
    config = request_config(request)
    version = config.version
    try:
        chosen = client_class(version)
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
    if config.login_method:
        kwargs["extra_login_params"]["method"] = config.login_method
    if config.send_locale:
        kwargs["extra_login_params"]["locale"] = get_language()
    client: CASClient = chosen(**kwargs)
    client.response_format = config.response_format  # type: ignore[attr-defined]
    return client


def at_server(client: CASClient, server_url: str | None) -> CASClient:
    """``client`` pointed at ``server_url`` (the server that issued a session's ticket), if any."""
    if server_url:
        client.server_url = server_url
    return client


def validate_ticket(client: CASClient, ticket: str) -> Answer:
    """Run python-cas validation; unusable answers become CASUnavailable, never a 500."""
    try:
        with validation_deadline():
            username, attributes, pgtiou = client.verify_ticket(ticket)
            check_deadline()
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
    client = client_class(
        service_url=service_url,
        server_url=get_server_url(request),
        renew=False,
        username_attribute=cas_settings.username_attribute,
        verify_ssl_certificate=cas_settings.verify_ssl_certificate,
        session=get_http_session(),
        proxy_callback=None,
    )
    client.response_format = request_config(request).response_format
    return client
