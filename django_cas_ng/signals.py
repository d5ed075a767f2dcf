"""The signals this package sends; their arguments are documented in docs/signals.rst."""

from django.dispatch import Signal

__all__ = [
    "cas_ticket_validated",
    "cas_user_authenticated",
    "cas_user_logout",
]

#: Sent by ``CASBackend`` after a successful ticket validation, before the session is
#: created. ``sender`` is the backend instance; keyword arguments: ``user``, ``created``,
#: ``username``, ``attributes``, ``pgtiou``, ``ticket``, ``service``, ``request``.
cas_user_authenticated = Signal()

#: Sent once per ended session, on manual logout (``sender='manual'``) or Single Logout
#: (``sender='slo'``). Keyword arguments: ``user``, ``session``, ``ticket`` (or ``None``).
cas_user_logout = Signal()

#: Sent once per ticket validation at the CAS server (sign-in, presented proxy tickets,
#: step-up), success or not, for metrics. ``sender`` is the backend class, ``'proxy'`` or
#: ``'stepup'``; keyword arguments: ``outcome`` (one of the outcomes in docs/metrics.rst),
#: ``duration`` (seconds), ``version``, ``service``, ``rule`` (the access rule that refused the
#: user, outcome ``denied``; else None). Never the ticket.
cas_ticket_validated = Signal()
