"""Each ticket validation's outcome and latency: measured where the CAS server is asked, sent
as the ``cas_ticket_validated`` signal for metrics libraries, and written on the log line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from ..exceptions import (
    CASConfigurationError,
    CASUnavailable,
    MalformedAnswer,
    TicketValidationError,
)
from ..signals import cas_ticket_validated
from .tenancy import request_config

__all__ = [
    "DENIED",
    "ERROR",
    "MALFORMED",
    "MISCONFIGURED",
    "OUTCOMES",
    "REFUSED",
    "SUCCESS",
    "UNAVAILABLE",
    "Measurement",
    "log_fields",
    "measure_validation",
    "outcome_of",
]

#: The CAS server accepted the ticket.
SUCCESS = "success"
#: The CAS server refused the ticket (or its answer named no user).
REFUSED = "refused"
#: The CAS server could not be asked: unreachable, too slow, an HTTP error.
UNAVAILABLE = "unavailable"
#: The CAS server answered something no CAS client can read.
MALFORMED = "malformed"
#: This site's own configuration stopped the validation (not the CAS server: no outage).
MISCONFIGURED = "misconfigured"
#: Anything else went wrong while validating (a bug, a broken session factory).
ERROR = "error"
#: The CAS server accepted the ticket, but an access rule of this site refused the user.
DENIED = "denied"
#: Every value ``outcome`` takes: few enough to be a metrics label.
OUTCOMES = frozenset({SUCCESS, REFUSED, UNAVAILABLE, MALFORMED, MISCONFIGURED, ERROR, DENIED})

#: Attribute of the request holding its last :class:`Measurement`, for the log line.
REQUEST_ATTRIBUTE = "_cas_ng_validation"


@dataclass
class Measurement:
    """One validation: its outcome (one of :data:`OUTCOMES`) and how long it took."""

    outcome: str = SUCCESS
    duration: float = 0.0
    #: The access rule that refused the user (outcome ``denied``), else None.
    rule: str | None = None

    @property
    def milliseconds(self) -> int:
        return round(self.duration * 1000)


def outcome_of(error: BaseException) -> str:
    """The outcome a validation that raised ``error`` counts as."""
    if isinstance(error, TicketValidationError):
        return REFUSED
    if isinstance(error, MalformedAnswer):
        return MALFORMED
    if isinstance(error, CASUnavailable):
        return UNAVAILABLE
    if isinstance(error, CASConfigurationError):
        return MISCONFIGURED
    return ERROR


@contextmanager
def measure_validation(
    sender: Any, service: str, request: HttpRequest | None = None
) -> Iterator[Measurement]:
    """Time the block that validates a ticket and report it once it ends.

    An exception leaving the block sets the outcome (and propagates); a caller that turns a
    refusal into a return value sets ``outcome`` itself. Never given the ticket.
    """
    measurement = Measurement()
    started = time.perf_counter()
    try:
        yield measurement
    except BaseException as error:
        measurement.outcome = outcome_of(error)
        raise
    finally:
        measurement.duration = time.perf_counter() - started
        if request is not None:
            setattr(request, REQUEST_ATTRIBUTE, measurement)
        _report(sender, measurement, service, str(request_config(request).version))


def _report(sender: Any, measurement: Measurement, service: str, version: str) -> None:
    """Send ``cas_ticket_validated``. ``send_robust``: a failing receiver is logged (by Django,
    on ``django.dispatch``) and never fails a sign-in."""
    cas_ticket_validated.send_robust(
        sender=sender,
        outcome=measurement.outcome,
        duration=measurement.duration,
        version=version,
        service=service,
        rule=measurement.rule,
    )


def log_fields(request: HttpRequest | None) -> str:
    """`` outcome=... ms=...`` of the request's last validation, for its log line; else ''."""
    measurement = getattr(request, REQUEST_ATTRIBUTE, None)
    if not isinstance(measurement, Measurement):
        return ""
    return f" outcome={measurement.outcome} ms={measurement.milliseconds}"
