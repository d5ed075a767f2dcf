"""Who a CAS user is: the (server, id) -> user mapping of sites with several CAS servers or a
stable id attribute, and the binding of a session to the server that signed it in.

A single-server site without ``CAS_USER_ID_ATTRIBUTE`` never reaches this module's queries: its
users are found by name, as in 5.1. See docs/identities.rst.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import IntegrityError, router, transaction
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ..conf import cas_settings
from ..exceptions import TenantConfigurationError
from ..models import CASIdentity
from . import observe
from .sessions import SERVER_SESSION_KEY
from .tenancy import is_multi_server
from .urls import get_server_url
from .xml import XML_SPACE

__all__ = [
    "SERVER_SESSION_KEY",
    "IdentityRefused",
    "MissingStableId",
    "bind_request_user",
    "identity_server",
    "in_use",
    "link_users",
    "session_is_bound",
    "stable_uid",
    "user_for_identity",
    "user_of_answer",
]

#: Longest server URL, id and name an identity row holds.
IDENTITY_MAX_LENGTH = 255
#: How many numbered usernames (``name-2`` ...) are tried for a new user before giving up.
MAX_USERNAME_TRIES = 20


#: C0 controls XML 1.0 cannot carry (it allows tab, LF and CR): only a CAS 1 or JSON answer
#: brings them, and PostgreSQL cannot store NUL (a 500).
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def has_control_characters(text: str) -> bool:
    """True when ``text`` (a CAS name or id) holds a character no XML answer can carry."""
    return _CONTROL_CHARACTERS.search(text) is not None


def composed(name: str) -> str:
    """``name`` in Unicode's composed form (NFC), "é" as one character whether CAS sent it so or
    as "e" and a combining accent (macOS-fed directories), as Django stores new usernames.

    Only letters and their combining marks are joined: a name with a character NFC replaces by
    another (the Kelvin sign by "K") or a compatibility form (full-width letters) is kept as
    sent, so a look-alike never becomes another user's name.
    """
    if name.isascii() or not all(unicodedata.is_normalized("NFC", c) for c in name):
        return name
    return unicodedata.normalize("NFC", name)


def name_forms(name: str) -> list[str]:
    """``name`` (composed) and, if different, its decomposed form (NFD), under which 5.1
    stored the name a server sent decomposed: the forms a lookup tries, in that order."""
    if name.isascii() or not unicodedata.is_normalized("NFC", name) or composed(name) != name:
        return [name]  # a name kept as sent (a look-alike letter) has no other form
    decomposed = unicodedata.normalize("NFD", name)
    return [name] if decomposed == name else [name, decomposed]


def stored_form(users: Any, field: str, name: str) -> str:
    """The form of ``name`` (:func:`name_forms`) a user in ``users`` (a manager or queryset)
    holds in ``field`` (the composed one if both); ``name`` when none does. One query, only
    for a name with two forms."""
    forms = name_forms(name)
    if len(forms) == 1:
        return name
    held = set(users.filter(**{f"{field}__in": forms}).values_list(field, flat=True))
    return next((form for form in forms if form in held), name)


class IdentityRefused(Exception):
    """The CAS answer cannot be mapped to an identity; the message says why (for the log)."""


class MissingStableId(IdentityRefused):
    """The answer lacks a single value of ``CAS_USER_ID_ATTRIBUTE``."""

    def page_message(self) -> str:
        """What the 403 page tells the user."""
        return _(
            "The CAS server signed you in, but did not release the identifier this site "
            "knows your account by. Contact the site's administrators."
        )


class UserFactory(Protocol):
    """What this module needs of ``CASBackend``: its hooks for new users."""

    def configure_user(self, user: AbstractBaseUser) -> AbstractBaseUser: ...

    def get_user_id(self, attributes: Mapping[str, Any] | None) -> str: ...


def in_use() -> bool:
    """True when users are found through :class:`CASIdentity` rather than by name."""
    return is_multi_server() or bool(cas_settings.user_id_attribute)


def identity_server(request: HttpRequest | None) -> str:
    """The server an identity belongs to: the request's CAS server with several servers, else
    ``''`` (the site's only server, whatever its URL)."""
    return get_server_url(request) if is_multi_server() else ""


def stable_uid(name: str, attributes: Mapping[str, Any]) -> str:
    """The id a user is known by: ``CAS_USER_ID_ATTRIBUTE``'s value, else the CAS name."""
    attribute = cas_settings.user_id_attribute
    if not attribute:
        return name
    value = attributes.get(attribute)
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else None
    uid = "" if value is None else str(value).strip(XML_SPACE)
    if not uid:
        raise MissingStableId(f"the CAS answer for {name} has no single {attribute} (stable id)")
    return uid


def find_identity(server: str, uid: str, name: str) -> CASIdentity | None:
    """The identity row of (server, uid); a row linked by name ahead of time learns its id."""
    rows = CASIdentity.objects.select_related("user")
    at_server = rows.filter(server_url=server)
    if uid == name:
        # A row of the decomposed name (stored before names were composed) moves to the name.
        row: CASIdentity | None = at_server.filter(uid=stored_form(at_server, "uid", uid)).first()
        if row is not None and row.uid != uid:
            row.uid = row.name = uid
            row.save(update_fields=["uid", "name"])
        return row
    row = at_server.filter(uid=uid).first()
    if row is None:
        linked = at_server.filter(linked_by_name=True)
        row = linked.filter(uid=stored_form(linked, "uid", name)).first()
        if row is not None:
            row.uid, row.linked_by_name = uid, False
            row.save(update_fields=["uid", "linked_by_name"])
    return row


def user_for_identity(
    backend: UserFactory, request: HttpRequest | None, name: str, attributes: Mapping[str, Any]
) -> tuple[AbstractBaseUser | None, bool]:
    """The user of the CAS answer's identity, created when ``CAS_CREATE_USER`` allows.

    Raises :class:`IdentityRefused` when a stable id is configured but not released.
    """
    server = identity_server(request)
    uid = stable_uid(name, attributes)
    if max(len(server), len(uid), len(name)) > IDENTITY_MAX_LENGTH:
        raise IdentityRefused(f"server URL, id or name of {name[:64]} longer than 255 characters")
    row = find_identity(server, uid, name)
    if row is not None:
        _follow_rename(row, server, name)
        return row.user, False
    adopted = None if server else _unlinked_user(name)
    if adopted is None and not cas_settings.create_user:
        return None, False
    try:
        with transaction.atomic(using=router.db_for_write(CASIdentity)):
            user = adopted or _new_user(backend, server, name, attributes)
            CASIdentity.objects.create(server_url=server, uid=uid, name=name, user=user)
    except IntegrityError as error:
        # A concurrent first sign-in of the same identity won; use its row.
        row = find_identity(server, uid, name)
        if row is None:
            # The user itself clashed (a primary key chosen by CAS_CREATE_USER_WITH_ID, a
            # unique field of the user model): refused, never another user, never a 500.
            raise IdentityRefused(
                f"could not create a user for {name[:64]} from {server or 'the CAS server'}: "
                f"{error.__class__.__name__}"
            ) from None
        return row.user, False
    observe.login.info(
        "New CAS identity %s at %s -> user %s", uid, server or "-", user.get_username()
    )
    if adopted is None:
        return backend.configure_user(user), True
    return user, False


def user_of_answer(request: HttpRequest, name: str, attributes: Mapping[str, Any]) -> Any:
    """The pk of the user a CAS answer's identity maps to, or None (no such identity)."""
    try:
        uid = stable_uid(name, attributes)
    except IdentityRefused:
        return None
    row = find_identity(identity_server(request), uid, name)
    return None if row is None else row.user_id


def _unlinked_user(name: str) -> AbstractBaseUser | None:
    """Single server with a stable id: the account 5.1 would have used, if no id claims it;
    :class:`IdentityRefused` when several users hold the name."""
    user_model = get_user_model()
    field = cas_settings.local_name_field or user_model.USERNAME_FIELD
    unlinked = user_model._default_manager.filter(cas_identities__isnull=True)
    users = unlinked.filter(**{field: stored_form(unlinked, field, name)})
    found: list[AbstractBaseUser] = list(users[:2])
    if len(found) > 1:
        # A field that need not be unique (an e-mail a user may edit): never guess.
        raise IdentityRefused(f"several users have {field} {name!r}")
    return found[0] if found else None


def _candidates(server: str, name: str) -> list[str]:
    """Usernames a new user of ``name`` may get, in order of preference."""
    numbers = range(2, MAX_USERNAME_TRIES + 2)
    if not server:
        return [name] + [f"{name}-{n}" for n in numbers]
    qualified = f"{name}@{urlsplit(server).netloc}"
    # The plain-name numbers are for names too long to qualify within the username field.
    return [
        name,
        qualified,
        *(f"{qualified}-{n}" for n in numbers),
        *(f"{name}-{n}" for n in numbers),
    ]


def _free_username(server: str, name: str, exclude_pk: Any = None) -> str | None:
    """The first candidate username no other user holds."""
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    max_length = getattr(user_model._meta.get_field(field), "max_length", None) or 10**6
    candidates = [c for c in _candidates(server, name) if len(c) <= max_length]
    taken = set(
        user_model._default_manager.filter(**{f"{field}__in": candidates})
        .exclude(pk=exclude_pk)
        .values_list(field, flat=True)
    )
    return next((c for c in candidates if c not in taken), None)


def primary_key_value(value: str) -> Any:
    """``value`` (``CAS_CREATE_USER_WITH_ID``'s released id) as the user model's primary key;
    :class:`IdentityRefused` when the column cannot hold it ("abc", out of range)."""
    user_model = get_user_model()
    try:
        return user_model._meta.pk.clean(value, None)
    except ValidationError:
        raise IdentityRefused(
            f"the released id {value[:64]!r} cannot be a primary key of {user_model.__name__}"
        ) from None


def _new_user(
    backend: UserFactory, server: str, name: str, attributes: Mapping[str, Any]
) -> AbstractBaseUser:
    """A new user for an identity, under the first free username (the CAS name if free)."""
    user_model = get_user_model()
    username = _free_username(server, name)
    if username is None:
        raise IdentityRefused(f"no free username for {name} from {server or 'the CAS server'}")
    # No usable password: password reset and login by password stay closed to a user a CAS
    # server created, whose session would then be bound to no server.
    fields: dict[str, Any] = {user_model.USERNAME_FIELD: username, "password": make_password(None)}
    if cas_settings.create_user_with_id:
        fields[user_model._meta.pk.name] = primary_key_value(backend.get_user_id(attributes))
    user: AbstractBaseUser = user_model._default_manager.create(**fields)
    return user


def _follow_rename(row: CASIdentity, server: str, name: str) -> None:
    """The CAS name of a stable id changed: remember it, and rename the user along when its
    username followed the old name."""
    if row.name in name_forms(name):
        return  # the same name, perhaps as 5.1 stored a decomposed one: no rename
    old, row.name = row.name, name
    row.save(update_fields=["name"])
    user = row.user
    if user.get_username() not in _candidates(server, old)[:2]:
        return
    username = _free_username(server, name, exclude_pk=user.pk)
    if username is None:
        observe.login.warning("Kept username %s: no free name for %s", user.get_username(), name)
        return
    observe.login.info("CAS renamed %s to %s: username follows", user.get_username(), username)
    setattr(user, get_user_model().USERNAME_FIELD, username)
    user.save(update_fields=[get_user_model().USERNAME_FIELD])


def link_users(server: str, dry_run: bool = False) -> tuple[int, int]:
    """Claim for ``server`` the accounts of a single-server past: rows of the site's only server
    move to it, and users without any identity get one by name. Returns (moved, linked)."""
    unbound = CASIdentity.objects.filter(server_url="")
    user_model = get_user_model()
    field = cas_settings.local_name_field or user_model.USERNAME_FIELD
    unlinked = user_model._default_manager.filter(cas_identities__isnull=True)
    pairs = list(unlinked.values_list("pk", field))
    if dry_run:
        return unbound.count(), len(pairs)
    with transaction.atomic(using=router.db_for_write(CASIdentity)):
        moved = unbound.update(server_url=server)
        rows = [
            CASIdentity(
                server_url=server,
                uid=str(value),
                name=str(value),
                user_id=pk,
                linked_by_name=bool(cas_settings.user_id_attribute),
            )
            for pk, value in pairs
            if value
        ]
        # A value two users share (CAS_LOCAL_NAME_FIELD) links the first one only.
        CASIdentity.objects.bulk_create(rows, ignore_conflicts=True)
    return moved, len(pairs)


# --- A session belongs to the server that signed it in --------------------------------------


def session_is_bound(request: HttpRequest) -> bool:
    """False when the session was signed in by CAS at another server than this request's (or
    at an unknown one); True for anonymous sessions and other backends' sign-ins."""
    session = request.session
    if SESSION_KEY not in session:
        return True
    server = session.get(SERVER_SESSION_KEY)
    if server is None:
        return not _signed_in_by_cas(session.get(BACKEND_SESSION_KEY))
    try:
        return bool(server == get_server_url(request))
    except TenantConfigurationError:
        return False


def _signed_in_by_cas(backend_path: Any) -> bool:
    try:
        backend = import_string(str(backend_path))
    except ImportError:
        return False
    return hasattr(backend, "user_from_answer")


def _checked(request: HttpRequest, user: Any) -> Any:
    if user.is_authenticated and not session_is_bound(request):
        observe.login.info(
            "Session of %s was signed in at another CAS server: anonymous on host %s",
            user.get_username(),
            request.get_host(),
        )
        return AnonymousUser()
    return user


#: ``is_multi_server()`` as last computed, for the check every request makes; reset when
#: ``CAS_SERVER_URL`` or ``CAS_CONFIG_RESOLVER`` changes (``setting_changed``).
_multi_server: list[bool] = []


def _forget_multi_server(sender: Any, setting: str, **kwargs: Any) -> None:
    if setting in ("CAS_SERVER_URL", "CAS_CONFIG_RESOLVER"):
        _multi_server.clear()


setting_changed.connect(_forget_multi_server, dispatch_uid="django_cas_ng.identities.multi")


def bind_request_user(request: HttpRequest) -> None:
    """With several CAS servers, make ``request.user`` (and ``auser()``) anonymous when the
    session was signed in at another server. Lazy: nothing runs until the user is read."""
    if not _multi_server:
        _multi_server.append(is_multi_server())
    if not _multi_server[0] or not hasattr(request, "user"):
        return
    user = request.user
    request.user = SimpleLazyObject(lambda: _checked(request, user))  # type: ignore[assignment]
    auser = getattr(request, "auser", None)
    if auser is None:
        return
    found: list[Any] = []

    async def checked_auser() -> Any:
        if not found:
            found.append(await sync_to_async(_checked)(request, await auser()))
        return found[0]

    request.auser = checked_auser
