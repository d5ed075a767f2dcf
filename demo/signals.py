"""Receivers for the two django_cas_ng signals, after the example in docs/signals.rst.

Each prints what it got, like the documented example, and records it as a ``SignalEvent``
so the home page can show it.
"""

import json
from typing import Any

from django.dispatch import receiver

from django_cas_ng.signals import cas_user_authenticated, cas_user_logout

from .models import SignalEvent


def _sender_name(sender: Any) -> str:
    """``'manual'``/``'slo'`` as they are; a backend instance as its class path."""
    if isinstance(sender, str):
        return sender
    kind = type(sender)
    return f"{kind.__module__}.{kind.__qualname__}"


def _username(user: Any) -> str:
    if user is None:
        return ""
    get_username = getattr(user, "get_username", None)
    return (get_username() if get_username else str(user)) or str(user)


def _plain(value: Any) -> Any:
    """``value`` as JSON-compatible data (attribute values are usually strings or lists)."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None


@receiver(cas_user_authenticated)
def cas_user_authenticated_callback(sender: Any, **kwargs: Any) -> None:
    attributes = kwargs.get("attributes")
    print(
        f"cas_user_authenticated_callback: user={kwargs.get('user')} "
        f"created={kwargs.get('created')} attributes={json.dumps(attributes, sort_keys=True)}",
        flush=True,
    )
    SignalEvent.objects.create(
        signal=SignalEvent.AUTHENTICATED,
        sender=_sender_name(sender),
        user=_username(kwargs.get("user")),
        created=kwargs.get("created"),
        attributes=_plain(attributes),
        ticket=kwargs.get("ticket") or "",
        service=kwargs.get("service") or "",
    )


@receiver(cas_user_logout)
def cas_user_logout_callback(sender: Any, **kwargs: Any) -> None:
    session = kwargs.get("session")
    session_key = getattr(session, "session_key", None) or ""
    event = SignalEvent.objects.create(
        signal=SignalEvent.LOGOUT,
        sender=_sender_name(sender),
        user=_username(kwargs.get("user")),
        ticket=kwargs.get("ticket") or "",
        session_key=session_key,
    )
    print(
        f"cas_user_logout_callback: sender={event.sender} user={event.user or '-'} "
        f"session={event.short_session or '-'} ticket={event.short_ticket or '-'}",
        flush=True,
    )
