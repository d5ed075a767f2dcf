"""Proxy granting tickets: receive them on the callback, link them to the session at login, and
exchange them for proxy tickets."""

from __future__ import annotations

from typing import Any

from cas import CASError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from . import log
from .client import get_cas_client
from .conf import cas_settings
from .exceptions import CASUnavailable, ProxyError
from .models import ProxyGrantingTicket
from .sessions import mapping_key

_MAX_TICKET_LENGTH = 255


def receive_callback(request: HttpRequest) -> HttpResponse:
    """Store the ``pgtIou`` -> ``pgtId`` pair the CAS server sends before it answers validation.

    A bare GET is the server's reachability check and gets 200; a half-filled one gets 400.
    """
    pgtiou = request.GET.get("pgtIou")
    pgt = request.GET.get("pgtId")
    if not pgtiou and not pgt:
        return HttpResponse("ok\n", content_type="text/plain")
    if not pgtiou or not pgt:
        return HttpResponseBadRequest("pgtIou and pgtId are both required\n", content_type="text/plain")
    if len(pgtiou) > _MAX_TICKET_LENGTH or len(pgt) > _MAX_TICKET_LENGTH:
        return HttpResponseBadRequest("pgtIou or pgtId too long\n", content_type="text/plain")
    ProxyGrantingTicket.objects.create(pgtiou=pgtiou, pgt=pgt)
    log.proxy.debug("Stored a PGT for IOU %s", log.redact(pgtiou))
    return HttpResponse("ok\n", content_type="text/plain")


def claim_pgt(request: HttpRequest, user: Any, session_key: str) -> None:
    """Link the PGT whose IOU came with the validation answer to this session and user."""
    pgtiou = request.session.get("pgtiou")
    if not pgtiou or not cas_settings.proxy_callback:
        return
    key = mapping_key(session_key)
    ProxyGrantingTicket.objects.filter(user=user, session_key=key).exclude(pgtiou=pgtiou).delete()
    claimed = ProxyGrantingTicket.objects.filter(pgtiou=pgtiou).update(user=user, session_key=key)
    if not claimed:
        log.proxy.warning(
            "No PGT arrived for IOU %s: the CAS server could not reach CAS_PROXY_CALLBACK",
            log.redact(pgtiou),
        )


def retrieve_proxy_ticket(request: HttpRequest, service: str) -> str:
    """A proxy ticket for ``service`` on behalf of this session's user, or :class:`ProxyError`."""
    session_key = request.session.session_key or ""
    pgt = (
        ProxyGrantingTicket.objects.filter(user=request.user, session_key=mapping_key(session_key))
        .values_list("pgt", flat=True)
        .first()
    )
    if not pgt:
        raise ProxyError("INVALID_TICKET", "No proxy ticket found for this HttpRequest object")
    client = get_cas_client(service_url=service, request=request)
    try:
        ticket: str = client.get_proxy_ticket(pgt)
    except CASError as error:
        raise ProxyError(*error.args) from error
    except CASUnavailable as error:
        raise ProxyError("CAS_UNAVAILABLE", str(error)) from error
    except Exception as error:  # noqa: BLE001 - 5.1 wraps every failure in ProxyError
        raise ProxyError(error) from error
    return ticket
