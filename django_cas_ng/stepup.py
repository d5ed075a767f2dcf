"""Step-up sign-in: a view demands a fresh CAS authentication (``renew=true``) and the CAS 3
answer is checked (new login, recent ``authenticationDate``, required attribute values) before
the session counts as stepped up for ``max_age`` seconds."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, REDIRECT_FIELD_NAME, get_backends, load_backend
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from . import api
from ._internal import identities, login, observe, ratelimit, replay, responses, urls
from ._internal.observe import REFUSED, SUCCESS, log_fields, measure_validation
from ._internal.responses import gate, gated_dispatch
from ._internal.sessions import follow_session_key
from ._internal.tenancy import request_config
from ._internal.tickets import is_well_formed_ticket
from ._internal.urls import public_url
from .backends import CASBackend
from .client import get_cas_client, validate_ticket
from .conf import cas_settings
from .exceptions import CASNGError, TicketValidationError

__all__ = [
    "StepUpPolicy",
    "StepUpRefused",
    "StepUpRequiredMixin",
    "StepUpView",
    "check_answer",
    "has_fresh_stepup",
    "parse_cas_datetime",
    "stepup_required",
]

logger = logging.getLogger("django_cas_ng.stepup")

#: URL name of :class:`StepUpView`; the decorator reverses it.
STEPUP_URL_NAME = "cas_ng_stepup"
#: The session's record of its last step-up: user, time, parameters sent, attributes released.
SESSION_KEY = "_cas_stepup"
#: Policies of step-ups under way, by the id that travels in the step-up URL.
PENDING_SESSION_KEY = "_cas_stepup_pending"
#: Query parameter carrying that id.
PENDING_PARAM = "stepup"
#: How many step-ups may be under way at once per session (several tabs); oldest dropped.
MAX_PENDING = 5
#: How far the CAS server's clock may run ahead of ours.
CLOCK_SKEW = 60
#: Login parameters the step-up itself decides.
_RESERVED_PARAMS = frozenset({"service", "renew", "gateway", "ticket"})
_PENDING_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CAS_DATETIME_RE = re.compile(
    r"(?P<main>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<fraction>\d+))?"
    r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?"
    r"(?:\[[^\]]{1,64}\])?"
)
#: A date as epoch seconds (or milliseconds), as a JSON number reads: ``1709528767.891``.
_EPOCH_RE = re.compile(r"\d{9,13}(?:\.\d{1,9})?")


@dataclass(frozen=True)
class StepUpPolicy:
    """What a view demands: a sign-in at most ``max_age`` seconds old, the extra CAS login
    parameters to send, and the attribute values the answer must carry.

    In ``required_attributes`` a string value must be released as is; a collection of strings
    means any one of them is enough.
    """

    max_age: int = 300
    extra_params: Mapping[str, str] = field(default_factory=dict)
    required_attributes: Mapping[str, str | Collection[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.max_age, bool) or not isinstance(self.max_age, int):
            raise TypeError("max_age must be a number of seconds (int)")
        if self.max_age <= 0:
            raise ValueError("max_age must be positive")
        for name, value in dict(self.extra_params).items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError("extra_params must map strings to strings")
            if name in _RESERVED_PARAMS:
                raise ValueError(f"extra_params cannot set {name!r}: the step-up decides it")
        for name, accepted in dict(self.required_attributes).items():
            values = [accepted] if isinstance(accepted, str) else list(accepted)
            if (
                not isinstance(name, str)
                or not values
                or not all(isinstance(v, str) for v in values)
            ):
                raise TypeError(
                    "required_attributes must map attribute names to a string or a non-empty "
                    "collection of strings"
                )
        object.__setattr__(self, "extra_params", dict(self.extra_params))
        object.__setattr__(
            self,
            "required_attributes",
            {
                name: accepted if isinstance(accepted, str) else sorted(accepted)
                for name, accepted in dict(self.required_attributes).items()
            },
        )

    def accepted_values(self, name: str) -> set[str]:
        """The values of attribute ``name`` that satisfy this policy."""
        accepted = self.required_attributes[name]
        return {accepted} if isinstance(accepted, str) else set(accepted)

    def to_session(self) -> dict[str, Any]:
        return {
            "max_age": self.max_age,
            "extra_params": dict(self.extra_params),
            "required_attributes": dict(self.required_attributes),
        }

    @classmethod
    def from_session(cls, data: Any) -> StepUpPolicy | None:
        """The policy stored by :meth:`to_session`, or None if ``data`` is not one."""
        try:
            return cls(
                max_age=data["max_age"],
                extra_params=data["extra_params"],
                required_attributes=data["required_attributes"],
            )
        except (KeyError, TypeError, ValueError):
            return None


class StepUpRefused(Exception):
    """The CAS answer does not prove the fresh sign-in the view demands; the message says why."""


# --- Freshness: does this session already carry a good enough step-up? -------------------


def expected_username(user: Any) -> str:
    """The name CAS must report for ``user``: ``CAS_LOCAL_NAME_FIELD`` if set, else username."""
    field_name = cas_settings.local_name_field
    return str(getattr(user, field_name) if field_name else user.get_username())


def _released_values(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(v) for v in values if v is not None]


def missing_attribute(policy: StepUpPolicy, attributes: Mapping[str, Any]) -> str | None:
    """The first required attribute whose released values satisfy nothing, or None."""
    for name in policy.required_attributes:
        if not policy.accepted_values(name) & set(_released_values(attributes.get(name))):
            return name
    return None


def has_fresh_stepup(request: HttpRequest, policy: StepUpPolicy) -> bool:
    """True when this session's last step-up is this user's, recent enough and as demanding."""
    record = request.session.get(SESSION_KEY)
    if not isinstance(record, dict):
        return False
    try:
        age = time.time() - float(record["at"])
        same_user = record["user"] == expected_username(request.user) and (
            record.get("server", "") == identities.identity_server(request)
        )
        params = dict(record["params"])
        attributes = dict(record["attributes"])
    except (KeyError, TypeError, ValueError):
        return False
    if not same_user or not 0 <= age <= policy.max_age:
        return False
    if any(params.get(name) != value for name, value in policy.extra_params.items()):
        return False
    return missing_attribute(policy, attributes) is None


def require_cas_3(request: HttpRequest | None = None) -> None:
    """Step-up needs the CAS 3 attributes ``isFromNewLogin`` and ``authenticationDate``."""
    version = request_config(request).version
    if version != "3":
        raise ImproperlyConfigured(
            f"Step-up sign-in needs CAS_VERSION = '3' (it is {version!r}): only "
            "CAS 3 answers say whether and when the user signed in again."
        )


def stepup_url(request: HttpRequest, policy: StepUpPolicy, next_page: str | None = None) -> str:
    """The step-up view's URL for this request, remembering ``policy`` in the session; the
    browser comes back to ``next_page`` (default: this request's URL)."""
    pending = request.session.get(PENDING_SESSION_KEY)
    pending = dict(pending) if isinstance(pending, dict) else {}
    pending_id = secrets.token_urlsafe(9)
    pending[pending_id] = policy.to_session()
    while len(pending) > MAX_PENDING:
        del pending[next(iter(pending))]
    request.session[PENDING_SESSION_KEY] = pending
    if next_page is None:
        next_page = request.get_full_path()
    query = urlencode({REDIRECT_FIELD_NAME: next_page, PENDING_PARAM: pending_id})
    return f"{reverse(STEPUP_URL_NAME)}?{query}"


def login_redirect(request: HttpRequest, next_page: str | None = None) -> HttpResponseBase:
    """Send an anonymous user to ``settings.LOGIN_URL`` with ``next`` (default: this URL), as
    ``login_required``; an API client gets the 401 naming the CAS login URL instead."""
    from django.contrib.auth.views import redirect_to_login

    next_page = request.get_full_path() if next_page is None else next_page
    redirect = redirect_to_login(next_page, resolve_url(settings.LOGIN_URL))
    return responses.sign_in_required(request, redirect["Location"])


def stepup_redirect(request: HttpRequest, policy: StepUpPolicy) -> HttpResponseBase:
    """Send a signed-in user to step up; an API client gets a 401 naming the step-up URL
    (``error="insufficient_user_authentication"``), which the browser can be sent to."""
    if responses.is_api_request(request):
        next_page = responses.return_path(request)
        url = urls.absolute_site_url(request, stepup_url(request, policy, next_page))
        return responses.sign_in_unauthorized(
            request,
            url,
            next_page=next_page,
            error=api.STEPUP_ERROR,
            detail=_("This action needs a fresh sign-in."),
            code=responses.STEPUP_REQUIRED,
            extra={"max_age": policy.max_age},
        )
    response = HttpResponseRedirect(stepup_url(request, policy))
    add_never_cache_headers(response)
    return responses.vary_on_api_headers(response)


def stepup_response(request: HttpRequest, policy: StepUpPolicy) -> HttpResponseBase | None:
    """None when the request may go through; else the redirect to sign in or to step up."""
    require_cas_3(request)
    if not request.user.is_authenticated:
        return login_redirect(request)
    if has_fresh_stepup(request, policy):
        return None
    return stepup_redirect(request, policy)


# --- The decorator and the mixin ----------------------------------------------------------


def stepup_required(
    view: Callable[..., Any] | None = None,
    *,
    max_age: int = 300,
    extra_params: Mapping[str, str] | None = None,
    required_attributes: Mapping[str, str | Collection[str]] | None = None,
) -> Any:
    """Let a request through only after a fresh CAS sign-in (sync and async views).

    Usable bare (``@stepup_required``) or with arguments (``@stepup_required(max_age=60)``).
    """
    policy = StepUpPolicy(
        max_age=max_age,
        extra_params=extra_params or {},
        required_attributes=required_attributes or {},
    )

    decorator = gate(partial(stepup_response, policy=policy))
    return decorator(view) if view is not None else decorator


class StepUpRequiredMixin:
    """Class-based view mixin: the view's handlers run only after a fresh CAS sign-in."""

    stepup_max_age: int = 300
    stepup_extra_params: Mapping[str, str] | None = None
    stepup_required_attributes: Mapping[str, str | Collection[str]] | None = None

    def get_stepup_policy(self) -> StepUpPolicy:
        """The policy built from the ``stepup_*`` attributes; override to decide per request."""
        return StepUpPolicy(
            max_age=self.stepup_max_age,
            extra_params=self.stepup_extra_params or {},
            required_attributes=self.stepup_required_attributes or {},
        )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        policy = self.get_stepup_policy()
        parent = super()
        return gated_dispatch(
            self,
            request,
            partial(stepup_response, policy=policy),
            lambda: parent.dispatch(request, *args, **kwargs),  # type: ignore[attr-defined]
        )


# --- Checking the CAS answer ----------------------------------------------------------------


def parse_cas_datetime(value: str) -> datetime:
    """An ISO 8601 time as CAS servers send it ('Z' or an offset, any fraction, Apereo's
    ``[UTC]`` zone suffix); a time without offset is taken as UTC. ValueError otherwise."""
    match = _CAS_DATETIME_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 date and time: {value[:64]!r}")
    text = match["main"].replace(" ", "T")
    fraction = match["fraction"]
    if fraction:
        text += "." + (fraction + "000000")[:6]
    offset = match["offset"]
    if offset and offset != "Z":
        hours_minutes = offset[1:].replace(":", "")
        offset = f"{offset[0]}{hours_minutes[:2]}:{hours_minutes[2:] or '00'}"
    text += "+00:00" if not offset or offset == "Z" else offset
    return datetime.fromisoformat(text)


def authentication_timestamp(value: str) -> float:
    """Epoch seconds of an ``authenticationDate``: ISO 8601 as :func:`parse_cas_datetime` reads
    it, or a number of epoch seconds (milliseconds from 10**11 on), as Apereo CAS 6's JSON
    view writes a date. ValueError otherwise."""
    text = value.strip()
    if _EPOCH_RE.fullmatch(text):
        seconds = float(text)
        return seconds / 1000 if seconds >= 1e11 else seconds
    return parse_cas_datetime(text).timestamp()


def cas_backend(request: HttpRequest) -> Any:
    """The backend that maps CAS names to users: the session's, else the first CASBackend."""
    path = request.session.get(BACKEND_SESSION_KEY)
    if isinstance(path, str):
        try:
            backend = load_backend(path)
        except ImportError:
            backend = None
        if isinstance(backend, CASBackend):
            return backend
    for backend in get_backends():
        if isinstance(backend, CASBackend):
            return backend
    return CASBackend()


def answer_username(
    request: HttpRequest, username: str | None, attributes: Mapping[str, Any]
) -> str | None:
    """The CAS answer's user name as the backend maps it (username attribute, case)."""
    backend = cas_backend(request)
    backend._request = request
    name = backend.get_username(username, attributes)
    if name and identities.has_control_characters(name):
        observe.login.warning("Refused the CAS username %r: it has a control character", name)
        return None
    return backend.clean_username(name) if name else None


def check_answer(
    request: HttpRequest,
    username: str | None,
    attributes: Mapping[str, Any],
    policy: StepUpPolicy,
    now: float | None = None,
) -> float:
    """Raise :class:`StepUpRefused` unless the answer proves a fresh sign-in of this user that
    meets ``policy``; return the authentication time (epoch seconds, not after ``now``)."""
    now = time.time() if now is None else now
    _require_same_user(request, username, attributes)
    _require_new_login(attributes)
    authenticated_at = _authentication_time(attributes)
    _require_fresh(authenticated_at, now, policy.max_age)
    missing = missing_attribute(policy, attributes)
    if missing is not None:
        raise StepUpRefused(
            _(
                "The CAS server did not confirm the kind of sign-in this page needs "
                "(attribute %(attribute)s)."
            )
            % {"attribute": missing}
        )
    return min(authenticated_at, now)


def is_signed_in_user(
    request: HttpRequest, username: str | None, attributes: Mapping[str, Any]
) -> bool:
    """True when a CAS answer names the user signed in to this site: by (server, id) with
    several servers or a stable id (a reused name is another person), else by name."""
    name = answer_username(request, username, attributes)
    if not name:  # none, or one clean_username refused
        return False
    if identities.in_use():
        renamed = cas_backend(request).rename_attributes(dict(attributes))
        return bool(identities.user_of_answer(request, name, renamed) == request.user.pk)
    # A 5.1 account may hold the decomposed form of the (composed) name.
    return expected_username(request.user) in identities.name_forms(name)


def _require_same_user(
    request: HttpRequest, username: str | None, attributes: Mapping[str, Any]
) -> None:
    """The answer names the user already signed in to this site."""
    if not is_signed_in_user(request, username, attributes):
        raise StepUpRefused(
            _("You signed in again as a different user from the one signed in to this site.")
        )


def _require_new_login(attributes: Mapping[str, Any]) -> None:
    """The server says the credentials were just entered, not an earlier sign-in reused."""
    new_login = _released_values(attributes.get("isFromNewLogin"))
    if not new_login or any(value.strip().lower() != "true" for value in new_login):
        raise StepUpRefused(
            _(
                "The CAS server did not confirm that you just entered your credentials again; "
                "it reused an earlier sign-in."
            )
        )


def _authentication_time(attributes: Mapping[str, Any]) -> float:
    """The earliest ``authenticationDate`` released, in epoch seconds."""
    dates = _released_values(attributes.get("authenticationDate"))
    try:
        return min(authentication_timestamp(value) for value in dates)
    except ValueError:
        raise StepUpRefused(
            _("The CAS server did not say when you signed in, so this page cannot check it.")
        ) from None


def _require_fresh(authenticated_at: float, now: float, max_age: int) -> None:
    """The sign-in happened within ``max_age`` seconds, and not in the future."""
    if authenticated_at > now + CLOCK_SKEW:
        raise StepUpRefused(
            _("The CAS server reported a sign-in time in the future; its clock may be wrong.")
        )
    if now - authenticated_at > max_age:
        raise StepUpRefused(
            _(
                "Your sign-in at the CAS server is older than the %(max_age)d seconds this page "
                "allows. Please sign in again."
            )
            % {"max_age": max_age}
        )


def record_stepup(
    request: HttpRequest, policy: StepUpPolicy, attributes: Mapping[str, Any], at: float
) -> None:
    """Remember the step-up: later requests within ``max_age`` need no CAS round trip."""
    request.session[SESSION_KEY] = {
        "user": expected_username(request.user),
        "server": identities.identity_server(request),
        "at": at,
        "params": dict(policy.extra_params),
        "attributes": {
            name: _released_values(attributes.get(name)) for name in policy.required_attributes
        },
    }


def renew_session_key(request: HttpRequest) -> None:
    """A new key for the stepped-up session, as a sign-in gets one: a copy of the cookie taken
    before stays below the step-up. The Single Logout mapping (and PGT) follow the new key."""
    request.session.cycle_key()
    follow_session_key(request)


# --- The view -------------------------------------------------------------------------------


def pending_policy(request: HttpRequest) -> tuple[str | None, StepUpPolicy]:
    """The step-up under way named in the query (its id if well formed), or the default."""
    pending_id = request.GET.get(PENDING_PARAM)
    if not pending_id or not _PENDING_ID_RE.fullmatch(pending_id):
        return None, StepUpPolicy()
    pending = request.session.get(PENDING_SESSION_KEY)
    data = pending.get(pending_id) if isinstance(pending, dict) else None
    return pending_id, StepUpPolicy.from_session(data) or StepUpPolicy()


@method_decorator([login_not_required, never_cache], name="dispatch")
class StepUpView(View):
    """Sends a signed-in user to CAS with ``renew=true`` and checks the answer it brings back."""

    http_method_names = ["get", "head", "options"]
    template_name = "django_cas_ng/stepup_failed.html"
    unavailable_template_name = "django_cas_ng/unavailable.html"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return self.step_up(request)
        except CASNGError as error:
            return responses.for_error(
                request, error, unavailable_template=self.unavailable_template_name
            )

    @observe.hide_secrets
    def step_up(self, request: HttpRequest) -> HttpResponseBase:
        """Send the user to CAS, or check the ticket it brings back and go to ``next``."""
        require_cas_3(request)
        if not request.user.is_authenticated:
            # Back to the page, not here: a pending step-up (and any ticket) was this session's.
            return login_redirect(request, self.landing(request))
        pending_id, policy = pending_policy(request)
        landing = self.landing(request)
        ticket = request.GET.get("ticket")
        try:
            service_url = self.service_url(request, landing, pending_id)
            if not ticket:
                service_url = self.with_new_nonce(request, service_url)
                return HttpResponseRedirect(self.cas_login_url(request, service_url, policy))
            service_url = self.with_claimed_nonce(request, ticket, service_url)
            at, attributes = self.validate(request, ticket, service_url, policy)
        except StepUpRefused as refusal:
            return self.refused(request, str(refusal), landing, pending_id)
        record_stepup(request, policy, attributes, at)
        renew_session_key(request)
        pending = request.session.get(PENDING_SESSION_KEY)
        if isinstance(pending, dict) and pending_id in pending:
            request.session[PENDING_SESSION_KEY] = {
                key: value for key, value in pending.items() if key != pending_id
            }
        logger.info(
            "Step-up of %s (ticket %s)", request.user.get_username(), observe.redact(ticket)
        )
        return HttpResponseRedirect(landing)

    def landing(self, request: HttpRequest) -> str:
        """The safe ``next`` target, else ``CAS_REDIRECT_URL``."""
        target = urls.safe_or_none(request, request.GET.get(REDIRECT_FIELD_NAME), "next")
        return target or urls.default_landing(request)

    def service_url(self, request: HttpRequest, landing: str, pending_id: str | None) -> str:
        """This view's public URL with the landing page and the step-up id, never the ticket."""
        params = {REDIRECT_FIELD_NAME: landing}
        if pending_id:
            params[PENDING_PARAM] = pending_id
        return f"{public_url(request, request.path)}?{urlencode(params)}"

    def with_new_nonce(self, request: HttpRequest, service_url: str) -> str:
        """With ``CAS_LOGIN_NONCE``, ``service_url`` carrying a nonce this session now holds."""
        return login.issue_nonce(request, service_url) if cas_settings.login_nonce else service_url

    def with_claimed_nonce(self, request: HttpRequest, ticket: str, service_url: str) -> str:
        """With ``CAS_LOGIN_NONCE``, the service URL the ticket came for, carrying this
        session's nonce; a ticket link from another browser is refused without asking CAS."""
        if not cas_settings.login_nonce:
            return service_url
        nonce = login.claim_nonce(request)
        if nonce is None:
            logger.warning(
                "Refused step-up ticket %s: no nonce of this session", observe.redact(ticket)
            )
            raise StepUpRefused(_("This sign-in was not started in this browser."))
        return login.with_nonce(service_url, nonce)

    def cas_login_url(self, request: HttpRequest, service_url: str, policy: StepUpPolicy) -> str:
        """The CAS login URL with ``renew=true`` and the policy's extra parameters."""
        client = get_cas_client(service_url, request)
        client.renew = True
        client.extra_login_params.pop("gateway", None)
        client.extra_login_params.pop("method", None)  # the step-up view reads GET tickets
        client.extra_login_params.update(policy.extra_params)
        return str(client.get_login_url())

    def validate(
        self, request: HttpRequest, ticket: str, service_url: str, policy: StepUpPolicy
    ) -> tuple[float, dict[str, Any]]:
        """Validate ``ticket`` with ``renew=true`` and check the answer: sign-in time and
        released attributes."""
        if not is_well_formed_ticket(ticket):
            logger.warning("Refused a malformed step-up ticket %s", observe.redact(ticket[:64]))
            raise StepUpRefused(_("The sign-in ticket is malformed."))
        ratelimit.hit(request, ratelimit.TICKET)
        try:
            if not replay.claim(ticket, request):
                raise TicketValidationError("already used", code=replay.REPLAYED)
            with replay.unless_unavailable(ticket, request):
                username, attributes = self.validate_at_cas(request, ticket, service_url)
        except TicketValidationError as refusal:
            logger.warning(
                "CAS refused step-up ticket %s: %s %s%s",
                observe.redact(ticket),
                refusal.code,
                observe.mask(str(refusal), ticket),
                log_fields(request),
            )
            raise StepUpRefused(
                _(
                    "The CAS server did not accept the sign-in ticket. It may have expired or "
                    "already been used."
                )
            ) from None
        try:
            return check_answer(request, username, attributes, policy), attributes
        except StepUpRefused as refusal:
            logger.warning("Refused step-up of %s: %s", request.user.get_username(), refusal)
            raise

    def validate_at_cas(
        self, request: HttpRequest, ticket: str, service_url: str
    ) -> tuple[str | None, dict[str, Any]]:
        """Ask the CAS server with ``renew=true``: (username, attributes); measured and
        reported as ``cas_ticket_validated`` with sender ``'stepup'``."""
        with measure_validation("stepup", service_url, request) as measurement:
            client = get_cas_client(service_url, request)
            client.renew = True
            client.proxy_callback = None  # type: ignore[attr-defined]
            username, attributes, _pgtiou = validate_ticket(client, ticket)
            measurement.outcome = SUCCESS if username else REFUSED
        return username, attributes

    def refused(
        self, request: HttpRequest, reason: str, landing: str, pending_id: str | None
    ) -> HttpResponse:
        """The 403 page saying why, with a link to try again (JSON for an API request)."""
        if responses.is_api_request(request):
            return responses.forbidden(request, reason, responses.STEPUP_REFUSED)
        params = {REDIRECT_FIELD_NAME: landing}
        if pending_id:
            params[PENDING_PARAM] = pending_id
        retry_url = f"{request.path}?{urlencode(params)}"
        context = {
            "reason": reason,
            "retry_url": retry_url,
            "home_url": urls.default_landing(request),
        }
        response = responses.refused_page(request, self.template_name, context)
        responses.vary_on_api_headers(response)
        return response
