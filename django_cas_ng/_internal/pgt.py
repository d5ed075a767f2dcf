"""Exchange a proxy granting ticket for a proxy ticket at the CAS server, the PGT masked in
every error and log line. No database: the models call it with the PGT they found."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cas import CASError
from django.http import HttpRequest

from ..client import CASClient, at_server, get_cas_client
from ..exceptions import CASUnavailable, ProxyError
from . import observe

__all__ = ["exchange_pgt", "request_proxy_ticket"]


def exchange_pgt(
    request: HttpRequest, pgt: str, service: str, server_url: str | None = None
) -> str:
    """A proxy ticket for ``service`` obtained with ``pgt``, or :class:`ProxyError`.

    ``ProxyError.args`` are ``(code, message)``: the CAS error code (``INVALID_TICKET``,
    ``UNAUTHORIZED_SERVICE``, ...) or ``CAS_UNAVAILABLE`` when the server cannot be asked.
    """
    client = at_server(get_cas_client(service_url=service, request=request), server_url)
    # The chain is cut (``from None``): the exceptions below may quote the /proxy URL, whose
    # query holds the PGT, and error trackers print every chained exception.
    try:
        ticket = request_proxy_ticket(client, pgt)
    except ProxyError as error:
        refusal = ProxyError(*_masked(error.args, pgt))
        code = refusal.args[0] if refusal.args else "-"
        observe.proxy.warning("CAS refused a proxy ticket for %s: %s", service, code)
        raise refusal from None
    except CASError as error:
        raise ProxyError(*_masked(error.args, pgt)) from None
    except CASUnavailable as error:
        raise ProxyError("CAS_UNAVAILABLE", _without(str(error), pgt)) from None
    except Exception as error:  # 5.1 wraps every failure in ProxyError
        raise ProxyError(_without(str(error), pgt)) from None
    observe.proxy.info("Obtained proxy ticket %s for %s", observe.redact(ticket), service)
    return ticket


def request_proxy_ticket(client: CASClient, pgt: str) -> str:
    """Exchange ``pgt`` for a proxy ticket for ``client.service_url``.

    The client's ``get_proxy_ticket`` does the work: a site changes how proxy tickets are
    obtained by overriding that method on a subclass of the client classes of
    :mod:`django_cas_ng.client`.
    """
    return str(client.get_proxy_ticket(pgt))


def _masked(args: tuple[Any, ...], pgt: str) -> list[str]:
    """Exception arguments as strings with the PGT masked (a server may echo it back)."""
    return [_without(str(arg), pgt) for arg in args]


def _without(message: str, pgt: str) -> str:
    """``message`` with the PGT masked (transport errors quote the URL, which carries it)."""
    for form in {pgt, quote(pgt, safe=""), quote(pgt)}:
        message = message.replace(form, observe.redact(pgt))
    return message
