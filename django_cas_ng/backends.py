"""``CASBackend``: validate a ticket, then map the CAS answer to a Django user in small steps
that a site customises by overriding one method each."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, models
from django.db.models import Field
from django.http import HttpRequest

from ._internal import access, identities, mirror, observe, ratelimit, replay
from ._internal.observe import DENIED, REFUSED, SUCCESS, Measurement, measure_validation
from ._internal.sessions import remember_ticket
from ._internal.tenancy import request_config
from ._internal.xml import XML_SPACE
from .client import CLIENT_CLASSES, get_cas_client, validate_ticket
from .conf import cas_settings
from .exceptions import TicketValidationError
from .signals import cas_user_authenticated

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["CASBackend", "MappedUser", "get_cas_client"]


@dataclass(frozen=True)
class MappedUser:
    """The outcome of mapping a CAS answer to a local user: the user, or why there is none."""

    user: AbstractBaseUser | None
    created: bool
    username: str
    attributes: dict[str, Any]
    #: Why the user was refused; empty when ``user`` is set.
    reason: str = ""


#: Set on the request when CAS accepted the ticket but this site refused the account, so the
#: view can say so instead of blaming the ticket.
ACCOUNT_REFUSED_ATTRIBUTE = "cas_account_refused"


def _mark_account_refused(request: HttpRequest | None, message: str | None = None) -> None:
    """Mark the request as refused by this site, not by the CAS server (``message``: what the
    403 page says instead of the general text)."""
    if request is not None and not isinstance(getattr(request, ACCOUNT_REFUSED_ATTRIBUTE, 0), str):
        setattr(request, ACCOUNT_REFUSED_ATTRIBUTE, message or True)


class CASBackend(ModelBackend):
    """Authenticates a user from a CAS service ticket."""

    #: The client class for each ``CAS_VERSION`` (the first CAS backend in
    #: ``AUTHENTICATION_BACKENDS`` chooses for every CAS call): map a subclass here to obtain
    #: proxy tickets another way (docs/proxy.rst).
    client_classes: ClassVar[Mapping[str, type[Any]]] = CLIENT_CLASSES

    def get_client_class(self, version: str) -> type[Any]:
        """The client class for ``version``; KeyError when there is none."""
        return self.client_classes[version]

    #: The request whose CAS answer is being mapped: its tenant's settings apply.
    _request: HttpRequest | None = None

    @observe.hide_secrets
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, ticket: str, service: str
    ) -> AbstractBaseUser | None:
        """Validate ``ticket`` for ``service`` and return the user, or ``None`` if refused.

        Raises :class:`~django_cas_ng.exceptions.CASUnavailable` when the CAS server cannot
        be asked, so the view can answer 503 instead of a misleading 403.
        """
        if not self.admit_ticket(request, ticket):
            return None
        with replay.unless_unavailable(ticket, request):
            answer = self.validate(request, ticket, service)
        if answer is None:
            return None
        username, attributes, pgtiou = answer
        mapped = self.user_from_answer(request, username, attributes)
        user = self._admitted_user(request, ticket, username, mapped)
        if user is None:
            return None
        if request is not None:
            self.remember_login(request, mapped, pgtiou)
            access.note_session_limit(request, mapped.attributes)
            remember_ticket(request.session, ticket)
        cas_user_authenticated.send(
            sender=self,
            user=user,
            created=mapped.created,
            username=mapped.username,
            attributes=mapped.attributes,
            pgtiou=pgtiou,
            ticket=ticket,
            service=service,
            request=request,
        )
        return user

    # Django's authenticate() asks every backend for inspect.signature(authenticate) at each
    # sign-in; inspect returns a __signature__ it finds instead of building it again.
    authenticate.__signature__ = inspect.signature(authenticate)  # type: ignore[attr-defined]

    def admit_ticket(self, request: HttpRequest | None, ticket: str) -> bool:
        """Count the request against ``CAS_RATE_LIMITS`` (may raise ``RateLimited``) and claim
        the ticket as used; False when this site accepted it before (a replay)."""
        if request is not None:
            ratelimit.hit(request, ratelimit.TICKET)
        return replay.claim(ticket, request)

    def _admitted_user(
        self, request: HttpRequest | None, ticket: str, username: str | None, mapped: MappedUser
    ) -> AbstractBaseUser | None:
        """The mapped user with the released attributes applied, or None (the request marked
        as refused by this site, not by CAS) when the site turns the account away."""
        if mapped.user is None:
            observe.login.warning("Refused ticket %s: %s", observe.redact(ticket), mapped.reason)
            if username:  # CAS 1 and SAML 1.1 refuse a ticket by naming no user
                _mark_account_refused(request)
            return None
        if not self._apply_released(mapped.user, mapped, ticket):
            _mark_account_refused(request)
            return None
        return mapped.user

    def _apply_released(self, user: AbstractBaseUser, mapped: MappedUser, ticket: str) -> bool:
        """Apply affiliations and attributes; False when they leave a user who may not sign in."""
        # Even without attributes: a staff/admin flag must go once the affiliation does.
        self.apply_affiliations(user, mapped.attributes)
        if not mapped.attributes:
            return True
        self.apply_attributes(user, mapped.attributes)
        # An attribute may have just deactivated the user: refuse now, not on the next page.
        if self.user_can_authenticate(cast("User", user)):
            return True
        observe.login.warning(
            "Refused ticket %s: user_can_authenticate refused %s after its attributes",
            observe.redact(ticket),
            mapped.username,
        )
        return False

    def validate(
        self, request: HttpRequest | None, ticket: str, service: str
    ) -> tuple[str | None, dict[str, Any], str | None] | None:
        """Ask the CAS server: (username, attributes, pgtiou), or None when it refuses.

        Every call is measured and reported as ``cas_ticket_validated`` (sender: this class).
        """
        refusal: TicketValidationError | None = None
        with measure_validation(type(self), service, request) as measurement:
            client = get_cas_client(service_url=service, request=request)
            try:
                answer = validate_ticket(client, ticket)
            except TicketValidationError as error:
                refusal, measurement.outcome = error, REFUSED
            else:
                measurement.outcome = SUCCESS if answer[0] else REFUSED
                measurement.rule = self.access_rule(answer[1]) if answer[0] else None
                if measurement.rule:
                    measurement.outcome = DENIED
        if measurement.rule:
            self._denied(request, ticket, measurement)
            return None
        if refusal is None:
            return answer
        observe.login.warning(
            "CAS refused ticket %s for %s: %s %s outcome=%s ms=%d",
            observe.redact(ticket),
            service,
            refusal.code,
            observe.mask(str(refusal), ticket),
            measurement.outcome,
            measurement.milliseconds,
        )
        return None

    def access_rule(self, attributes: Mapping[str, Any]) -> str | None:
        """The name of the ``CAS_ACCESS_RULES`` rule (or ``CAS_LONG_TERM_LOGIN``) refusing these
        attributes (after ``CAS_RENAME_ATTRIBUTES``), else None."""
        return access.refusing_rule(self.rename_attributes(dict(attributes)))

    def _denied(self, request: HttpRequest | None, ticket: str, measurement: Measurement) -> None:
        rule = str(measurement.rule)
        observe.login.warning(
            "Refused ticket %s: access rule %r outcome=%s ms=%d",
            observe.redact(ticket),
            rule,
            measurement.outcome,
            measurement.milliseconds,
        )
        _mark_account_refused(request, access.refusal_message(rule))

    def user_from_answer(
        self, request: HttpRequest | None, username: str | None, attributes: Mapping[str, Any]
    ) -> MappedUser:
        """Map a CAS answer to a local user through the overridable steps; sign-in and proxy
        tickets both go through here."""
        attributes = dict(attributes)
        self._request = request
        name = self.get_username(username, attributes) if username else None
        if not name:
            return self._refused("", attributes, self._no_username_reason())
        if identities.has_control_characters(name):
            return self._refused(
                "", attributes, f"the CAS username {name!r} has a control character"
            )
        raw_name, name = name, self.clean_username(name)
        if not name:
            return self._refused(
                "",
                attributes,
                f"the CAS username {raw_name!r} would become another name under "
                "CAS_FORCE_CHANGE_USERNAME_CASE",
            )
        if cas_settings.create_user and not _fits_username_field(name):
            return self._refused("", attributes, "the CAS username is too long for the user model")
        if attributes and self.bad_attributes_reject(request, name, attributes):
            return self._refused(name, attributes, f"bad_attributes_reject refused {name}")
        attributes = self.rename_attributes(attributes)
        try:
            user, created = self.find_user(request, name, attributes)
        except identities.IdentityRefused as refusal:
            if isinstance(refusal, identities.MissingStableId):
                _mark_account_refused(request, refusal.page_message())
            return self._refused(name, attributes, str(refusal))
        if user is None:
            return self._refused(name, attributes, f"no local user {name} (CAS_CREATE_USER off)")
        if not self.user_can_authenticate(cast("User", user)):
            return self._refused(name, attributes, f"user_can_authenticate refused {name}")
        return MappedUser(user=user, created=created, username=name, attributes=attributes)

    def _no_username_reason(self) -> str:
        attribute = cas_settings.username_attribute
        if attribute != "cas:user":
            return f"the CAS answer has no single {attribute} (CAS_USERNAME_ATTRIBUTE)"
        return "the CAS answer names no usable username"

    @staticmethod
    def _refused(username: str, attributes: dict[str, Any], reason: str) -> MappedUser:
        return MappedUser(None, False, username, attributes, reason)

    def remember_login(self, request: HttpRequest, mapped: MappedUser, pgtiou: str | None) -> None:
        """Keep what an accepted sign-in released in the session, replacing the previous one's."""
        if mapped.attributes:
            request.session["attributes"] = mapped.attributes
        else:
            request.session.pop("attributes", None)
        if pgtiou and request_config(request).proxy_callback:
            request.session["pgtiou"] = pgtiou
        else:
            # An earlier sign-in's IOU (another server's, say) must not claim a PGT for this one.
            request.session.pop("pgtiou", None)

    def get_username(self, username: str | None, attributes: Mapping[str, Any]) -> str | None:
        """The CAS username, or the ``CAS_USERNAME_ATTRIBUTE`` attribute when one is set: None
        unless it holds one value (repeated or padded with white space, as ``cas:user``)."""
        attribute = cas_settings.username_attribute
        if attribute == "cas:user":
            return username
        value = attributes.get(attribute)
        values = value if isinstance(value, (list, tuple)) else [value]
        # A directory keeps no order among several values: the first could be another's name.
        names = {str(v).strip(XML_SPACE) for v in values if v is not None} - {""}
        if request_config(self._request).version == "CAS_2_SAML_1_0":
            # python-cas put the first value (or, without one, the NameIdentifier) in username.
            return None if len(names) > 1 else username
        return names.pop() if len(names) == 1 else None

    def clean_username(self, username: str) -> str:
        """Normalise the username before lookup: composed Unicode form (NFC), then
        ``CAS_FORCE_CHANGE_USERNAME_CASE``; '' (refused) when the change is more than one of
        case (:func:`_case_changed`)."""
        username = identities.composed(username)
        case = cas_settings.force_change_username_case
        if case == "lower":
            return _case_changed(username, username.lower(), str.upper)
        if case == "upper":
            return _case_changed(username, username.upper(), str.lower)
        if case is not None:
            raise ImproperlyConfigured(
                "Invalid value for the CAS_FORCE_CHANGE_USERNAME_CASE setting. "
                "Valid values are `'lower'`, `'upper'`, and `None`."
            )
        return username

    def bad_attributes_reject(
        self, request: HttpRequest | None, username: str, attributes: Mapping[str, Any]
    ) -> bool:
        """Return True to refuse this sign-in based on the released attributes."""
        return False

    def rename_attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Apply ``CAS_RENAME_ATTRIBUTES`` (CAS name -> local name)."""
        for cas_name, local_name in cas_settings.rename_attributes.items():
            if cas_name in attributes and cas_name != local_name:
                attributes[local_name] = attributes.pop(cas_name)
        return attributes

    def find_user(
        self, request: HttpRequest | None, username: str, attributes: Mapping[str, Any]
    ) -> tuple[AbstractBaseUser | None, bool]:
        """The user of a CAS answer: by (server, id) with several CAS servers or a stable id
        (:mod:`~django_cas_ng._internal.identities`), else :meth:`get_or_create_user` by name,
        as 5.1."""
        if identities.in_use():
            return identities.user_for_identity(self, request, username, attributes)
        return self.get_or_create_user(username, attributes)

    def get_or_create_user(
        self, username: str, attributes: Mapping[str, Any]
    ) -> tuple[AbstractBaseUser | None, bool]:
        """Find the user, or create it (``CAS_CREATE_USER``); safe for concurrent first logins."""
        user_model = get_user_model()
        manager = user_model._default_manager
        if not cas_settings.create_user:
            return _existing_user(manager, username), False
        field = user_model.USERNAME_FIELD
        lookup_kwargs: dict[str, Any] = {field: identities.stored_form(manager, field, username)}
        if cas_settings.create_user_with_id:
            # The primary key by its own name: a model's may be ``uuid`` rather than ``id``.
            pk = identities.primary_key_value(self.get_user_id(attributes))
            lookup_kwargs[user_model._meta.pk.name] = pk
        found = _by_own_natural_key(manager, lookup_kwargs)
        if found is not None:
            return found, False
        try:
            user, created = manager.get_or_create(**lookup_kwargs)
        except IntegrityError:
            # Another request created the same user between our SELECT and INSERT.
            try:
                user, created = manager.get(**lookup_kwargs), False
            except user_model.DoesNotExist:
                # Not a race: the name or the released id is another user's. Never a 500.
                raise identities.IdentityRefused(
                    f"could not create a user for {username!r}: its name or id is taken"
                ) from None
        if created:
            user = self.configure_user(user)
        return user, created

    def get_user_id(self, attributes: Mapping[str, Any] | None) -> str:
        """The primary key for ``CAS_CREATE_USER_WITH_ID``; ImproperlyConfigured without ``id``."""
        if not attributes:
            raise ImproperlyConfigured(
                "CAS_CREATE_USER_WITH_ID is True, but no attributes were provided"
            )
        user_id = attributes.get("id")
        if not user_id:
            raise ImproperlyConfigured(
                "CAS_CREATE_USER_WITH_ID is True, but `'id'` is not part of attributes."
            )
        return str(user_id)

    def configure_user(self, user: AbstractBaseUser) -> AbstractBaseUser:
        """Hook called once for a newly created user; returns the (possibly changed) user."""
        return user

    def affiliations(self, attributes: Mapping[str, Any]) -> list[str]:
        """The affiliation values released under ``CAS_AFFILIATIONS_KEY``, as a list."""
        value = attributes.get(cas_settings.affiliations_key) or []
        values = value if isinstance(value, (list, tuple)) else [value]
        return [str(v) for v in values if v]

    def apply_affiliations(self, user: AbstractBaseUser, attributes: Mapping[str, Any]) -> None:
        """Groups, handlers and flags from the released affiliations and attributes."""
        affiliations = self.affiliations(attributes)
        # ``user.groups`` builds a manager each time: only read when groups are mapped.
        groups = getattr(user, "groups", None) if cas_settings.map_affiliations else None
        if groups is not None:
            for name in mirror.storable_group_names(affiliations):
                groups.add(Group.objects.get_or_create(name=name)[0])
        for handler in cas_settings.affiliations_handlers:
            if callable(handler):
                handler(user, affiliations)
        # Flags (5.1's staff/admin affiliations, CAS_USER_FLAGS) and groups follow CAS both ways.
        released = {**attributes, cas_settings.affiliations_key: affiliations}
        changed = mirror.apply_flags(user, released)
        if changed:
            user.save(update_fields=changed)
        mirror.mirror_groups(user, attributes)

    def apply_attributes(self, user: AbstractBaseUser, attributes: Mapping[str, Any]) -> None:
        """Copy released attributes onto same-named fields (``CAS_APPLY_ATTRIBUTES_TO_USER``).

        Values a field cannot hold are skipped with a warning; staff flag changes are audited.
        """
        fields = writable_fields(user, cas_settings.apply_attributes_to_user)
        changed = []
        for name, raw in attributes.items():
            field = fields.get(name)
            if field is None:
                continue
            try:
                value = field_value(user, field, raw)
            except ValidationError as error:
                observe.login.warning(
                    "Did not apply attribute %r to %s: %s", name, user.get_username(), error
                )
                continue
            old = getattr(user, field.attname)
            if _set_if_changed(user, field.attname, value):
                changed.append(field.attname)
                if name in _AUDITED_FIELDS:
                    observe.login.info(
                        "CAS attribute changed %s of %s: %r -> %r",
                        name,
                        user.get_username(),
                        old,
                        value,
                    )
        if changed and cas_settings.create_user:
            user.save(update_fields=changed)


#: Fields never written from attributes, whatever ``CAS_APPLY_ATTRIBUTES_TO_USER`` lists.
_NEVER_APPLIED = frozenset({"password", "last_login"})
#: Changes to these fields made from attributes are logged at INFO.
_AUDITED_FIELDS = frozenset({"is_staff", "is_superuser"})
_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n", ""})


def _case_changed(name: str, changed: str, other_way: Callable[[str], str]) -> str:
    """``changed``, or '' when it is a name that another CAS name changes case into too: the
    Kelvin sign lower-cases to "k", dotless i (U+0131) upper-cases to "I", "ß" to "SS". A change of
    case alone keeps both names equal in the other case (``other_way``)."""
    return changed if other_way(changed) == other_way(name) else ""


def _existing_user(manager: Any, username: str) -> AbstractBaseUser | None:
    """The user of ``username`` without creating one: by ``CAS_LOCAL_NAME_FIELD``, else by the
    manager's natural key (as 5.1: its own lookup, case-insensitive say, applies)."""
    model, local_name_field = manager.model, cas_settings.local_name_field
    # The composed name, then the decomposed one a 5.1 account may be stored under.
    for form in identities.name_forms(username):
        try:
            if local_name_field:
                user: AbstractBaseUser = manager.get(**{local_name_field: form})
            else:
                user = manager.get_by_natural_key(form)
        except model.DoesNotExist:
            continue
        except model.MultipleObjectsReturned:
            # A field that need not be unique (an e-mail a user may edit): never guess.
            raise identities.IdentityRefused(
                f"several users have {local_name_field or 'the natural key'} {form!r}"
            ) from None
        return user
    return None


def _by_own_natural_key(manager: Any, lookup_kwargs: dict[str, Any]) -> AbstractBaseUser | None:
    """With a manager that has its own ``get_by_natural_key`` (case-insensitive, say): the user
    holding the name exactly (5.1's), else the one that method finds, as a password sign-in
    would; None otherwise."""
    own = getattr(type(manager), "get_by_natural_key", BaseUserManager.get_by_natural_key)
    if own is BaseUserManager.get_by_natural_key:
        return None  # the exact lookup get_or_create makes anyway (or a plain Manager)
    exact: AbstractBaseUser | None = manager.filter(**lookup_kwargs).first()
    if exact is not None:
        return exact
    model = manager.model
    name = lookup_kwargs[model.USERNAME_FIELD]
    try:
        user: AbstractBaseUser = manager.get_by_natural_key(name)
    except model.DoesNotExist:
        return None
    except model.MultipleObjectsReturned:
        raise identities.IdentityRefused(f"several users have the natural key {name!r}") from None
    # With CAS_CREATE_USER_WITH_ID, a user under another id is not this one (get_or_create refuses).
    pk = lookup_kwargs.get(model._meta.pk.name, user.pk)
    return user if user.pk == pk else None


def _fits_username_field(name: str) -> bool:
    """Whether the user model's username column can hold ``name`` (PostgreSQL raises if not)."""
    user_model = get_user_model()
    max_length = getattr(user_model._meta.get_field(user_model.USERNAME_FIELD), "max_length", None)
    return max_length is None or len(name) <= max_length


def writable_fields(
    user: AbstractBaseUser, setting: bool | Sequence[str]
) -> dict[str, Field[Any, Any]]:
    """The user fields ``setting`` lets attributes write: all (``True``), listed ones, or none."""
    if not setting:
        return {}
    allowed = None if setting is True else set(setting)
    return {
        field.name: field
        for field in user._meta.concrete_fields
        if not field.primary_key
        and not field.is_relation
        and field.name not in _NEVER_APPLIED
        and field.name != get_user_model().USERNAME_FIELD
        and (allowed is None or field.name in allowed)
    }


def field_value(user: AbstractBaseUser, field: Field[Any, Any], raw: Any) -> Any:
    """``raw`` (a released attribute) as a value ``field`` holds; ValidationError if it cannot."""
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if isinstance(field, models.BooleanField) and not isinstance(raw, bool):
        text = "" if raw is None else str(raw).strip().lower()
        if text not in _TRUE | _FALSE:
            raise ValidationError(f"{raw!r} is not a boolean")
        raw = text in _TRUE
    elif raw is None and not field.null:
        raw = ""
    value = field.to_python(raw)
    if isinstance(value, str) and "\x00" in value:
        # Django's form fields refuse it too; PostgreSQL cannot store it (a 500).
        raise ValidationError("the value has a NUL character")
    field.clean(value, user)
    return value


def _set_if_changed(user: AbstractBaseUser, name: str, value: Any) -> bool:
    if getattr(user, name, None) == value:
        return False
    setattr(user, name, value)
    return True
