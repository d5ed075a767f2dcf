"""Accept proxy (and service) tickets presented by other services: validate them at
``(p3/)proxyValidate`` and trust a proxy ticket only when its chain is in ``CAS_PROXY_CHAINS``.

:func:`authenticate_proxy_ticket` does the work; :func:`proxy_ticket_required` (a view decorator)
and :class:`django_cas_ng.contrib.drf.CASProxyTicketAuthentication` turn its outcome into a user
or a 401. Nothing is stored: each request presents a fresh, single-use ticket.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from ..client import get_proxy_validate_client
from ..conf import cas_settings
from ..exceptions import CASNGError, TicketValidationError
from . import observe, ratelimit, replay, responses
from .http import check_deadline, validation_deadline
from .observe import DENIED, log_fields, measure_validation
from .responses import AUTH_SCHEME, gate
from .tickets import is_well_formed_ticket
from .urls import canonical_service, public_url
from .xml import ATTRIBUTE_BLOCKS, CAS_NS, parse_cas_answer, read_service_response

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..backends import CASBackend

__all__ = [
    "ANY_SERVICE",
    "AcceptedTicket",
    "ValidatedTicket",
    "authenticate_proxy_ticket",
    "chain_is_allowed",
    "parse_proxy_validation",
    "proxy_ticket_required",
    "service_url_for",
    "ticket_from_request",
]

#: Key of ``CAS_PROXY_CHAINS`` whose chains apply to services without an entry of their own.
ANY_SERVICE = "*"
#: Attribute of the request holding the :class:`AcceptedTicket` inside a decorated view.
REQUEST_ATTRIBUTE = "cas_auth"

NO_TICKET = "NO_TICKET"
#: Code of a ticket that is malformed (refused without asking the CAS server).
MALFORMED_TICKET = "INVALID_TICKET"
UNTRUSTED_PROXY_CHAIN = "UNTRUSTED_PROXY_CHAIN"
USER_REFUSED = "USER_REFUSED"

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


@dataclass(frozen=True)
class ValidatedTicket:
    """What the CAS server said about a ticket it accepted."""

    username: str
    attributes: dict[str, Any]
    #: The proxies the ticket went through, most recent first; empty for a service ticket.
    proxies: tuple[str, ...]


@dataclass(frozen=True)
class AcceptedTicket:
    """A ticket this service accepted: the local user, the CAS answer and the service URL."""

    user: AbstractBaseUser
    username: str
    attributes: Mapping[str, Any]
    proxies: tuple[str, ...]
    service: str


def ticket_from_request(request: HttpRequest) -> str | None:
    """The ticket in ``Authorization: CAS <ticket>``, else in ``?ticket=``, else None."""
    header: str = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == AUTH_SCHEME.lower() and value.strip():
        return value.strip()
    return request.GET.get("ticket") or None


def service_url_for(request: HttpRequest) -> str:
    """The URL of this request without its query string, on the public origin.

    It must equal, character for character, the ``targetService`` the caller asked a ticket
    for; a back end with a fixed service identifier passes ``service=`` instead. The origin is
    the one of the login's service URL (:func:`django_cas_ng._internal.urls.public_url`).
    """
    return public_url(request, request.path)


def authenticate_proxy_ticket(
    request: HttpRequest, ticket: str, service: str | None = None
) -> AcceptedTicket:
    """Validate ``ticket`` for ``service`` (default: :func:`service_url_for`) and map it to a user.

    Raises :class:`TicketValidationError` (``code`` says why) when the CAS server refuses the
    ticket, its proxy chain is not allowed, or the site's backend refuses the user, and
    :class:`~django_cas_ng.exceptions.CASUnavailable` when the CAS server cannot be asked.
    """
    if not is_well_formed_ticket(ticket):
        raise TicketValidationError("The ticket is malformed.", code=MALFORMED_TICKET)
    service = service or service_url_for(request)
    validated = validate_presented_ticket(request, ticket, service)
    if not chain_is_allowed(validated.proxies, service, request):
        observe.proxy.warning(
            "Refused ticket %s for %s: proxy chain %s is not in CAS_PROXY_CHAINS",
            observe.redact(ticket),
            service,
            list(validated.proxies),
        )
        raise TicketValidationError(
            "This ticket came through a proxy chain this service does not trust.",
            code=UNTRUSTED_PROXY_CHAIN,
        )
    user, attributes = user_for_ticket(request, validated)
    observe.proxy.info(
        "Accepted ticket %s for %s as %s via %s%s",
        observe.redact(ticket),
        service,
        user.get_username(),
        list(validated.proxies) or "no proxy",
        log_fields(request),
    )
    return AcceptedTicket(
        user=user,
        username=validated.username,
        attributes=attributes,
        proxies=validated.proxies,
        service=service,
    )


def validate_presented_ticket(request: HttpRequest, ticket: str, service: str) -> ValidatedTicket:
    """Ask ``(p3/)proxyValidate`` about ``ticket`` (``(p3/)serviceValidate`` when no chain is
    allowed, so the CAS server itself refuses proxy tickets); measured and reported as
    ``cas_ticket_validated`` with sender ``'proxy'``. A ticket this site accepted before is
    refused unasked (:mod:`django_cas_ng._internal.replay`)."""
    ratelimit.hit(request, ratelimit.TICKET)
    if not replay.claim(ticket, request):
        raise TicketValidationError("This ticket was already used.", code=replay.REPLAYED)
    with (
        replay.unless_unavailable(ticket, request),
        measure_validation("proxy", service, request) as measurement,
    ):
        client = get_proxy_validate_client(
            service, request, accept_proxy_tickets=bool(allowed_chains(service, request))
        )
        with validation_deadline():
            validated = parse_proxy_validation(client.get_verification_response(ticket))
            check_deadline()
        measurement.rule = cas_backend().access_rule(validated.attributes)
        if measurement.rule:
            measurement.outcome = DENIED
    if measurement.rule:
        observe.proxy.warning(
            "Refused ticket %s: access rule %r", observe.redact(ticket), measurement.rule
        )
        raise TicketValidationError("This user may not use this service.", code=USER_REFUSED)
    return validated


def parse_proxy_validation(data: bytes | str) -> ValidatedTicket:
    """Read a ``(p3/)proxyValidate`` answer: the user and attributes as at login, plus the
    ``cas:proxies`` chain.

    The answer is parsed once, with the hardened parser, and read as login reads it, so a
    refusal, an unusable answer and a success naming no user mean the same here as at login;
    only the chain, which login has no use for, is read here.
    """
    root = parse_cas_answer(data)
    try:
        username, attributes, _pgtiou = read_service_response(root)
    except TicketValidationError as refusal:
        code = refusal.code or "UNKNOWN"
        observe.proxy.info("CAS server refused a presented ticket: %s", code)
        # The server's text stays out of the 401 the caller sees.
        raise TicketValidationError(
            f"The CAS server refused the ticket ({code}).", code=code
        ) from None
    if not username:
        # Login refuses such an answer too (a 403, not an outage).
        raise TicketValidationError("The CAS answer names no user.", code=USER_REFUSED)
    # read_service_response checked that the first element is the authenticationSuccess.
    answer = next(child for child in root if isinstance(child.tag, str))
    return ValidatedTicket(
        username=username, attributes=dict(attributes), proxies=read_proxy_chain(answer)
    )


PROXIES_TAG = f"{{{CAS_NS}}}proxies"
PROXY_TAG = f"{{{CAS_NS}}}proxy"


def read_proxy_chain(answer: Any) -> tuple[str, ...]:
    """The ``cas:proxies/cas:proxy`` chain of an authenticationSuccess, most recent first.

    Attribute blocks are the server's own data and are not searched. Any other shape (a
    ``proxy`` outside ``proxies``, other children or text in ``proxies``,
    an empty ``proxy``, two ``proxies``) is refused rather than read as "no proxy".
    """
    named = [
        element
        for child in answer
        if isinstance(child.tag, str) and etree.QName(child).localname not in ATTRIBUTE_BLOCKS
        for element in child.iter()
        if isinstance(element.tag, str) and etree.QName(element).localname in ("proxies", "proxy")
    ]
    if not named:
        return ()
    blocks = [child for child in answer if child.tag == PROXIES_TAG]
    proxies = [child for child in blocks[0] if isinstance(child.tag, str)] if blocks else []
    well_formed = (
        len(blocks) == 1
        and proxies
        and len(named) == 1 + len(proxies)
        and not _has_text(blocks[0])
        and all(
            proxy.tag == PROXY_TAG and len(proxy) == 0 and (proxy.text or "").strip()
            for proxy in proxies
        )
    )
    if not well_formed:
        observe.proxy.warning("Refused a validation answer whose proxy chain has an unknown shape")
        raise TicketValidationError(
            "The CAS answer lists its proxies in an unknown form.", code=UNTRUSTED_PROXY_CHAIN
        )
    return tuple((proxy.text or "").strip() for proxy in proxies)


def _has_text(element: Any) -> bool:
    """True when ``element`` holds text of its own (outside its children)."""
    return bool((element.text or "").strip()) or any(
        (child.tail or "").strip() for child in element
    )


def allowed_chains(service: str, request: HttpRequest | None = None) -> Sequence[Sequence[Any]]:
    """The chains ``CAS_PROXY_CHAINS`` allows for ``service``: its own entry, else ``'*'``.

    An entry applies to every URL of the same path on this site (any alias host, http or
    https, :func:`~django_cas_ng._internal.urls.canonical_service`); when several do, only the
    chains
    all of them allow.
    """
    chains = cas_settings.proxy_chains
    if service in chains:
        return chains[service] or ()
    canonical = canonical_service(service, request)
    entries = [
        list(allowed or ())
        for key, allowed in chains.items()
        if key != ANY_SERVICE and canonical_service(key, request) == canonical
    ]
    if entries:
        return [chain for chain in entries[0] if all(chain in other for other in entries[1:])]
    return chains.get(ANY_SERVICE) or ()


def chain_is_allowed(
    proxies: Sequence[str], service: str, request: HttpRequest | None = None
) -> bool:
    """True for a service ticket (no proxy) or a chain matching an allowed one, proxy by proxy
    (the chains keyed by ``request``'s tenant's public origin too)."""
    if not proxies:
        return True
    return any(_chain_matches(chain, proxies) for chain in allowed_chains(service, request))


def _chain_matches(chain: Sequence[Any], proxies: Sequence[str]) -> bool:
    return len(chain) == len(proxies) and all(
        _url_matches(pattern, url) for pattern, url in zip(chain, proxies, strict=True)
    )


def _url_matches(pattern: Any, url: str) -> bool:
    """Exact string equality, or a full regular-expression match for ``'^...'`` / compiled."""
    try:
        if isinstance(pattern, re.Pattern):
            return pattern.fullmatch(url) is not None
        if isinstance(pattern, str) and pattern.startswith("^"):
            return re.fullmatch(pattern, url) is not None
    except re.error:
        observe.proxy.error("CAS_PROXY_CHAINS holds an invalid regular expression: %r", pattern)
        return False
    return bool(pattern == url)


def cas_backend() -> CASBackend:
    """The first ``CASBackend`` (or subclass) in ``AUTHENTICATION_BACKENDS``, else a plain one."""
    from django.contrib.auth import get_backends

    from ..backends import CASBackend

    for backend in get_backends():
        if isinstance(backend, CASBackend):
            return backend
    return CASBackend()


def user_for_ticket(
    request: HttpRequest, validated: ValidatedTicket
) -> tuple[AbstractBaseUser, dict[str, Any]]:
    """The local user for an accepted ticket, through the site's ``CASBackend`` hooks.

    The same mapping as at sign-in (:meth:`CASBackend.user_from_answer`); attributes are not
    copied onto the user.
    """
    mapped = cas_backend().user_from_answer(request, validated.username, validated.attributes)
    if mapped.user is None:
        observe.proxy.warning("Refused a presented ticket: %s", mapped.reason)
        raise TicketValidationError("This user may not use this service.", code=USER_REFUSED)
    return mapped.user, mapped.attributes


def unauthorized(code: str, detail: str, realm: str = "api") -> JsonResponse:
    """401 with ``WWW-Authenticate: CAS realm="..."`` and the JSON body ``{detail, code}``."""
    return responses.unauthorized(realm, code, detail)


def _vary_on_authorization(response: HttpResponseBase) -> None:
    """The view's answer is the ticket's user's own: ``private``, so no shared cache (Django's
    cache middleware included) hands it to the next client presenting the same ticket."""
    patch_vary_headers(response, ("Authorization",))
    patch_cache_control(response, private=True)


@observe.hide_secrets
def _admit(request: HttpRequest, service: str | None, realm: str) -> HttpResponse | None:
    """Let the request in as the ticket's user (``None``), or the JSON answer refusing it:
    401, 503 (CAS unreachable, or this site's configuration) or 429."""
    ticket = ticket_from_request(request)
    if ticket is None:
        return unauthorized(
            NO_TICKET, "A CAS ticket is required: send 'Authorization: CAS <ticket>'.", realm
        )
    try:
        accepted = authenticate_proxy_ticket(request, ticket, service)
    except TicketValidationError as error:
        return unauthorized(error.code or MALFORMED_TICKET, str(error), realm)
    except CASNGError as error:
        return responses.for_error(request, error, as_json=True)
    request.user = cast("User", accepted.user)
    setattr(request, REQUEST_ATTRIBUTE, accepted)
    return None


def proxy_ticket_required(
    view: View | None = None, *, service: str | None = None, realm: str = "api"
) -> Any:
    """Run the view only for a request presenting a ticket this service accepts.

    The ticket comes from ``Authorization: CAS <ticket>`` or ``?ticket=``. The view then sees
    the user as ``request.user`` and the :class:`AcceptedTicket` as ``request.cas_auth``;
    otherwise the answer is 401 (503 when the CAS server is unreachable). No session is created
    and the view is exempt from CSRF, since the ticket, not a cookie, authenticates the call.
    """

    def decorator(view_func: View) -> View:
        # Validation is a blocking call to the CAS server: the gate runs it off the event loop.
        check = partial(_admit, service=service, realm=realm)
        wrapped: Any = gate(check, after=_vary_on_authorization)(view_func)
        return login_not_required(csrf_exempt(wrapped))

    return decorator(view) if view is not None else decorator
