"""Talking to the CAS server: the python-cas client for the configured version, the service
URL, one pooled HTTP session per process with timeouts and TLS options, and the translation of
transport failures and unusable answers into :class:`~django_cas_ng.exceptions.CASUnavailable`.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import cas
import requests
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from lxml import etree
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from .conf import cas_settings
from .exceptions import CASUnavailable, TicketValidationError

CAS_NS = "http://www.yale.edu/tp/cas"
SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:1.0:assertion"
_VALIDATION_SUFFIXES = ("validate", "serviceValidate", "proxyValidate")


def get_protocol(request: HttpRequest) -> str:
    """'https' or 'http', as Django sees the request (honours ``SECURE_PROXY_SSL_HEADER``)."""
    return "https" if request.is_secure() else "http"


#: What a ticket may look like: CAS 3.0 allows [A-Za-z0-9-]; JWT and base64 tickets add a few
#: more. Anything else (XML specials, whitespace, over 1024 characters) is refused unsent.
TICKET_RE = re.compile(r"[A-Za-z0-9._~+/=:-]{1,1024}")


def is_well_formed_ticket(ticket: str) -> bool:
    """True when ``ticket`` could have been issued by a CAS server."""
    return TICKET_RE.fullmatch(ticket) is not None


def public_url(request: HttpRequest, path: str) -> str:
    """``path`` on this site's public origin: ``CAS_ROOT_PROXIED_AS``, else the request's."""
    if cas_settings.root_proxied_as:
        return urljoin(cas_settings.root_proxied_as, path)
    protocol = "https" if cas_settings.force_ssl_service_url else get_protocol(request)
    return f"{protocol}://{request.get_host()}{path}"


def get_server_url(request: HttpRequest | None = None) -> str:
    """``CAS_SERVER_URL`` as an absolute URL ending in '/', so endpoints join under it.

    A path means "this site": its origin comes from ``CAS_ROOT_PROXIED_AS`` when set, so the
    Host header cannot choose the server that validates tickets.
    """
    server_url = cas_settings.server_url or ""
    if server_url.startswith("/"):
        if cas_settings.root_proxied_as:
            server_url = urljoin(cas_settings.root_proxied_as, server_url)
        elif request is not None:
            server_url = request.build_absolute_uri(server_url)
    if server_url and not server_url.endswith("/"):
        server_url += "/"
    return server_url


def get_service_url(request: HttpRequest, redirect_to: str | None = None) -> str:
    """The service URL, built the same way for the login redirect and for validation.

    CAS compares the two as strings, so the only input besides the request path is the
    landing page, which the caller decides once.
    """
    service = public_url(request, request.path)
    if not cas_settings.store_next:
        if redirect_to is None:
            from .redirects import get_redirect_url

            redirect_to = get_redirect_url(request)
        service += "?" + urlencode({REDIRECT_FIELD_NAME: redirect_to})
    return service


class CASHTTP:
    """What python-cas sees as its ``session``: every call gets our timeout, TLS options and
    size cap, and transport failures become :class:`CASUnavailable`."""

    def __init__(self, session: requests.Session, renew: bool = False) -> None:
        self.session = session
        self.renew = renew

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        if self.renew and urlsplit(url).path.endswith(_VALIDATION_SUFFIXES):
            params = dict(kwargs.get("params") or {})
            params["renew"] = "true"
            kwargs["params"] = params
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, data=data, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        timeout = cas_settings.timeout
        kwargs.setdefault("timeout", timeout)
        verify = kwargs.get("verify", cas_settings.verify_ssl_certificate)
        if verify is True and cas_settings.ca_bundle:
            verify = cas_settings.ca_bundle
        kwargs["verify"] = verify
        if cas_settings.client_cert:
            kwargs["cert"] = cas_settings.client_cert
        kwargs["stream"] = True
        kwargs.setdefault("allow_redirects", False)
        host = urlsplit(url).netloc
        # Exception messages of requests quote the URL, whose query holds the ticket or PGT:
        # only the exception's class name reaches our error, and the chain is cut.
        try:
            response = self._send(method, url, kwargs)
            body = _read_capped(response, cas_settings.max_response_bytes)
        except requests.Timeout as exc:
            reason = f"{exc.__class__.__name__}, timeout {timeout[1]:g}s"
            raise CASUnavailable(f"CAS server {host} did not answer in time ({reason})") from None
        except requests.RequestException as exc:
            reason = _connection_failure(exc) or exc.__class__.__name__
            raise CASUnavailable(f"cannot reach CAS server {host}: {reason}") from None
        if response.status_code >= 500:
            raise CASUnavailable(f"CAS server {host} answered HTTP {response.status_code}")
        if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
            raise CASUnavailable(f"CAS server {host} answered with a DTD, which CAS never sends")
        return response

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """Send once; again only if no connection was made, so nothing is validated twice."""
        try:
            return self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            if _connection_failure(exc) is None:
                raise
        return self.session.request(method, url, **kwargs)


def _connection_failure(exc: requests.RequestException) -> str | None:
    """Why no connection was made (refused, DNS, connect timeout), or None if one was."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError):
        return "connection refused or host unknown"
    return None


def _read_capped(response: requests.Response, limit: int) -> bytes:
    """Read the whole body into ``response.content`` unless it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > limit:
                raise CASUnavailable(f"CAS server answer exceeds {limit} bytes")
            chunks.append(chunk)
    finally:
        response.close()
    body = b"".join(chunks)
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]
    return body


_lock = threading.Lock()
_sessions: dict[tuple[int, Any], requests.Session] = {}


def _new_session() -> requests.Session:
    session = requests.Session()
    # No retries down here: urllib3 would log the URL (with the ticket) when retrying.
    # CASHTTP retries a connection that was never made; nothing else is ever repeated.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "django_cas_ng"
    return session


def get_http_session() -> requests.Session:
    """The keep-alive session of this process (after a fork, a new one), or the factory's."""
    factory = cas_settings.session_factory
    key = (os.getpid(), factory)
    session = _sessions.get(key)
    if session is None:
        with _lock:
            session = _sessions.get(key)
            if session is None:
                session = factory() if factory is not None else _new_session()
                _sessions[key] = session
    return session


def reset_http_sessions() -> None:
    """Close and forget pooled sessions (used when settings change in tests)."""
    with _lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()


class _HardenedXMLMixin:
    """Parses CAS 2/3 answers with a parser that resolves no entity and fetches nothing."""

    @classmethod
    def parse_response_xml(cls, response: bytes) -> tuple[str | None, dict[str, Any], str | None]:
        root = parse_xml(response)
        first = next((child for child in root if isinstance(child.tag, str)), None)
        if first is None:
            raise CASUnavailable("CAS answer has no authenticationSuccess or Failure element")
        name = etree.QName(first).localname
        if name == "authenticationFailure":
            code = first.get("code", "UNKNOWN")
            raise TicketValidationError((first.text or "").strip()[:200], code=code)
        if name != "authenticationSuccess":
            raise CASUnavailable(f"unexpected CAS answer element {name!r}")
        user = first.findtext(f"{{{CAS_NS}}}user")
        pgtiou = first.findtext(f"{{{CAS_NS}}}proxyGrantingTicket")
        attributes: dict[str, Any] = {}
        for element in first:
            if not isinstance(element.tag, str):
                continue
            if etree.QName(element).localname in ("attributes", "norEduPerson"):
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


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
    )


def parse_xml(data: bytes | str) -> Any:
    """Parse untrusted XML: no DTD, no entities, no network; malformed input -> CASUnavailable."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        root = etree.fromstring(data, parser=_hardened_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise CASUnavailable(f"CAS answer is not well-formed XML: {exc}") from exc
    if root is None:
        raise CASUnavailable("CAS answer is empty")
    return root


class CASClientV1(cas.CASClientV1):  # type: ignore[misc]
    """CAS 1.0: plain-text ``/validate``."""


class CASClientV2(_HardenedXMLMixin, cas.CASClientV2):  # type: ignore[misc]
    """CAS 2.0: XML ``/serviceValidate``."""


class CASClientV3(_HardenedXMLMixin, cas.CASClientV3):  # type: ignore[misc]
    """CAS 3.0: XML ``/p3/serviceValidate`` with attributes."""


class CASClientWithSAMLV1(_HardenedXMLMixin, cas.CASClientWithSAMLV1):  # type: ignore[misc]
    """SAML 1.1 ``/samlValidate``.

    Servers (django-cas-server, Apereo CAS) release a multi-valued attribute as several
    ``Attribute`` elements of the same name; python-cas keeps only the last one, so the answer
    is read again here and such attributes become lists, in the order released.
    """

    _saml_answer: bytes | None = None

    def fetch_saml_validation(self, ticket: str) -> requests.Response:
        response: requests.Response = super().fetch_saml_validation(ticket)
        self._saml_answer = response.content
        return response

    def verify_ticket(self, ticket: str, **kwargs: Any) -> tuple[Any, Any, Any]:
        self._saml_answer = None
        username, attributes, pgtiou = super().verify_ticket(ticket, **kwargs)
        if username and isinstance(attributes, dict) and self._saml_answer:
            attributes.update(_saml_multi_valued_attributes(self._saml_answer))
        return username, attributes, pgtiou


def _saml_multi_valued_attributes(answer: bytes) -> dict[str, list[str | None]]:
    """The attributes of a SAML 1.1 answer that carry more than one value, as lists."""
    values: dict[str, list[str | None]] = {}
    for attribute in parse_xml(answer).iter(f"{{{SAML_ASSERTION_NS}}}Attribute"):
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


def get_cas_client(service_url: str | None = None, request: HttpRequest | None = None) -> Any:
    """A python-cas client for ``CAS_VERSION``, wired to the pooled session and our settings."""
    version = cas_settings.version
    try:
        client_class = CLIENT_CLASSES[version]
    except KeyError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"Unsupported CAS_VERSION {version!r}") from None
    kwargs: dict[str, Any] = {
        "service_url": service_url,
        "server_url": get_server_url(request),
        "extra_login_params": dict(cas_settings.extra_login_params),
        "renew": cas_settings.renew,
        "username_attribute": cas_settings.username_attribute,
        "verify_ssl_certificate": cas_settings.verify_ssl_certificate,
        "session": CASHTTP(get_http_session(), renew=cas_settings.renew),
    }
    if version != "1":
        kwargs["proxy_callback"] = cas_settings.proxy_callback
    return client_class(**kwargs)


def validate_ticket(client: Any, ticket: str) -> tuple[str | None, dict[str, Any], str | None]:
    """Run python-cas validation; unusable answers become CASUnavailable, never a 500."""
    try:
        username, attributes, pgtiou = client.verify_ticket(ticket)
    except (CASUnavailable, TicketValidationError):
        raise
    except (
        StopIteration,
        etree.LxmlError,
        SyntaxError,
        LookupError,
        AttributeError,
        ValueError,
        TypeError,
        UnicodeError,
    ) as exc:
        raise CASUnavailable(
            f"CAS answer could not be read: {exc.__class__.__name__}: {exc}"
        ) from exc
    return username, dict(attributes or {}), pgtiou


class CASProxyValidateClientV2(CASClientV2):
    """CAS 2.0 ``/proxyValidate``: accepts proxy tickets as well as service tickets."""

    url_suffix = "proxyValidate"


class CASProxyValidateClientV3(CASClientV3):
    """CAS 3.0 ``/p3/proxyValidate``: as CAS 2.0, plus attributes."""

    url_suffix = "p3/proxyValidate"


def get_proxy_validate_client(service_url: str, request: HttpRequest | None = None) -> Any:
    """A client validating presented tickets at ``(p3/)proxyValidate`` for ``service_url``.

    CAS 3 uses ``/p3/proxyValidate``; every other version ``/proxyValidate``, because CAS 1 and
    SAML 1.1 cannot report a proxy chain. It never sends ``renew`` (no proxy ticket comes from a
    fresh login, so every one would be refused) nor ``pgtUrl``.
    """
    v3 = cas_settings.version == "3"
    client_class = CASProxyValidateClientV3 if v3 else CASProxyValidateClientV2
    return client_class(
        service_url=service_url,
        server_url=get_server_url(request),
        renew=False,
        username_attribute=cas_settings.username_attribute,
        verify_ssl_certificate=cas_settings.verify_ssl_certificate,
        session=CASHTTP(get_http_session(), renew=False),
        proxy_callback=None,
    )
