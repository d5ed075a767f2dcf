"""The access logs of the servers a site runs the package under (uvicorn, gunicorn,
hypercorn) print each request line: a ticket in a login URL is redacted there too, and the
servers' own formatters still format the line."""

from __future__ import annotations

import logging

from uvicorn.logging import AccessFormatter

from django_cas_ng._internal.observe import install_redaction

TICKET = "ST-41-a7Gq9wLmX3vPz2Rk8TyB-cas.example.org"
PATH = f"/accounts/login/?next=%2F&ticket={TICKET}"
GUNICORN_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def record(name: str, msg: str, args: object) -> logging.LogRecord:
    """A record as ``logging.getLogger(name).info(msg, args)`` makes it, filtered by that logger."""
    made = logging.getLogger(name).makeRecord(name, logging.INFO, __file__, 1, msg, (args,), None)
    if isinstance(args, tuple):
        made.args = args
    install_redaction()
    assert logging.getLogger(name).filter(made)
    return made


def test_uvicorns_access_line_carries_no_ticket() -> None:
    line = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:51234", "GET", PATH, "1.1", 302),
    )
    text = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(line)
    assert TICKET not in text
    assert "/accounts/login/?next=%2F&ticket=ST-4" in text


def test_gunicorns_access_line_carries_no_ticket() -> None:
    atoms = {
        "h": "203.0.113.7",
        "l": "-",
        "u": "-",
        "t": "[03/Dec/2026:10:00:00 +0000]",
        "r": f"GET {PATH} HTTP/1.1",
        "q": f"next=%2F&ticket={TICKET}",
        "s": "302",
        "b": "0",
        "f": f"https://app.example.org{PATH}",
        "a": "Mozilla/5.0",
    }
    line = record("gunicorn.access", GUNICORN_FORMAT, atoms)
    text = logging.Formatter("%(message)s").format(line)
    assert TICKET not in text
    assert text.startswith('203.0.113.7 - - [03/Dec/2026:10:00:00 +0000] "GET /accounts/login/')


def test_hypercorns_access_line_carries_no_ticket() -> None:
    atoms = {"h": "203.0.113.7", "r": f"GET {PATH} HTTP/1.1", "s": 302}
    line = record("hypercorn.access", '%(h)s "%(r)s" %(s)s', atoms)
    assert TICKET not in logging.Formatter("%(message)s").format(line)


def test_an_access_line_without_a_ticket_is_left_as_it_was() -> None:
    args = ("203.0.113.7:51234", "GET", "/private/?page=2", "1.1", 200)
    line = record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', args)
    assert line.args == args
