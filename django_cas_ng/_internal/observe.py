"""What an operator sees: the ``django_cas_ng.*`` loggers, the rule that secrets never reach a
log line, and each ticket validation's outcome and latency (the ``cas_ticket_validated`` signal
for metrics libraries, and the fields of the log line)."""

from __future__ import annotations

import copy as _copy
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, QueryDict
from django.views import debug
from django.views.decorators.debug import sensitive_variables

from ..exceptions import (
    CASConfigurationError,
    CASUnavailable,
    MalformedAnswer,
    TicketValidationError,
)
from ..signals import cas_ticket_validated
from .tenancy import request_config

# --- Loggers, and no secret in any of their lines ----------------------------------------------

login = logging.getLogger("django_cas_ng.login")
logout = logging.getLogger("django_cas_ng.logout")
slo = logging.getLogger("django_cas_ng.slo")
client = logging.getLogger("django_cas_ng.client")
proxy = logging.getLogger("django_cas_ng.proxy")
redirects = logging.getLogger("django_cas_ng.redirects")
#: The step-up view's logger (``stepup.logger``), named here so it gets the same filter.
stepup = logging.getLogger("django_cas_ng.stepup")
_OWN = (login, logout, slo, client, proxy, redirects, stepup)

#: Loggers of the libraries that see our URLs and answers: urllib3 logs each request line
#: (``?ticket=ST-...``, ``/proxy?pgt=PGT-...``) and python-cas the whole validation answer.
LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests", "cas")
#: Django's loggers that see the request's query: ``django.request`` passes the request of each
#: 4xx/5xx answer to handlers (the admins' e-mail prints its URL and parameters), and
#: ``django.server`` (runserver) logs each request line.
DJANGO_LOGGERS = ("django.request", "django.server")
#: Access loggers of the servers a site runs under: each prints the request line, whose query
#: holds a login's ticket. Their formatters read the record's arguments, so those are redacted
#: in place rather than folded into the message.
ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access", "hypercorn.access")
#: Query and form parameters whose values are secrets whatever they look like.
SECRET_PARAMS = frozenset({"ticket", "pgt", "pgtIou", "pgtId"})
#: Form parameters hidden from error reports (``sensitive_post_parameters``): the ticket the
#: CAS server posts, and a logout request, whose ``SessionIndex`` is a service ticket.
SECRET_POST_PARAMS = ("ticket", "logoutRequest")
#: Local variables hidden from error reports (``sensitive_variables``) in the frames of a
#: sign-in, a proxy ticket, the PGT callback and Single Logout, and every frame they call:
#: tickets, PGTs and IOUs, a session key, a logout request's XML, a signal's arguments
#: (``named`` in ``Signal.send``, ``kwargs`` in a receiver) and a query's ``params``.
SECRET_VARIABLES = (
    "ticket",
    "tickets",
    "pgt",
    "pgts",
    "pgtiou",
    "pgt_iou",
    "session_key",
    "answer",
    "xml",
    "named",
    "kwargs",
    "params",
)
#: Decorates the outermost frame of ours holding a secret: Django's filter hides
#: :data:`SECRET_VARIABLES` there and in every frame it calls (when ``DEBUG`` is off).
hide_secrets = sensitive_variables(*SECRET_VARIABLES)

_SECRETS = re.compile(
    r"(?P<param>\b(?:ticket|pgt|pgtIou|pgtId)=)(?P<value>[^&\s\"'<>]+)"
    r"|(?P<token>\b(?:PGTIOU|PGT|TGT|ST|PT)-[A-Za-z0-9._~+/=:%-]+)"
)


#: Characters that would start a new line (or hide one) in a log file: C0/C1 controls, DEL and
#: the Unicode line and paragraph separators.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with every control character escaped (``\\n``, ``\\x1b``): a value a CAS
    server or browser sent (a username, a URL) cannot forge another log line."""
    return _LINE_BREAKING.sub(lambda match: match.group(0).encode("unicode_escape").decode(), text)


def mask(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by its redacted form."""
    return text.replace(secret, redact(secret)) if secret else text


def redact(ticket: str | None) -> str:
    """Show enough of a ticket to correlate log lines, never enough to replay it."""
    if not ticket:
        return "-"
    prefix, _, rest = ticket.partition("-")
    if not rest:
        return "*" * min(len(ticket), 8)
    return f"{prefix}-{rest[:4]}…"


def redact_secrets(text: str) -> str:
    """``text`` with every ticket, PGT and PGTIOU (as a query value or a token) redacted."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0).endswith("…") or match.string[match.end() : match.end() + 1] == "…":
            return match.group(0)  # already redacted
        if match.group("token"):
            return redact(match.group("token"))
        return match.group("param") + redact(match.group("value"))

    return _SECRETS.sub(replace, text)


class RedactSecrets(logging.Filter):
    """Redacts tickets and PGTs in a record's message and its request (:func:`without_secrets`),
    a raw CAS answer withheld whole, and keeps the message on one line (:func:`one_line`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in ACCESS_LOGGERS:
            record.args = _redacted_args(record.args)
            return True
        if record.name == "cas" and isinstance(record.args, tuple):
            record.args = tuple(_withheld(arg) for arg in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = one_line(redact_secrets(message)), None
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record.request = without_secrets(request)
        return True


def _redacted_args(args: Any) -> Any:
    """A record's arguments (a tuple, or gunicorn's mapping of atoms, kept of its own type)
    with tickets and PGTs redacted in each text."""
    if isinstance(args, tuple):
        return tuple(redact_secrets(a) if isinstance(a, str) else a for a in args)
    if isinstance(args, dict):
        for name, value in list(dict.items(args)):
            if isinstance(value, str):
                args[name] = redact_secrets(value)
    return args


def without_secrets(request: HttpRequest) -> HttpRequest:
    """A copy of ``request`` for a log record, its query and an already read form redacted (a
    ticket still good for a retry after a 503 is in them); ``request`` itself is untouched."""
    query = str(request.META.get("QUERY_STRING", ""))
    post = request.__dict__.get("_post")  # never read the body here
    if not _SECRETS.search(query) and not (isinstance(post, QueryDict) and _has_secret(post)):
        return request
    copy = _copy.copy(request)
    # The frames of an error report hold the request itself: its repr quotes the query.
    copy.exception_reporter_filter = _RedactingFilter(  # type: ignore[assignment]
        debug.get_exception_reporter_filter(request), secrets_of(request)
    )
    copy.META = {**request.META, "QUERY_STRING": redact_secrets(query)}
    try:
        copy.GET = _redacted(request.GET)
    except Exception:  # a query Django refuses to read (too many fields): show none of it
        copy.GET = QueryDict()
    if isinstance(post, QueryDict):
        copy.POST = _redacted(post)
    return copy


def _has_secret(params: QueryDict) -> bool:
    return any(
        name in SECRET_PARAMS or any(_SECRETS.search(value) for value in values)
        for name, values in params.lists()
    )


def _redacted(params: QueryDict, secrets: frozenset[str] = frozenset()) -> Any:
    """A copy of ``params`` with secret values redacted (the stubs want it immutable)."""
    clean = params.copy()
    for name, values in params.lists():
        secret = name in SECRET_PARAMS
        clean.setlist(name, [redact(v) if secret else scrubbed(v, secrets) for v in values])
    return clean


def _withheld(arg: object) -> object:
    """A CAS answer (XML, as bytes or text) replaced by its size: it carries the attributes."""
    if isinstance(arg, bytes | bytearray) or (isinstance(arg, str) and arg.lstrip()[:1] == "<"):
        return f"<answer of {len(arg)} bytes withheld>"
    return arg


def secrets_of(request: HttpRequest) -> frozenset[str]:
    """The secret values ``request`` carries: its ticket, PGT and IOU parameters (the form only
    when already read) and an ``Authorization: CAS`` ticket."""
    found: set[str] = set()
    sources: list[Any] = [request.__dict__.get("_post")]
    with suppress(Exception):  # a query Django refuses to read: its tokens are still redacted
        sources.append(request.GET)
    for params in sources:
        if isinstance(params, QueryDict):
            found.update(v for name in SECRET_PARAMS for v in params.getlist(name) if v)
    scheme, _, credentials = str(request.META.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() == "cas" and credentials.strip():
        found.add(credentials.strip())
    return frozenset(found)


def scrubbed(text: str, secrets: frozenset[str] = frozenset()) -> str:
    """``text`` with ``secrets`` and every ticket, PGT and PGTIOU redacted."""
    for secret in secrets:
        text = mask(text, secret)
    return redact_secrets(text)


class _Shown:
    """A value shown by its redacted repr in an error report."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _RedactingFilter:
    """An exception reporter filter (the site's, wrapped) whose report shows no ticket, PGT or
    IOU: frame variables named in :data:`SECRET_VARIABLES` are hidden and every other value,
    the form and ``META`` are redacted by value, in ``DEBUG`` too."""

    def __init__(self, inner: Any, secrets: frozenset[str] = frozenset()) -> None:
        self.inner = inner
        self.secrets = secrets

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        meta = self.inner.get_safe_request_meta(request)
        return {name: self._value(value) for name, value in meta.items()}

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        params = self.inner.get_post_parameters(request)
        return _redacted(params, self.secrets) if isinstance(params, QueryDict) else params

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        substitute = getattr(self.inner, "cleansed_substitute", "********************")
        return [
            (name, substitute if name in SECRET_VARIABLES else self._value(value))
            for name, value in self.inner.get_traceback_frame_variables(request, tb_frame)
        ]

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return scrubbed(value, self.secrets)
        try:
            text = repr(value)
        except Exception:  # Django's report shows such a value as the error its repr raised
            return value
        clean = scrubbed(text, self.secrets)
        return value if clean == text else _Shown(clean)


class RedactingExceptionReporter(debug.ExceptionReporter):
    """Django's exception reporter (the 500 page, the ADMINS e-mail) showing no CAS ticket,
    PGT or IOU anywhere: URL, query, form, ``META``, frame variables and the error's text."""

    def __init__(
        self,
        request: HttpRequest | None,
        exc_type: Any,
        exc_value: Any,
        tb: Any,
        is_email: bool = False,
    ) -> None:
        secrets = frozenset() if request is None else secrets_of(request)
        if request is not None:
            request = without_secrets(request)
        super().__init__(request, exc_type, exc_value, tb, is_email)
        if not isinstance(self.filter, _RedactingFilter):
            self.filter = _RedactingFilter(self.filter, secrets)  # type: ignore[assignment]

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        secrets: frozenset[str] = getattr(self.filter, "secrets", frozenset())
        for key in ("exception_value", "exception_notes"):
            if isinstance(data.get(key), str):
                data[key] = scrubbed(data[key], secrets)
        return data


def install_redaction() -> None:
    """Put :class:`RedactSecrets` on our loggers, the libraries', Django's request loggers and
    the servers' access loggers (once; at app ready)."""
    names = (*LIBRARY_LOGGERS, *DJANGO_LOGGERS, *ACCESS_LOGGERS)
    for logger in [*map(logging.getLogger, names), *_OWN]:
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


# --- Each validation measured ----------------------------------------------------------------
__all__ = [
    "DENIED",
    "ERROR",
    "MALFORMED",
    "MISCONFIGURED",
    "OUTCOMES",
    "REFUSED",
    "SECRET_POST_PARAMS",
    "SECRET_VARIABLES",
    "SUCCESS",
    "UNAVAILABLE",
    "Measurement",
    "RedactingExceptionReporter",
    "hide_secrets",
    "install_redaction",
    "log_fields",
    "mask",
    "measure_validation",
    "one_line",
    "outcome_of",
    "redact",
    "redact_secrets",
    "scrubbed",
    "secrets_of",
    "without_secrets",
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
