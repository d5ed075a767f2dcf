"""Every ``CAS_*`` setting with its default, read from ``django.conf.settings`` at call time.

Nothing is written into ``django.conf.settings``: ``override_settings`` and pytest-django's
``settings`` fixture take effect on the next read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.utils.functional import empty
from django.utils.translation import gettext_lazy as _

DEFAULTS: dict[str, Any] = {
    "CAS_SERVER_URL": None,
    "CAS_VERSION": "2",
    "CAS_ADMIN_REDIRECT": True,
    "CAS_ADMIN_PREFIX": None,
    "CAS_CREATE_USER": True,
    "CAS_CREATE_USER_WITH_ID": False,
    "CAS_LOGIN_URL_NAME": "cas_ng_login",
    "CAS_LOGOUT_URL_NAME": "cas_ng_logout",
    "CAS_EXTRA_LOGIN_PARAMS": None,
    "CAS_RENEW": False,
    "CAS_GATEWAY": False,
    "CAS_IGNORE_REFERER": False,
    "CAS_LOGOUT_COMPLETELY": True,
    "CAS_REDIRECT_URL": "/",
    "CAS_RETRY_LOGIN": False,
    "CAS_STORE_NEXT": False,
    "CAS_USERNAME_ATTRIBUTE": "cas:user",
    "CAS_PROXY_CALLBACK": None,
    "CAS_ROOT_PROXIED_AS": None,
    "CAS_FORCE_CHANGE_USERNAME_CASE": None,
    "CAS_APPLY_ATTRIBUTES_TO_USER": False,
    "CAS_RENAME_ATTRIBUTES": {},
    "CAS_VERIFY_SSL_CERTIFICATE": True,
    "CAS_LOCAL_NAME_FIELD": None,
    "CAS_FORCE_SSL_SERVICE_URL": False,
    "CAS_CHECK_NEXT": True,
    "CAS_SESSION_FACTORY": None,
    "CAS_MAP_AFFILIATIONS": False,
    "CAS_AFFILIATIONS_HANDLERS": [],
    "CAS_AFFILIATIONS_KEY": "affiliation",
    "CAS_ADMIN_AFFILIATION": None,
    "CAS_STAFF_AFFILIATION": None,
    "CAS_LOGIN_MSG": _("Login succeeded. Welcome, %s."),
    "CAS_LOGGED_MSG": _("You are logged in as %s."),
    "CAS_LOGIN_NEXT_PAGE": None,
    "CAS_LOGOUT_NEXT_PAGE": None,
    # Added by this project.
    "CAS_TIMEOUT": (3.05, 5.0),
    "CAS_CA_BUNDLE": None,
    "CAS_CLIENT_CERT": None,
    "CAS_MAX_RESPONSE_BYTES": 1024 * 1024,
    "CAS_SLO_ALLOWED_NETWORKS": None,
    "CAS_SLO_CLIENT_IP_HEADER": None,
    "CAS_SLO_MAX_BYTES": 64 * 1024,
    "CAS_SLO_FRONT_CHANNEL": None,
    "CAS_PROXY_CHAINS": {},
    "CAS_API_REQUEST_PREDICATE": "django_cas_ng.api.wants_json",
}

VALID_VERSIONS = ("1", "2", "3", "CAS_2_SAML_1_0")


def get(name: str) -> Any:
    """Return the current value of one ``CAS_*`` setting, or its default."""
    wrapped = getattr(settings, "_wrapped", empty)
    if wrapped is empty:
        return getattr(settings, name, DEFAULTS[name])
    # The configured holder itself: LazySettings' fallback path for an unset name costs
    # microseconds, on every request the middleware sees. override_settings swaps the
    # holder, so this is still read at call time.
    return getattr(wrapped, name, DEFAULTS[name])


class CASSettings:
    """Typed, read-at-call-time view of the ``CAS_*`` settings."""

    @property
    def server_url(self) -> str | None:
        value: str | None = get("CAS_SERVER_URL")
        return value

    @property
    def version(self) -> str:
        """The protocol version as a string; ints 1/2/3 are accepted in settings."""
        return str(get("CAS_VERSION"))

    @property
    def admin_redirect(self) -> bool:
        return bool(get("CAS_ADMIN_REDIRECT"))

    @property
    def admin_prefix(self) -> str | None:
        value: str | None = get("CAS_ADMIN_PREFIX")
        return value

    @property
    def create_user(self) -> bool:
        return bool(get("CAS_CREATE_USER"))

    @property
    def create_user_with_id(self) -> bool:
        return bool(get("CAS_CREATE_USER_WITH_ID"))

    @property
    def login_url_name(self) -> str:
        return str(get("CAS_LOGIN_URL_NAME"))

    @property
    def logout_url_name(self) -> str:
        return str(get("CAS_LOGOUT_URL_NAME"))

    @property
    def extra_login_params(self) -> Mapping[str, str]:
        return get("CAS_EXTRA_LOGIN_PARAMS") or {}

    @property
    def renew(self) -> bool:
        return bool(get("CAS_RENEW"))

    @property
    def gateway(self) -> bool:
        return bool(get("CAS_GATEWAY"))

    @property
    def ignore_referer(self) -> bool:
        return bool(get("CAS_IGNORE_REFERER"))

    @property
    def logout_completely(self) -> bool:
        return bool(get("CAS_LOGOUT_COMPLETELY"))

    @property
    def redirect_url(self) -> str:
        return str(get("CAS_REDIRECT_URL"))

    @property
    def retry_login(self) -> bool:
        return bool(get("CAS_RETRY_LOGIN"))

    @property
    def store_next(self) -> bool:
        return bool(get("CAS_STORE_NEXT"))

    @property
    def username_attribute(self) -> str:
        return str(get("CAS_USERNAME_ATTRIBUTE"))

    @property
    def proxy_callback(self) -> str | None:
        value: str | None = get("CAS_PROXY_CALLBACK")
        return value

    @property
    def root_proxied_as(self) -> str | None:
        value: str | None = get("CAS_ROOT_PROXIED_AS")
        return value

    @property
    def force_change_username_case(self) -> str | None:
        value: str | None = get("CAS_FORCE_CHANGE_USERNAME_CASE")
        return value

    @property
    def apply_attributes_to_user(self) -> bool:
        return bool(get("CAS_APPLY_ATTRIBUTES_TO_USER"))

    @property
    def rename_attributes(self) -> Mapping[str, str]:
        return get("CAS_RENAME_ATTRIBUTES") or {}

    @property
    def verify_ssl_certificate(self) -> bool:
        return bool(get("CAS_VERIFY_SSL_CERTIFICATE"))

    @property
    def local_name_field(self) -> str | None:
        value: str | None = get("CAS_LOCAL_NAME_FIELD")
        return value

    @property
    def force_ssl_service_url(self) -> bool:
        return bool(get("CAS_FORCE_SSL_SERVICE_URL"))

    @property
    def check_next(self) -> bool:
        return bool(get("CAS_CHECK_NEXT"))

    @property
    def session_factory(self) -> Callable[[], Any] | None:
        value: Callable[[], Any] | None = get("CAS_SESSION_FACTORY")
        return value

    @property
    def map_affiliations(self) -> bool:
        return bool(get("CAS_MAP_AFFILIATIONS"))

    @property
    def affiliations_handlers(self) -> Sequence[Callable[..., Any]]:
        return get("CAS_AFFILIATIONS_HANDLERS") or []

    @property
    def affiliations_key(self) -> str:
        return str(get("CAS_AFFILIATIONS_KEY"))

    @property
    def admin_affiliation(self) -> str | None:
        value: str | None = get("CAS_ADMIN_AFFILIATION")
        return value

    @property
    def staff_affiliation(self) -> str | None:
        value: str | None = get("CAS_STAFF_AFFILIATION")
        return value

    @property
    def login_msg(self) -> str | None:
        value = get("CAS_LOGIN_MSG")
        return None if value is None else str(value)

    @property
    def logged_msg(self) -> str | None:
        value = get("CAS_LOGGED_MSG")
        return None if value is None else str(value)

    @property
    def login_next_page(self) -> str | None:
        value: str | None = get("CAS_LOGIN_NEXT_PAGE")
        return value

    @property
    def logout_next_page(self) -> str | None:
        value: str | None = get("CAS_LOGOUT_NEXT_PAGE")
        return value

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) timeout in seconds; a single number sets both."""
        value = get("CAS_TIMEOUT")
        if isinstance(value, (int, float)):
            return (float(value), float(value))
        connect, read = value
        return (float(connect), float(read))

    @property
    def ca_bundle(self) -> str | None:
        value: str | None = get("CAS_CA_BUNDLE")
        return value

    @property
    def client_cert(self) -> str | tuple[str, str] | None:
        value = get("CAS_CLIENT_CERT")
        return tuple(value) if isinstance(value, (list, tuple)) else value

    @property
    def max_response_bytes(self) -> int:
        return int(get("CAS_MAX_RESPONSE_BYTES"))

    @property
    def slo_allowed_networks(self) -> Sequence[str] | None:
        value: Sequence[str] | None = get("CAS_SLO_ALLOWED_NETWORKS")
        return value

    @property
    def slo_client_ip_header(self) -> str | None:
        value: str | None = get("CAS_SLO_CLIENT_IP_HEADER")
        return value

    @property
    def slo_max_bytes(self) -> int:
        return int(get("CAS_SLO_MAX_BYTES"))

    @property
    def slo_front_channel(self) -> bool | None:
        value = get("CAS_SLO_FRONT_CHANNEL")
        return None if value is None else bool(value)

    @property
    def proxy_chains(self) -> Mapping[str, Any]:
        return get("CAS_PROXY_CHAINS") or {}

    @property
    def api_request_predicate(self) -> str | Callable[[Any], bool]:
        """Dotted path to (or the) callable ``request -> bool`` that picks the JSON answers."""
        value: str | Callable[[Any], bool] = get("CAS_API_REQUEST_PREDICATE")
        return value


cas_settings = CASSettings()
