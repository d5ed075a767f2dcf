"""Single-use tickets: a ticket this site accepted once is refused when presented again, on
any worker or node, before the CAS server is asked.

Some CAS servers (Apereo CAS with a stateless ticket registry) validate a ticket again until it
expires. Each accepted ticket is claimed with one ``INSERT`` of its keyed digest into
:class:`~django_cas_ng.models.UsedTicket`, whose primary key makes the second claim a no-op;
rows are kept for ``CAS_REPLAY_WINDOW`` seconds, then pruned.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ..conf import cas_settings
from ..exceptions import CASConfigurationError, CASUnavailable
from ..models import UsedTicket
from . import observe
from .slo import client_ip
from .urls import issuing_server_url

__all__ = ["claim", "digest", "release", "remove_expired", "unless_unavailable"]

#: Error code of a ticket refused because this site accepted it before.
REPLAYED = "TICKET_ALREADY_USED"
#: Seconds between two opportunistic prunes of expired rows in one process.
PRUNE_INTERVAL = 600.0
_next_prune: float | None = None


def digest(ticket: str, request: HttpRequest | None = None) -> str:
    """The keyed digest stored for ``ticket`` (HMAC-SHA256 under ``SECRET_KEY``), of the
    issuing server too when a site has several (a ticket is only unique at its server)."""
    server = issuing_server_url(request) if request is not None else None
    value = f"{server}\n{ticket}" if server else ticket
    return salted_hmac("django_cas_ng.replay", value, algorithm="sha256").hexdigest()


def claim(ticket: str, request: HttpRequest | None = None) -> bool:
    """Record ``ticket`` as used; False (and a log line) when it was presented here before.

    One statement: ``INSERT ... ON CONFLICT DO NOTHING`` (``INSERT IGNORE`` on MySQL), whose
    row count tells whether this request is the first to present the ticket.
    """
    window = cas_settings.replay_window
    if not window:
        return True
    expires = timezone.now() + timedelta(seconds=window)
    if _insert(digest(ticket, request), expires):
        _maybe_prune()
        return True
    observe.login.warning(
        "Refused ticket %s: it was already presented to this site (a replay) from %s",
        observe.redact(ticket),
        client_ip(request) if request is not None else "-",
    )
    return False


def release(ticket: str, request: HttpRequest | None = None) -> None:
    """Forget a claim whose validation never reached a verdict (CAS unreachable): the same
    ticket may be presented again."""
    UsedTicket.objects.filter(digest=digest(ticket, request)).delete()


@contextmanager
def unless_unavailable(ticket: str, request: HttpRequest | None = None) -> Iterator[None]:
    """Around a validation: when the CAS server cannot be asked (unreachable, or this site's
    configuration stops the call), give the claim back."""
    try:
        yield
    except (CASUnavailable, CASConfigurationError):
        release(ticket, request)
        raise


def remove_expired(dry_run: bool = False) -> int:
    """Delete (or, in a dry run, count) the rows past their window; returns how many."""
    rows = UsedTicket.objects.filter(expires__lt=timezone.now())
    removed: int = rows.count() if dry_run else rows.delete()[0]
    return removed


#: The claim's statement by database vendor, built on first use (None: through the ORM).
_insert_sql: dict[str, str | None] = {}


def _claim_sql(connection: Any) -> str | None:
    """``INSERT ... ON CONFLICT DO NOTHING`` (``INSERT IGNORE`` on MySQL) for ``connection``'s
    vendor; None where the ORM inserts instead."""
    vendor = connection.vendor
    if vendor not in _insert_sql:
        quote = connection.ops.quote_name
        table = quote(UsedTicket._meta.db_table)
        columns = f"({quote('digest')}, {quote('expires')})"
        # Only quoted identifiers of our own model are formatted in; the values are parameters.
        if vendor in ("postgresql", "sqlite"):
            sql = f"INSERT INTO {table} {columns} VALUES (%s, %s) ON CONFLICT DO NOTHING"  # noqa: S608
        elif vendor == "mysql":
            sql = f"INSERT IGNORE INTO {table} {columns} VALUES (%s, %s)"  # noqa: S608
        else:
            sql = None
        _insert_sql[vendor] = sql
    return _insert_sql[vendor]


def _insert(key: str, expires: datetime) -> bool:
    """Insert the row unless it exists; True when this call inserted it."""
    using = router.db_for_write(UsedTicket)
    connection = connections[using]
    sql = _claim_sql(connection)
    if sql is None:
        try:
            with transaction.atomic(using=using):
                UsedTicket.objects.using(using).create(digest=key, expires=expires)
        except IntegrityError:
            return False
        return True
    value = connection.ops.adapt_datetimefield_value(expires)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, value])
        return bool(cursor.rowcount == 1)


def _maybe_prune() -> None:
    """Remove expired rows at most once per ``PRUNE_INTERVAL`` in this process."""
    global _next_prune
    now = time.monotonic()
    if _next_prune is None:
        _next_prune = now + PRUNE_INTERVAL
    elif now >= _next_prune:
        _next_prune = now + PRUNE_INTERVAL
        remove_expired()
