"""Who may sign in, decided in settings from the CAS answer: ``CAS_ACCESS_RULES`` (attribute
values required or refused) and ``CAS_LONG_TERM_LOGIN`` (what a "remember me" sign-in may do).
See docs/identities.rst."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..conf import cas_settings
from .mirror import matches, released_values

__all__ = [
    "LONG_TERM_ATTRIBUTE",
    "LONG_TERM_RULE",
    "apply_session_limit",
    "is_long_term",
    "note_session_limit",
    "refusal_message",
    "refusing_rule",
]

#: The CAS 3 attribute Apereo CAS releases when the user ticked "remember me".
LONG_TERM_ATTRIBUTE = "longTermAuthenticationRequestTokenUsed"
#: The name a refusal by ``CAS_LONG_TERM_LOGIN = "refuse"`` is reported under.
LONG_TERM_RULE = "long-term sign-in"
#: Request attribute carrying the session life a long-term sign-in gets, until login.
_LIMIT_ATTRIBUTE = "_cas_ng_session_limit"


def is_long_term(attributes: Mapping[str, Any]) -> bool:
    """True when the answer says the sign-in reused a long-term ("remember me") token."""
    values = released_values(attributes, LONG_TERM_ATTRIBUTE)
    return any(value.strip().lower() == "true" for value in values)


def refusing_rule(attributes: Mapping[str, Any]) -> str | None:
    """The name of the first rule that refuses an answer with these attributes, or None.

    A rule refuses when an attribute of its ``require`` carries none of the listed values,
    or an attribute of its ``refuse`` carries one of them.
    """
    if cas_settings.long_term_login == "refuse" and is_long_term(attributes):
        return LONG_TERM_RULE
    for rule in cas_settings.access_rules:
        required = rule.get("require") or {}
        if any(not matches({name: values}, attributes) for name, values in required.items()):
            return str(rule["name"])
        if matches(rule.get("refuse") or {}, attributes):
            return str(rule["name"])
    return None


def refusal_message(rule: str) -> str:
    """The 403 page's text: it names the rule, never the values."""
    return _(
        "The CAS server signed you in, but this site's access rule “%(rule)s” does not let "
        "your account sign in. Contact the site's administrators if you think it should."
    ) % {"rule": rule}


def note_session_limit(request: HttpRequest | None, attributes: Mapping[str, Any]) -> None:
    """Remember, for :func:`apply_session_limit`, the shorter session a long-term sign-in gets."""
    limit = cas_settings.long_term_login
    if request is not None and isinstance(limit, int) and is_long_term(attributes):
        setattr(request, _LIMIT_ATTRIBUTE, limit)


def apply_session_limit(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: give the new session its shorter life (after Django's login
    has rotated or flushed the session)."""
    limit = getattr(request, _LIMIT_ATTRIBUTE, None)
    if request is not None and limit is not None:
        request.session.set_expiry(limit)
