"""What a CAS ticket may look like, checked before anything is sent or stored."""

from __future__ import annotations

import re

#: CAS 3.0 allows [A-Za-z0-9-]; JWT and base64 tickets add a few more. Anything else (XML
#: specials, whitespace, over 1024 characters) is refused unsent.
TICKET_RE = re.compile(r"[A-Za-z0-9._~+/=:-]{1,1024}")


def is_well_formed_ticket(ticket: str) -> bool:
    """True when ``ticket`` could have been issued by a CAS server."""
    return TICKET_RE.fullmatch(ticket) is not None
