"""The ``django_cas_ng.*`` logger hierarchy and the rule that secrets never reach a log line."""

from __future__ import annotations

import logging
import re

login = logging.getLogger("django_cas_ng.login")
logout = logging.getLogger("django_cas_ng.logout")
slo = logging.getLogger("django_cas_ng.slo")
client = logging.getLogger("django_cas_ng.client")
proxy = logging.getLogger("django_cas_ng.proxy")
redirects = logging.getLogger("django_cas_ng.redirects")
_OWN = (login, logout, slo, client, proxy, redirects)

#: Loggers of the libraries that see our URLs and answers: urllib3 logs each request line
#: (``?ticket=ST-...``, ``/proxy?pgt=PGT-...``) and python-cas the whole validation answer.
LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests", "cas")

_SECRETS = re.compile(
    r"(?P<param>\b(?:ticket|pgt|pgtIou|pgtId)=)(?P<value>[^&\s\"'<>]+)"
    r"|(?P<token>\b(?:PGTIOU|PGT|TGT|ST|PT)-[A-Za-z0-9._~+/=:%-]+)"
)


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
    """Redacts tickets and PGTs in a record's message; a raw CAS answer is withheld whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "cas" and isinstance(record.args, tuple):
            record.args = tuple(_withheld(arg) for arg in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact_secrets(message), None
        return True


def _withheld(arg: object) -> object:
    """A CAS answer (XML, as bytes or text) replaced by its size: it carries the attributes."""
    if isinstance(arg, bytes | bytearray) or (isinstance(arg, str) and arg.lstrip()[:1] == "<"):
        return f"<answer of {len(arg)} bytes withheld>"
    return arg


def install_redaction() -> None:
    """Put :class:`RedactSecrets` on our loggers and the libraries' (once; at app ready)."""
    for logger in [*map(logging.getLogger, LIBRARY_LOGGERS), *_OWN]:
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
