"""System checks for every setting a site can get wrong; ids are stable (docs/checks.rst)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.module_loading import import_string

from ._internal.tenancy import is_multi_server
from .conf import REGISTRY, cas_settings, get, import_callable, is_host_or_origin, is_http_url

__all__ = [
    "check_identities",
    "check_proxy_chains",
    "check_session_life",
    "check_settings",
    "check_slo_follows_session_key",
]

SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"


def _error(number: int, msg: str, hint: str | None = None) -> Error:
    return Error(msg, hint=hint, id=f"django_cas_ng.E{number:03d}")


def _warning(number: int, msg: str, hint: str | None = None) -> Warning:
    return Warning(msg, hint=hint, id=f"django_cas_ng.W{number:03d}")


def _refused(name: str) -> bool:
    """True when the value of ``name`` breaks the rule of its declaration (conf.py)."""
    return not REGISTRY[name].accepts(get(name))


@register(Tags.security, Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Validate the ``CAS_*`` settings and the middleware/backends they depend on."""
    return [
        *_check_server_url(),
        *_check_config_resolver(),
        *_check_version(),
        *_check_username_case(),
        *_check_username_attribute(),
        *_check_middleware(),
        *_check_backends(),
        *_check_types(),
        *_check_urls(),
        *_check_warnings(),
        *_check_hosts(),
        *_check_login_required_middleware(),
        *_check_api_predicate(),
        *_check_response_format(),
        *_check_stepup(),
        *_check_misspelt_names(),
        *_check_url_names(),
    ]


def _check_username_attribute() -> list[CheckMessage]:
    """E018: the username is to come from an attribute, and CAS 1 answers carry none."""
    attribute = get("CAS_USERNAME_ATTRIBUTE")
    if attribute == "cas:user" or str(get("CAS_VERSION")) != "1":
        return []
    return [
        _error(
            18,
            f"CAS_USERNAME_ATTRIBUTE is {attribute!r} but CAS_VERSION is '1', whose answers "
            "carry no attributes: every sign-in would be refused.",
            "Use CAS 3 (or 2 with attributes, or SAML 1.1), or unset CAS_USERNAME_ATTRIBUTE.",
        )
    ]


def _check_misspelt_names() -> list[CheckMessage]:
    """W070: a ``CAS_*`` setting this package does not read, spelt almost like one it does."""
    warnings: list[CheckMessage] = []
    for name in sorted(n for n in dir(settings) if n.startswith("CAS_") and n not in REGISTRY):
        close = difflib.get_close_matches(name, REGISTRY, n=1, cutoff=0.85)
        if close:
            warnings.append(
                _warning(
                    70,
                    f"{name} is not a setting of django_cas_ng, which ignores it. "
                    f"Did you mean {close[0]}?",
                    f"Rename it to {close[0]}; if another app reads {name}, silence this.",
                )
            )
    return warnings


def _check_url_names() -> list[CheckMessage]:
    """E017: a URL name that CASMiddleware or ``LOGIN_URL`` reverses is not routed."""
    names: list[tuple[str, str, str]] = []
    if _has_cas_middleware():
        names.append(("CAS_LOGIN_URL_NAME", cas_settings.login_url_name, "LoginView"))
        if _guards_an_admin():  # the admin's logout link is its only use of the logout name
            names.append(("CAS_LOGOUT_URL_NAME", cas_settings.logout_url_name, "LogoutView"))
    login_url = getattr(settings, "LOGIN_URL", None)
    if isinstance(login_url, str) and "/" not in login_url and "." not in login_url:
        names.append(("LOGIN_URL", login_url, "LoginView"))  # a URL name, as resolve_url reads it
    errors: list[CheckMessage] = []
    for setting, name, view in names:
        try:
            reverse(name)
        except (ImportError, ImproperlyConfigured, AttributeError):
            return errors  # a URLconf that does not load: Django's own URL checks say why
        except NoReverseMatch:
            errors.append(
                _error(
                    17,
                    f"{setting} is {name!r}, and no URL has that name: the pages that send "
                    "visitors to it answer 500.",
                    f"Route django_cas_ng.views.{view} with name={name!r} (docs/install.rst), "
                    f"or set {setting} to the name you gave it.",
                )
            )
    return errors


def _guards_an_admin() -> bool:
    """Whether CASMiddleware guards admin pages: ``CAS_ADMIN_REDIRECT`` and an admin to guard
    (``CAS_ADMIN_PREFIX``, else ``django.contrib.admin`` installed)."""
    return bool(cas_settings.admin_redirect) and bool(
        cas_settings.admin_prefix or apps.is_installed("django.contrib.admin")
    )


def _check_server_url() -> list[CheckMessage]:
    url = get("CAS_SERVER_URL")
    if callable(url):
        return []  # chosen per request (several CAS servers); an unusable answer is a 503
    if not url:
        return [
            _error(
                1,
                "CAS_SERVER_URL is not set.",
                "Set it to the base URL of your CAS server, e.g. 'https://cas.example.org/cas/'.",
            )
        ]
    if _refused("CAS_SERVER_URL"):
        return [
            _error(
                2,
                f"CAS_SERVER_URL {url!r} is not an http(s) URL or a path starting with '/'.",
                "Use an absolute URL such as 'https://cas.example.org/cas/'.",
            )
        ]
    return []


def _check_config_resolver() -> list[CheckMessage]:
    """E030: ``CAS_CONFIG_RESOLVER`` names a callable that can be imported."""
    path = get("CAS_CONFIG_RESOLVER")
    if not isinstance(path, str):
        return []  # None, a callable, or E009 reports a value of the wrong type
    try:
        import_callable("CAS_CONFIG_RESOLVER", path)
    except ImproperlyConfigured as exc:
        hint = "Use the dotted path of a callable (request) -> dict of CAS_* settings."
        return [_error(30, str(exc), hint)]
    return []


def _check_version() -> list[CheckMessage]:
    if _refused("CAS_VERSION"):
        return [
            _error(
                3,
                f"CAS_VERSION {get('CAS_VERSION')!r} is not supported.",
                "Use '1', '2', '3' or 'CAS_2_SAML_1_0'.",
            )
        ]
    return []


def _check_username_case() -> list[CheckMessage]:
    if _refused("CAS_FORCE_CHANGE_USERNAME_CASE"):
        return [
            _error(
                4,
                f"CAS_FORCE_CHANGE_USERNAME_CASE {get('CAS_FORCE_CHANGE_USERNAME_CASE')!r} is "
                "invalid.",
                "Use 'lower', 'upper' or None.",
            )
        ]
    return []


def _check_middleware() -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    errors: list[CheckMessage] = []
    if not _has_subclass(middleware, "django.contrib.sessions.middleware.SessionMiddleware"):
        errors.append(
            _error(
                5,
                "SessionMiddleware is not in MIDDLEWARE.",
                "Add 'django.contrib.sessions.middleware.SessionMiddleware'.",
            )
        )
    auth = _first_subclass(middleware, "django.contrib.auth.middleware.AuthenticationMiddleware")
    if auth is None:
        errors.append(
            _error(
                6,
                "AuthenticationMiddleware is not in MIDDLEWARE.",
                "Add 'django.contrib.auth.middleware.AuthenticationMiddleware'.",
            )
        )
    elif _first_subclass(middleware[:auth], "django_cas_ng.middleware.CASMiddleware") is not None:
        errors.append(
            _error(
                6,
                "CASMiddleware comes before AuthenticationMiddleware in MIDDLEWARE: every "
                "request would fail, as it needs request.user.",
                "Move 'django_cas_ng.middleware.CASMiddleware' after AuthenticationMiddleware.",
            )
        )
    return errors


def _first_subclass(paths: list[str], base_path: str) -> int | None:
    """The index of the first of ``paths`` naming ``base_path`` or a subclass of it."""
    for index, path in enumerate(paths):
        if _has_subclass([path], base_path):
            return index
    return None


def _check_backends() -> list[CheckMessage]:
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if not _has_subclass(backends, "django_cas_ng.backends.CASBackend"):
        return [
            _error(
                7,
                "No CASBackend in AUTHENTICATION_BACKENDS: CAS tickets cannot sign anyone in.",
                "Add 'django_cas_ng.backends.CASBackend' (or your subclass of it).",
            )
        ]
    return []


def _has_subclass(paths: list[str], base_path: str) -> bool:
    base = import_string(base_path)
    for path in paths:
        try:
            candidate = import_string(path)
        except ImportError:
            continue
        if isinstance(candidate, type) and issubclass(candidate, base):
            return True
    return False


def _check_types() -> list[CheckMessage]:
    """E009 for every registered setting whose value breaks its ``Rule`` (conf.py), except
    those a check of their own reports."""
    errors: list[CheckMessage] = []
    for name, setting in REGISTRY.items():
        value = setting.raw()
        if setting.rule is not None and not setting.rule.own_check and not setting.accepts(value):
            errors.append(_error(9, f"{name} must be {setting.rule.expected}; got {value!r}."))
    if get("CAS_GATEWAY") and get("CAS_RENEW"):
        errors.append(
            _error(
                8,
                "CAS_GATEWAY and CAS_RENEW are both True.",
                "The CAS protocol forbids sending gateway and renew together.",
            )
        )
    return errors


def _check_urls() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if _refused("CAS_PROXY_CALLBACK"):
        errors.append(
            _error(
                10,
                f"CAS_PROXY_CALLBACK {get('CAS_PROXY_CALLBACK')!r} is not an absolute https URL.",
                "The CAS server only sends proxy granting tickets to https URLs.",
            )
        )
    if _refused("CAS_ROOT_PROXIED_AS"):
        errors.append(
            _error(
                11,
                f"CAS_ROOT_PROXIED_AS {get('CAS_ROOT_PROXIED_AS')!r} is not an absolute http(s) "
                "origin.",
                "Use the public origin, e.g. 'https://www.example.org'.",
            )
        )
    return errors


def _check_hosts() -> list[CheckMessage]:
    """E013/E016: an any-host ``ALLOWED_HOSTS`` lets the Host header shape CAS or service URLs."""
    errors = _check_service_hosts()
    wildcard = any(h == "*" or h.startswith(".") for h in settings.ALLOWED_HOSTS)
    if not wildcard or get("CAS_ROOT_PROXIED_AS"):
        return errors
    hint = (
        "Set CAS_ROOT_PROXIED_AS to this site's public origin, list the public hosts in "
        "CAS_SERVICE_HOSTS, or list exact ALLOWED_HOSTS."
    )
    if str(get("CAS_SERVER_URL") or "").startswith("/"):
        errors.append(
            _error(
                13,
                "CAS_SERVER_URL is a path and ALLOWED_HOSTS accepts any host: the Host header "
                "would choose the server that validates tickets.",
                hint,
            )
        )
    elif not settings.DEBUG and not get("CAS_SERVICE_HOSTS"):
        errors.append(
            _error(
                16,
                "ALLOWED_HOSTS accepts any host and no setting pins the public host: a ticket "
                "issued to another service of the same CAS server, replayed with that service's "
                "Host, would sign its holder in here. Logins answer 503 until this is fixed.",
                hint,
            )
        )
    return errors


def _check_service_hosts() -> list[CheckMessage]:
    """E015: each ``CAS_SERVICE_HOSTS`` entry is a host[:port] or an http(s) origin, no more."""
    hosts = get("CAS_SERVICE_HOSTS")
    if not isinstance(hosts, (list, tuple)):
        return []  # None, or E009 reports the wrong type
    return [
        _error(
            15,
            f"CAS_SERVICE_HOSTS entry {entry!r} is neither a host name nor an http(s) origin.",
            "Use 'www.example.org', 'www.example.org:8443' or 'https://www.example.org'.",
        )
        for entry in hosts
        if isinstance(entry, str) and not is_host_or_origin(entry)
    ]


def _check_warnings() -> list[CheckMessage]:
    warnings: list[CheckMessage] = []
    if not get("CAS_VERIFY_SSL_CERTIFICATE"):
        warnings.append(
            _warning(
                1,
                "CAS_VERIFY_SSL_CERTIFICATE is False: anyone on the network "
                "can impersonate the CAS server and sign in as any user.",
                "Use CAS_CA_BUNDLE for a private CA instead.",
            )
        )
    if _sessions_in_cookies():
        warnings.append(
            _warning(
                2,
                "Sessions are stored in signed cookies: Single Logout cannot "
                "end them, because the server holds nothing to delete.",
                "Use a server-side session engine (db, cache, cached_db, file).",
            )
        )
    if _sessions_in_a_process_cache() and not settings.DEBUG:
        warnings.append(
            _warning(
                6,
                f"SESSION_ENGINE {settings.SESSION_ENGINE} keeps sessions in LocMemCache, which "
                "each server process holds for itself: a logout request from CAS reaching one "
                "process cannot end a session another one holds.",
                "Use a shared cache (Redis, Memcached) for sessions, or the db engine.",
            )
        )
    url = get("CAS_SERVER_URL")
    if isinstance(url, str) and url.startswith("http://") and not settings.DEBUG:
        warnings.append(
            _warning(
                3,
                "CAS_SERVER_URL uses plain http: tickets and attributes travel unencrypted.",
                "Use https.",
            )
        )
    return warnings


def _sessions_in_cookies() -> bool:
    """True when the session engine (or a site's subclass of it) is ``signed_cookies``."""
    from ._internal.session_store import in_cookies, session_store_class

    if getattr(settings, "SESSION_ENGINE", "") == SIGNED_COOKIES:
        return True
    try:
        return in_cookies(session_store_class())
    except ImportError:
        return False


def _sessions_in_a_process_cache() -> bool:
    """True when the session engine keeps sessions in a ``LocMemCache`` (one per process)."""
    from django.contrib.sessions.backends.cache import SessionStore as CacheStore
    from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

    from ._internal.session_store import session_store_class

    try:
        if not issubclass(session_store_class(), (CacheStore, CachedDBStore)):
            return False
    except ImportError:
        return False
    backend = settings.CACHES.get(settings.SESSION_CACHE_ALIAS, {}).get("BACKEND", "")
    return str(backend).endswith(".LocMemCache")


def _check_api_predicate() -> list[CheckMessage]:
    """E014: ``CAS_API_REQUEST_PREDICATE`` names (or is) a callable ``request -> bool``."""
    try:
        import_callable("CAS_API_REQUEST_PREDICATE", get("CAS_API_REQUEST_PREDICATE"))
    except ImproperlyConfigured as exc:
        hint = (
            "Use a dotted path such as 'django_cas_ng.api.wants_json' to a function of the request."
        )
        return [_error(14, str(exc), hint)]
    return []


def _check_response_format() -> list[CheckMessage]:
    """W020: JSON answers asked of a protocol version that has none."""
    version = str(get("CAS_VERSION"))
    if get("CAS_RESPONSE_FORMAT") != "JSON" or version not in ("1", "CAS_2_SAML_1_0"):
        return []
    return [
        _warning(
            20,
            f"CAS_RESPONSE_FORMAT is 'JSON' but CAS_VERSION {version!r} has no JSON answers.",
            "Use CAS_VERSION '2' or '3', or set CAS_RESPONSE_FORMAT = 'XML'.",
        )
    ]


def _check_stepup() -> list[CheckMessage]:
    """E101: the step-up view is routed, but ``CAS_VERSION`` (valid, else E003) is not '3'."""
    from .stepup import STEPUP_URL_NAME

    version = get("CAS_VERSION")
    if str(version) == "3" or _refused("CAS_VERSION"):
        return []
    try:
        reverse(STEPUP_URL_NAME)
    except (NoReverseMatch, ImproperlyConfigured):
        return []
    return [
        _error(
            101,
            f"The step-up view ({STEPUP_URL_NAME!r}) is routed but CAS_VERSION is {version!r}: "
            "it answers every request with an error.",
            "Step-up sign-in reads CAS 3 attributes; set CAS_VERSION = '3'.",
        )
    ]


LOGIN_REQUIRED_MIDDLEWARE = "django.contrib.auth.middleware.LoginRequiredMiddleware"


def _check_login_required_middleware() -> list[CheckMessage]:
    """Django's LoginRequiredMiddleware needs LOGIN_URL to be an exempt view, or it loops."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if not _has_subclass(middleware, LOGIN_REQUIRED_MIDDLEWARE):
        return []
    try:
        login_url = str(resolve_url(settings.LOGIN_URL))
    except NoReverseMatch:
        login_url = str(settings.LOGIN_URL)
    parts = urlsplit(login_url)
    if parts.netloc:
        return []
    try:
        view = resolve(parts.path).func
    except Resolver404:
        view = None
    if view is not None and getattr(view, "login_required", True) is False:
        return []
    return [
        _warning(
            5,
            f"LoginRequiredMiddleware is on and LOGIN_URL {settings.LOGIN_URL!r} does not "
            "resolve to a view exempt from it: anonymous users are redirected in a loop.",
            "Set LOGIN_URL = 'cas_ng_login' (django_cas_ng.views.LoginView is exempt), or "
            "exempt your login view with django.contrib.auth.decorators.login_not_required.",
        )
    ]


@register(Tags.security)
def check_proxy_chains(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E012: ``CAS_PROXY_CHAINS`` maps a service URL or '*' to a list of chains of URL patterns."""
    chains = get("CAS_PROXY_CHAINS")
    if not isinstance(chains, Mapping):
        return []  # E009 reports the wrong type
    hint = (
        "Use {'https://api.example.org/': [['https://app.example.org/callback']]}: a list of "
        "chains per service, each chain a list of proxy URLs (or '^regex'), most recent first."
    )
    errors: list[CheckMessage] = []
    for service, allowed in chains.items():
        where = f"CAS_PROXY_CHAINS[{service!r}]"
        if service != "*" and not is_http_url(service):
            errors.append(_error(12, f"{where}: the key is neither '*' nor an absolute URL.", hint))
        if isinstance(allowed, (str, bytes)) or not isinstance(allowed, (list, tuple)):
            errors.append(_error(12, f"{where} must be a list of chains; got {allowed!r}.", hint))
            continue
        for chain in allowed:
            if isinstance(chain, (str, bytes)) or not isinstance(chain, (list, tuple)) or not chain:
                errors.append(
                    _error(
                        12, f"{where}: each chain must be a non-empty list; got {chain!r}.", hint
                    )
                )
                continue
            errors.extend(
                _error(12, f"{where}: {problem}", hint)
                for problem in map(_proxy_pattern_problem, chain)
                if problem
            )
    return errors


def _proxy_pattern_problem(pattern: Any) -> str | None:
    if isinstance(pattern, re.Pattern):
        return None
    if not isinstance(pattern, str):
        return f"proxy pattern {pattern!r} is neither a string nor a compiled regular expression."
    if pattern.startswith("^"):
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"proxy pattern {pattern!r} is not a valid regular expression ({exc})."
        return None
    if not is_http_url(pattern):
        return f"proxy pattern {pattern!r} is not an absolute URL (start a regex with '^')."
    return None


@register(Tags.security)
def check_slo_follows_session_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W060: Single Logout can end server-side sessions, but without ``CASMiddleware`` the
    mapping does not follow ``cycle_key()`` (a password change, a privilege change)."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if _sessions_in_cookies():
        return []  # W002: Single Logout cannot end such sessions at all
    if _has_subclass(middleware, "django_cas_ng.middleware.CASMiddleware"):
        return []
    return [
        _warning(
            60,
            "CASMiddleware is not in MIDDLEWARE: after cycle_key() (a password change, "
            "update_session_auth_hash) Single Logout no longer finds the session, and the user "
            "stays signed in here after signing out of CAS.",
            "Add 'django_cas_ng.middleware.CASMiddleware', or call "
            "django_cas_ng.middleware.follow_session_key(request) after cycling the key and "
            "silence this warning.",
        )
    ]


@register(Tags.security)
def check_identities(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``django_cas_ng.E040``: several CAS servers, but no ``CASMiddleware`` to bind sessions;
    ``E041``: a stable id attribute with CAS 1, which releases no attributes; ``W041``: several
    servers and attributes that grant staff, superuser or groups."""
    errors: list[CheckMessage] = []
    if cas_settings.user_id_attribute and str(cas_settings.version) == "1":
        errors.append(
            _error(
                41,
                "CAS_USER_ID_ATTRIBUTE is set but CAS_VERSION is '1', whose answers carry no "
                "attributes: every sign-in would be refused.",
                "Use CAS 2 with attributes, CAS 3 or SAML 1.1, or unset the attribute.",
            )
        )
    errors += _check_mirroring()
    limit = cas_settings.long_term_login
    if isinstance(limit, int) and limit >= settings.SESSION_COOKIE_AGE:
        errors.append(
            _warning(
                40,
                f"CAS_LONG_TERM_LOGIN gives 'remember me' sign-ins {limit} s, not less than "
                f"SESSION_COOKIE_AGE ({settings.SESSION_COOKIE_AGE} s): it shortens nothing.",
                "Give it fewer seconds than SESSION_COOKIE_AGE, or 'allow' / 'refuse'.",
            )
        )
    if not is_multi_server():
        return errors
    errors += _check_tenant_privileges()
    if _has_cas_middleware():
        return errors
    return [
        *errors,
        _error(
            40,
            "Several CAS servers are configured but CASMiddleware is not in MIDDLEWARE: a "
            "session signed in at one server would be signed in on every tenant's host.",
            "Add 'django_cas_ng.middleware.CASMiddleware' after AuthenticationMiddleware.",
        ),
    ]


def _check_mirroring() -> list[CheckMessage]:
    """E042: groups to mirror but none the site lets CAS manage; E043: a flag that is not a
    boolean field of the user model."""
    errors: list[CheckMessage] = []
    if cas_settings.groups_attribute and not cas_settings.managed_groups:
        errors.append(
            _error(
                42,
                "CAS_GROUPS_ATTRIBUTE is set but CAS_MANAGED_GROUPS is not: CAS would not know "
                "which groups it may add and remove.",
                "Set CAS_MANAGED_GROUPS to a group name prefix or a list of group names.",
            )
        )
    user_model = get_user_model()
    for field in cas_settings.user_flags:
        try:
            kind = user_model._meta.get_field(field).get_internal_type()
        except FieldDoesNotExist:
            kind = None
        if kind != "BooleanField":
            errors.append(
                _error(
                    43,
                    f"CAS_USER_FLAGS names {field!r}, which is not a boolean field of "
                    f"{user_model._meta.label}.",
                    "Name BooleanFields of the user model only (is_staff, is_superuser...).",
                )
            )
    return errors


#: User fields that make a user staff or superuser of the whole project.
_PROJECT_PRIVILEGES = ("is_staff", "is_superuser")


def _check_tenant_privileges() -> list[CheckMessage]:
    """W041: with several servers, attributes grant project-wide rights (staff, superuser,
    groups), so every tenant's server can give them to its own users over every tenant's data."""
    from ._internal.mirror import flag_rules

    fields = {field for field in flag_rules() if field in _PROJECT_PRIVILEGES}
    applied = cas_settings.apply_attributes_to_user
    if applied is True:
        fields.update(_PROJECT_PRIVILEGES)
    elif applied:
        fields.update(field for field in applied if field in _PROJECT_PRIVILEGES)
    grants = [" and ".join(sorted(fields))] if fields else []
    if cas_settings.map_affiliations:
        grants.append("any group an affiliation names (CAS_MAP_AFFILIATIONS)")
    if cas_settings.groups_attribute:
        grants.append("the managed groups (CAS_GROUPS_ATTRIBUTE)")
    if not grants:
        return []
    return [
        _warning(
            41,
            f"Several CAS servers are configured and CAS attributes grant {'; '.join(grants)}: "
            "any tenant's CAS server can give these to its own users, and they span the whole "
            "project (the admin and group permissions show every tenant's data).",
            "Grant these by hand (or through groups whose permissions are limited to one "
            "tenant); silence this warning only if every CAS server is trusted alike.",
        )
    ]


def _has_cas_middleware() -> bool:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    return _has_subclass(middleware, "django_cas_ng.middleware.CASMiddleware")


@register(Tags.security)
def check_session_life(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W050-W059 / E050-E059: the settings of docs/sessions.rst."""
    messages: list[CheckMessage] = []
    if get("CAS_REPLAY_WINDOW") == 0:
        messages.append(
            _warning(
                50,
                "CAS_REPLAY_WINDOW is 0: a ticket the CAS server validates twice signs in twice.",
                "Leave it at its default (a day) unless the CAS server itself refuses reuse.",
            )
        )
    age = ("CAS_SESSION_MAX_AGE", "django_cas_ng.session_age.SessionMaxAgeMiddleware")
    if _needs_middleware(*age):
        messages.append(_error(50, *_middleware_missing(*age)))
    recheck = ("CAS_RECHECK_INTERVAL", "django_cas_ng.recheck.SessionRecheckMiddleware")
    if _needs_middleware(*recheck):
        messages.append(_error(51, *_middleware_missing(*recheck)))
    alias = get("CAS_RATE_LIMIT_CACHE")
    if get("CAS_RATE_LIMITS") and alias not in (
        getattr(settings, "CACHES", None) or {"default": 0}
    ):
        messages.append(
            _error(
                52,
                f"CAS_RATE_LIMIT_CACHE is {alias!r}, which is not an alias in CACHES.",
                "Name a cache of CACHES; one shared by every worker makes the limits site-wide.",
            )
        )
    return messages


def _needs_middleware(name: str, path: str) -> bool:
    """E050/E051: the setting holds a valid value (else E009 reports it) but ``path`` is not in
    ``MIDDLEWARE``."""
    value, rule = get(name), REGISTRY[name].rule
    if value is None or (rule is not None and not rule.accepts(value)):
        return False
    return path not in (getattr(settings, "MIDDLEWARE", None) or [])


def _middleware_missing(name: str, path: str) -> tuple[str, str]:
    return (
        f"{name} is set but {path.rsplit('.', 1)[1]} is not in MIDDLEWARE.",
        f"Add {path!r} after AuthenticationMiddleware.",
    )
