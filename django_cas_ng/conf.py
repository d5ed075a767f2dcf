"""Every ``CAS_*`` setting, declared once: name, default, coercion, type rule and one-line doc.

Each ``Setting`` below is at the same time the typed accessor ``cas_settings.<name>``, the
entry of ``REGISTRY`` that the E009 system check walks, and the list that
``tests/test_conf.py`` compares with ``docs/settings.rst``. Values are read through
``getattr(django.conf.settings, NAME, default)`` and cached per process, raw and coerced (a
lazy text is coerced at each read), until Django sends ``setting_changed``
(``override_settings``, pytest-django's ``settings`` fixture), so a change is seen on the
next read. Nothing is read at import and nothing is written into ``django.conf.settings``.

To add a setting, add ONE entry to ``CASSettings``, for example::

    max_hops = Setting("CAS_MAX_HOPS", 3, "Longest proxy chain accepted.", int, POSITIVE_INT)

The attribute name is the setting name without ``CAS_``, lower case. ``coerce`` turns the
raw value into the accessor's type (omit it and subscript instead, ``Setting[str | None](...)``,
to return the value as set); ``rule`` (a ``Rule``) is what the value must be, the one test the
system checks, the tenant resolver and ``cas_doctor`` all apply (``Setting.accepts``): E009
reports a value it refuses, or a check of its own (``own_check``) with a more precise message.
Then document it under ``.. setting:: CAS_MAX_HOPS`` in ``docs/settings.rst``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar, cast, overload
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CASSettings",
    "Setting",
    "cas_settings",
]

T = TypeVar("T")

VALID_VERSIONS = ("1", "2", "3", "CAS_2_SAML_1_0")
USERNAME_CASES = (None, "lower", "upper")

_values: dict[str, Any] = {}
"""Raw values read so far in this process; ``setting_changed`` evicts an entry."""
_coerced: dict[str, Any] = {}
"""Coerced values of ``cas_settings`` read so far (never a lazy text, which depends on the
request's language or URLconf); ``setting_changed`` evicts an entry."""


def _forget(sender: Any, setting: str, **kwargs: Any) -> None:
    """Drop the cached value of a changed setting so the next read sees the new one."""
    _values.pop(setting, None)
    _coerced.pop(setting, None)


setting_changed.connect(_forget, dispatch_uid="django_cas_ng.conf.forget")


def _as_set(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Rule:
    """What a setting's raw value must be. E009 (``checks.py``) reports a value it refuses,
    unless ``own_check``: then a check of its own does."""

    accepts: Callable[[Any], bool]
    expected: str
    own_check: bool = False


class Setting(Generic[T]):
    """One ``CAS_*`` setting; as a class attribute of ``CASSettings`` it reads the coerced value."""

    __slots__ = ("coerce", "default", "doc", "name", "rule")

    def __init__(
        self,
        name: str,
        default: Any,
        doc: str,
        coerce: Callable[[Any], T] = _as_set,
        rule: Rule | None = None,
    ) -> None:
        self.name = name
        self.default = default
        self.doc = doc
        self.coerce = coerce
        self.rule = rule

    def __set_name__(self, owner: type, attribute: str) -> None:
        expected = self.name.removeprefix("CAS_").lower()
        if attribute != expected:
            raise TypeError(f"{self.name} must be declared as {expected!r}, not {attribute!r}")
        REGISTRY[self.name] = self

    def accepts(self, value: Any) -> bool:
        """True when ``value`` is valid for this setting (any value, without a rule)."""
        return self.rule is None or self.rule.accepts(value)

    def raw(self) -> Any:
        """The value as set in ``django.conf.settings``, or the default."""
        try:
            return _values[self.name]
        except KeyError:
            value = _values[self.name] = getattr(settings, self.name, self.default)
            return value

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, instance: CASSettings, owner: type) -> T: ...

    def __get__(self, instance: CASSettings | None, owner: type) -> Setting[T] | T:
        if instance is None:
            return self
        if type(instance) is CASSettings:  # the project-wide view: its cache, read here
            try:
                return _coerced[self.name]
            except KeyError:
                pass
        return instance.value(self)

    def __set__(self, instance: CASSettings, value: NoReturn) -> None:
        raise AttributeError(f"cas_settings is read-only: set {self.name} in Django settings")


REGISTRY: dict[str, Setting[Any]] = {}
"""Every setting by name, in declaration order (filled by ``Setting.__set_name__``)."""


def get(name: str) -> Any:
    """Return the current raw value of one ``CAS_*`` setting, or its default."""
    return REGISTRY[name].raw()


# --- coercions: raw value -> the accessor's type ---------------------------------------------


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _bool_or_none(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _str_mapping(value: Any) -> Mapping[str, str]:
    return value or {}


def _any_mapping(value: Any) -> Mapping[str, Any]:
    return value or {}


def _seconds_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _callables(value: Any) -> Sequence[Callable[..., Any]]:
    return value or []


def _timeout(value: Any) -> tuple[float, float]:
    """(connect, read) timeout in seconds; a single number sets both."""
    if isinstance(value, (int, float)):
        return (float(value), float(value))
    connect, read = value
    return (float(connect), float(read))


def _field_names_or_bool(value: Any) -> bool | tuple[str, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else bool(value)


def _client_cert(value: Any) -> str | tuple[str, str] | None:
    return tuple(value) if isinstance(value, (list, tuple)) else value


# --- rules: what a valid value is -----------------------------------------------------------


def is_http_url(value: Any) -> bool:
    """An absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_server_url(value: Any) -> bool:
    """An absolute http(s) URL, or a path on this site (starting with a single '/')."""
    if isinstance(value, str) and value.startswith("/"):
        return not value.startswith("//")
    return is_http_url(value)


def split_host(entry: str) -> SplitResult:
    """A host name (``host[:port]``) or an origin (``scheme://host[:port]``), split."""
    return urlsplit(entry if "://" in entry else f"//{entry}")


def is_host_or_origin(entry: Any) -> bool:
    """A ``CAS_SERVICE_HOSTS`` entry: a host name or an http(s) origin, nothing more."""
    if not isinstance(entry, str):
        return False
    try:
        parts = split_host(entry)
        hostname = parts.hostname
    except ValueError:
        return False
    if "://" in entry and parts.scheme not in ("http", "https"):
        return False
    return (
        bool(hostname)
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or "@" in parts.netloc or "*" in entry)
    )


def import_callable(name: str, value: Any) -> Callable[..., Any]:
    """The callable a setting gives: itself, or the one its dotted path names.

    Raises ``ImproperlyConfigured`` that says what is wrong with ``value``.
    """
    if callable(value):
        return value
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"{name} must be a dotted path or a callable; got {value!r}.")
    try:
        found = import_string(value)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{name} {value!r} cannot be imported ({exc}).") from exc
    if not callable(found):
        raise ImproperlyConfigured(f"{name} {value!r} is not callable.")
    return found


def _optional(kind: Any, expected: str) -> Rule:
    return Rule(lambda value: value is None or isinstance(value, kind), expected)


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _valid_timeout(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) == 2 and all(_positive_number(x) for x in value)
    return _positive_number(value)


def _valid_networks(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return False
    try:
        for network in value:
            ipaddress.ip_network(network, strict=False)
    except (TypeError, ValueError):
        return False
    return True


#: What ``CAS_RATE_LIMITS`` counts (django_cas_ng._internal.ratelimit).
RATE_LIMIT_KEYS = ("ticket", "logout_request")
_RATE_RE = re.compile(r"(?P<count>\d+)/(?P<period>\d*)(?P<unit>[smhd])")
_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """A ``CAS_RATE_LIMITS`` rate as (count, seconds): ``"30/m"`` -> (30, 60), ``"100/5m"``
    -> (100, 300); ValueError otherwise."""
    match = _RATE_RE.fullmatch(rate.strip())
    if match is None or int(match["count"]) <= 0:
        raise ValueError(f"not a rate such as '30/m': {rate!r}")
    return int(match["count"]), int(match["period"] or 1) * _RATE_UNITS[match["unit"]]


def _valid_rate_limits(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, Mapping) or not set(value) <= set(RATE_LIMIT_KEYS):
        return False
    try:
        for rate in value.values():
            if rate is not None:
                parse_rate(rate)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _strings(value: Any) -> bool:
    return value is None or (
        isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value)
    )


def _valid_message(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, (str, Promise)):
        return False
    text = str(value)
    return text.count("%s") == 1 and text.replace("%s", "").replace("%%", "").count("%") == 0


def _value_lists(value: Any) -> bool:
    """{attribute: [values]}: attribute names to non-empty lists of strings."""
    return isinstance(value, Mapping) and all(
        isinstance(name, str)
        and isinstance(values, (list, tuple, set, frozenset))
        and bool(values)
        and all(isinstance(v, str) for v in values)
        for name, values in value.items()
    )


def _flag_rules(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(field, str) and _value_lists(rule) for field, rule in value.items()
    )


def _access_rules(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(rule, Mapping)
        and isinstance(rule.get("name"), str)
        and bool(rule["name"])
        and set(rule) <= {"name", "require", "refuse"}
        and ("require" in rule or "refuse" in rule)
        and all(_value_lists(rule[key]) for key in ("require", "refuse") if key in rule)
        for rule in value
    )


def _mapping_list(value: Any) -> Sequence[Mapping[str, Any]]:
    return cast("Sequence[Mapping[str, Any]]", value or [])


SERVER_URL = Rule(
    lambda v: callable(v) or is_server_url(v),
    "an http(s) URL, a path starting with '/' or a callable (request) -> URL",
    own_check=True,
)
VERSION = Rule(
    lambda v: not isinstance(v, bool) and str(v) in VALID_VERSIONS,
    "'1', '2', '3' or 'CAS_2_SAML_1_0'",
    own_check=True,
)
USERNAME_CASE = Rule(lambda v: v in USERNAME_CASES, "'lower', 'upper' or None", own_check=True)
HTTPS_URL = Rule(
    lambda v: v is None or (is_http_url(v) and urlsplit(v).scheme == "https"),
    "an absolute https URL or None",
    own_check=True,
)
ORIGIN = Rule(
    lambda v: v is None or is_http_url(v), "an absolute http(s) origin or None", own_check=True
)
POSITIVE_INT = Rule(lambda v: isinstance(v, int) and v > 0, "a positive int")
SECONDS_OR_NONE = Rule(
    lambda v: v is None or _positive_number(v), "a positive number of seconds or None"
)
NON_NEGATIVE_INT = Rule(
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an int, 0 or more"
)
NON_EMPTY_STR = Rule(lambda v: isinstance(v, str) and bool(v), "a non-empty string")
MESSAGE = Rule(_valid_message, "None or a text with exactly one %s for the username")
# 5.1 sites often set the landing page with reverse_lazy(), which resolve_url accepts.
LANDING_PAGE = Rule(
    lambda v: isinstance(v, Promise) or (isinstance(v, str) and bool(v)),
    "a non-empty string (a URL or a URL name) or reverse_lazy()",
)
CALLABLES = Rule(
    lambda v: isinstance(v, (list, tuple)) and all(callable(h) for h in v),
    "a list of callables",
)


class CASSettings:
    """Typed, read-at-call-time view of the ``CAS_*`` settings; one ``Setting`` per line."""

    def raw_value(self, setting: Setting[Any]) -> Any:
        """The raw value ``setting`` reads for this view: the project-wide one."""
        return setting.raw()

    def value(self, setting: Setting[T]) -> T:
        """The coerced value of ``setting`` for this view, coerced once per change."""
        try:
            return cast("T", _coerced[setting.name])
        except KeyError:
            raw = setting.raw()
            value = setting.coerce(raw)
            if not isinstance(raw, Promise):
                _coerced[setting.name] = value
            return value

    # The CAS server and how to talk to it.
    server_url = Setting[str | Callable[[HttpRequest], Any] | None](
        "CAS_SERVER_URL",
        None,
        "Base URL of the CAS server, or a callable (request) -> URL.",
        rule=SERVER_URL,
    )
    config_resolver = Setting[str | Callable[[HttpRequest], Any] | None](
        "CAS_CONFIG_RESOLVER",
        None,
        "Dotted path to a callable (request) -> dict of per-tenant CAS_* settings.",
        rule=Rule(
            lambda v: v is None or callable(v) or (isinstance(v, str) and "." in v),
            "a dotted path to a callable, a callable or None",
        ),
    )
    version = Setting(
        "CAS_VERSION", "2", "Protocol: '1', '2', '3' or 'CAS_2_SAML_1_0'.", str, VERSION
    )
    timeout = Setting(
        "CAS_TIMEOUT",
        (3.05, 5.0),
        "(connect, read) timeout in seconds for calls to CAS; a number sets both.",
        _timeout,
        Rule(_valid_timeout, "a positive number or a (connect, read) pair"),
    )
    verify_ssl_certificate = Setting(
        "CAS_VERIFY_SSL_CERTIFICATE", True, "Verify the CAS server's TLS certificate.", bool
    )
    ca_bundle = Setting[str | None](
        "CAS_CA_BUNDLE",
        None,
        "CA bundle file that verifies the CAS server.",
        rule=_optional(str, "a path or None"),
    )
    client_cert = Setting(
        "CAS_CLIENT_CERT",
        None,
        "Client certificate (path, or (cert, key) pair) presented to CAS.",
        _client_cert,
        _optional((str, list, tuple), "a path, a (cert, key) pair or None"),
    )
    max_response_bytes = Setting(
        "CAS_MAX_RESPONSE_BYTES",
        1024 * 1024,
        "Largest CAS answer read.",
        int,
        POSITIVE_INT,
    )
    response_format = Setting(
        "CAS_RESPONSE_FORMAT",
        "XML",
        "Format asked of CAS 2/3 validation: 'XML' or 'JSON' (sends format=JSON).",
        str,
        Rule(lambda v: v in ("XML", "JSON"), "'XML' or 'JSON'"),
    )
    max_attribute_values = Setting(
        "CAS_MAX_ATTRIBUTE_VALUES",
        1000,
        "Most values kept per released attribute; more are dropped with a log line.",
        int,
        POSITIVE_INT,
    )
    session_factory = Setting[Callable[[], Any] | None](
        "CAS_SESSION_FACTORY",
        None,
        "Callable returning the requests.Session for CAS calls.",
        rule=Rule(lambda v: v is None or callable(v), "a callable or None"),
    )

    # Login.
    renew = Setting("CAS_RENEW", False, "Send renew=true on login and validation.", bool)
    gateway = Setting("CAS_GATEWAY", False, "Send gateway=true: log in only if CAS can.", bool)
    extra_login_params = Setting(
        "CAS_EXTRA_LOGIN_PARAMS",
        None,
        "Extra query parameters on the CAS login URL.",
        _str_mapping,
        _optional(Mapping, "a dict or None"),
    )
    login_method = Setting[str | None](
        "CAS_LOGIN_METHOD",
        None,
        "method= sent on the login URL ('POST': CAS posts the ticket back); None sends none.",
        rule=Rule(lambda v: v in (None, "GET", "POST"), "None, 'GET' or 'POST'"),
    )
    send_locale = Setting(
        "CAS_SEND_LOCALE", False, "Send the active language as locale= on the login URL.", bool
    )
    retry_login = Setting("CAS_RETRY_LOGIN", False, "On a bad ticket go back to CAS.", bool)
    login_nonce = Setting("CAS_LOGIN_NONCE", False, "Bind tickets to the browser's session.", bool)
    login_msg = Setting(
        "CAS_LOGIN_MSG",
        _("Login succeeded. Welcome, %s."),
        "Message after login; None disables.",
        _text_or_none,
        MESSAGE,
    )
    logged_msg = Setting(
        "CAS_LOGGED_MSG",
        _("You are logged in as %s."),
        "Message for a user already logged in; None disables.",
        _text_or_none,
        MESSAGE,
    )

    # Where the browser lands.
    redirect_url = Setting(
        "CAS_REDIRECT_URL", "/", "Default landing page (URL or URL name).", str, LANDING_PAGE
    )
    login_next_page = Setting[str | None](
        "CAS_LOGIN_NEXT_PAGE", None, "Fixed landing page after login."
    )
    logout_next_page = Setting[str | None](
        "CAS_LOGOUT_NEXT_PAGE", None, "Fixed landing page after logout."
    )
    ignore_referer = Setting("CAS_IGNORE_REFERER", False, "Never land on the Referer.", bool)
    check_next = Setting("CAS_CHECK_NEXT", True, "Refuse next URLs of other sites.", bool)
    store_next = Setting("CAS_STORE_NEXT", False, "Keep next in the session.", bool)
    root_proxied_as = Setting[str | None](
        "CAS_ROOT_PROXIED_AS",
        None,
        "Public origin of the site behind a reverse proxy.",
        rule=ORIGIN,
    )
    service_hosts = Setting[Sequence[str] | None](
        "CAS_SERVICE_HOSTS",
        None,
        "Public hosts (or origins) service URLs may be built from.",
        rule=Rule(_strings, "a list of host names or http(s) origins"),
    )
    force_ssl_service_url = Setting(
        "CAS_FORCE_SSL_SERVICE_URL", False, "Service URLs are always https.", bool
    )
    logout_completely = Setting(
        "CAS_LOGOUT_COMPLETELY", True, "Logout also logs out of the CAS server.", bool
    )

    # Users and attributes.
    create_user = Setting("CAS_CREATE_USER", True, "Create unknown users on first login.", bool)
    create_user_with_id = Setting(
        "CAS_CREATE_USER_WITH_ID", False, "Create users with attribute id as primary key.", bool
    )
    username_attribute = Setting(
        "CAS_USERNAME_ATTRIBUTE",
        "cas:user",
        "Attribute used as the username.",
        str,
        NON_EMPTY_STR,
    )
    force_change_username_case = Setting[str | None](
        "CAS_FORCE_CHANGE_USERNAME_CASE", None, "'lower', 'upper' or None.", rule=USERNAME_CASE
    )
    local_name_field = Setting[str | None](
        "CAS_LOCAL_NAME_FIELD", None, "User field that existing users are looked up by."
    )
    rename_attributes = Setting(
        "CAS_RENAME_ATTRIBUTES",
        {},
        "Rename attribute keys before use.",
        _str_mapping,
        _optional(Mapping, "a dict"),
    )
    apply_attributes_to_user = Setting(
        "CAS_APPLY_ATTRIBUTES_TO_USER",
        False,
        "Copy released attributes onto same-named user fields: True, or a list of field names.",
        _field_names_or_bool,
        Rule(
            lambda v: (
                isinstance(v, bool)
                or (isinstance(v, (list, tuple)) and all(isinstance(f, str) for f in v))
            ),
            "True, False or a list of user field names",
        ),
    )
    affiliations_key = Setting(
        "CAS_AFFILIATIONS_KEY",
        "affiliation",
        "Attribute holding the affiliations.",
        str,
        NON_EMPTY_STR,
    )
    map_affiliations = Setting(
        "CAS_MAP_AFFILIATIONS", False, "Add the user to a Group per affiliation.", bool
    )
    affiliations_handlers = Setting(
        "CAS_AFFILIATIONS_HANDLERS",
        [],
        "Callables handler(user, affiliations) run on login.",
        _callables,
        CALLABLES,
    )
    admin_affiliation = Setting[str | None](
        "CAS_ADMIN_AFFILIATION", None, "Affiliation that makes the user a superuser."
    )
    staff_affiliation = Setting[str | None](
        "CAS_STAFF_AFFILIATION", None, "Affiliation that makes the user staff."
    )
    # Identities, groups and access rules (docs/identities.rst).
    user_id_attribute = Setting[str | None](
        "CAS_USER_ID_ATTRIBUTE",
        None,
        "Attribute holding an immutable user id; users are found by it, not by name.",
        rule=_optional(str, "an attribute name or None"),
    )
    groups_attribute = Setting[str | None](
        "CAS_GROUPS_ATTRIBUTE",
        None,
        "Attribute whose values are the user's groups, mirrored at each sign-in.",
        rule=_optional(str, "an attribute name or None"),
    )
    managed_groups = Setting[str | Sequence[str] | None](
        "CAS_MANAGED_GROUPS",
        None,
        "Groups CAS may add and remove: a name prefix, or a list of names.",
        rule=Rule(
            lambda v: v is None or (isinstance(v, str) and bool(v)) or _strings(v),
            "a non-empty name prefix, a list of group names or None",
        ),
    )
    user_flags = Setting(
        "CAS_USER_FLAGS",
        {},
        "Boolean user field -> {attribute: [values]}; set when any value is released.",
        _any_mapping,
        Rule(lambda v: _flag_rules(v), "a dict: field name -> {attribute: [values]}"),
    )
    access_rules = Setting(
        "CAS_ACCESS_RULES",
        [],
        "Rules {name, require: {attribute: [values]}, refuse: {...}} a sign-in must pass.",
        _mapping_list,
        Rule(lambda v: _access_rules(v), "a list of {'name', 'require' and/or 'refuse'} dicts"),
    )
    long_term_login = Setting[str | int](
        "CAS_LONG_TERM_LOGIN",
        "allow",
        "A 'remember me' sign-in: 'allow', 'refuse', or the session's life in seconds.",
        rule=Rule(
            lambda v: v in ("allow", "refuse") or (POSITIVE_INT.accepts(v) and v is not True),
            "'allow', 'refuse' or a positive number of seconds",
        ),
    )

    # The middleware.
    admin_redirect = Setting("CAS_ADMIN_REDIRECT", True, "Send admin logins to CAS.", bool)
    admin_prefix = Setting[str | None]("CAS_ADMIN_PREFIX", None, "URL prefix of the admin.")
    login_url_name = Setting(
        "CAS_LOGIN_URL_NAME", "cas_ng_login", "URL name of the login view.", str
    )
    logout_url_name = Setting(
        "CAS_LOGOUT_URL_NAME", "cas_ng_logout", "URL name of the logout view.", str
    )

    # APIs.
    api_request_predicate = Setting[str | Callable[[Any], bool]](
        "CAS_API_REQUEST_PREDICATE",
        "django_cas_ng.api.wants_json",
        "Callable (or its dotted path) telling API/XHR requests, answered 401, from browsers.",
    )

    # Proxy tickets.
    proxy_callback = Setting[str | None](
        "CAS_PROXY_CALLBACK", None, "Absolute https URL of the PGT callback view.", rule=HTTPS_URL
    )
    proxy_chains = Setting(
        "CAS_PROXY_CHAINS",
        {},
        "Allowed proxy chains per service URL.",
        _any_mapping,
        _optional(Mapping, "a dict"),
    )

    # Single Logout.
    slo_allowed_networks = Setting[Sequence[str] | None](
        "CAS_SLO_ALLOWED_NETWORKS",
        None,
        "Networks allowed to send back-channel logout requests.",
        rule=Rule(_valid_networks, "a list of IP addresses or networks"),
    )
    slo_client_ip_header = Setting[str | None](
        "CAS_SLO_CLIENT_IP_HEADER", None, "request.META key holding the client address."
    )
    slo_max_bytes = Setting(
        "CAS_SLO_MAX_BYTES", 64 * 1024, "Largest logout request accepted.", int, POSITIVE_INT
    )
    slo_front_channel = Setting(
        "CAS_SLO_FRONT_CHANNEL",
        None,
        "Accept front-channel logout requests (None: unless networks are set).",
        _bool_or_none,
        Rule(lambda v: v is None or isinstance(v, bool), "True, False or None"),
    )

    # The life of a signed-in session (docs/sessions.rst).
    replay_window = Setting(
        "CAS_REPLAY_WINDOW",
        86400,
        "Seconds an accepted ticket is remembered and refused if presented again; 0 disables.",
        int,
        NON_NEGATIVE_INT,
    )
    session_max_age = Setting(
        "CAS_SESSION_MAX_AGE",
        None,
        "Seconds a session stays signed in after its CAS sign-in (SessionMaxAgeMiddleware).",
        _seconds_or_none,
        SECONDS_OR_NONE,
    )
    recheck_interval = Setting(
        "CAS_RECHECK_INTERVAL",
        None,
        "Seconds between silent re-checks at CAS (SessionRecheckMiddleware); None: never.",
        _seconds_or_none,
        SECONDS_OR_NONE,
    )
    rate_limits = Setting(
        "CAS_RATE_LIMITS",
        {"ticket": "120/m", "logout_request": "600/m"},
        "Per client address: requests carrying a ticket, and logout requests; None: no limit.",
        _any_mapping,
        Rule(_valid_rate_limits, "None or a dict of 'ticket'/'logout_request' to '30/m' or None"),
    )
    rate_limit_cache = Setting(
        "CAS_RATE_LIMIT_CACHE", "default", "The CACHES alias counting requests.", str, NON_EMPTY_STR
    )


class RequestSettings(CASSettings):
    """``CASSettings`` of one request: the tenant's overrides (raw ``CAS_*`` values) first."""

    __slots__ = ("overrides",)

    def __init__(self, overrides: Mapping[str, Any]) -> None:
        self.overrides = dict(overrides)

    def raw_value(self, setting: Setting[Any]) -> Any:
        try:
            return self.overrides[setting.name]
        except KeyError:
            return setting.raw()

    def value(self, setting: Setting[T]) -> T:
        if setting.name in self.overrides:
            return setting.coerce(self.overrides[setting.name])
        return super().value(setting)

    def __repr__(self) -> str:
        return f"RequestSettings({sorted(self.overrides)})"


DEFAULTS: dict[str, Any] = {name: setting.default for name, setting in REGISTRY.items()}

cas_settings = CASSettings()
