"""``CASBackend``: validate a ticket, then map the CAS answer to a Django user in small steps
that a site customises by overriding one method each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django.http import HttpRequest

from . import log
from .client import get_cas_client, validate_ticket
from .conf import cas_settings
from .exceptions import TicketValidationError
from .signals import cas_user_authenticated

__all__ = ["CASBackend", "get_cas_client"]

_PROTECTED_FIELDS = {"password", "last_login", "is_superuser", "is_staff"}


class CASBackend(ModelBackend):
    """Authenticates a user from a CAS service ticket."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, ticket: str, service: str
    ) -> Any | None:
        """Validate ``ticket`` for ``service`` and return the user, or ``None`` if refused.

        Raises :class:`~django_cas_ng.exceptions.CASUnavailable` when the CAS server cannot
        be asked, so the view can answer 503 instead of a misleading 403.
        """
        client = get_cas_client(service_url=service, request=request)
        try:
            username, attributes, pgtiou = validate_ticket(client, ticket)
        except TicketValidationError as refusal:
            log.login.warning(
                "CAS refused ticket %s for %s: %s %s",
                log.redact(ticket),
                service,
                refusal.code,
                log.mask(str(refusal), ticket),
            )
            return None
        if attributes and request is not None:
            request.session["attributes"] = attributes

        if not username:
            log.login.warning("CAS refused ticket %s for %s", log.redact(ticket), service)
            return None
        username = self.get_username(username, attributes)
        if not username:
            log.login.warning(
                "CAS accepted ticket %s but released no %r attribute to use as the username",
                log.redact(ticket),
                cas_settings.username_attribute,
            )
            return None
        username = self.clean_username(username)
        if attributes and self.bad_attributes_reject(request, username, attributes):
            log.login.warning("Refused %s: bad_attributes_reject said so", username)
            return None
        attributes = self.rename_attributes(attributes)

        user, created = self.get_or_create_user(username, attributes)
        if user is None:
            log.login.warning("Refused %s: no local user and CAS_CREATE_USER is off", username)
            return None
        if not self.user_can_authenticate(user):
            log.login.warning("Refused %s: user_can_authenticate said no (inactive?)", username)
            return None
        if pgtiou and cas_settings.proxy_callback and request is not None:
            request.session["pgtiou"] = pgtiou

        # Even without attributes: a staff/admin flag must go once the affiliation does.
        self.apply_affiliations(user, attributes)
        if attributes:
            self.apply_attributes(user, attributes)

        cas_user_authenticated.send(
            sender=self,
            user=user,
            created=created,
            username=username,
            attributes=attributes,
            pgtiou=pgtiou,
            ticket=ticket,
            service=service,
            request=request,
        )
        return user

    def get_username(self, username: str | None, attributes: Mapping[str, Any]) -> str | None:
        """The CAS username, or the ``CAS_USERNAME_ATTRIBUTE`` attribute when one is set."""
        attribute = cas_settings.username_attribute
        if attribute != "cas:user" and cas_settings.version != "CAS_2_SAML_1_0":
            value = attributes.get(attribute)
            if isinstance(value, list):
                value = value[0] if value else None
            return str(value) if value else None
        return username

    def clean_username(self, username: str) -> str:
        """Normalise the username before lookup; applies ``CAS_FORCE_CHANGE_USERNAME_CASE``."""
        case = cas_settings.force_change_username_case
        if case == "lower":
            return username.lower()
        if case == "upper":
            return username.upper()
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

    def get_or_create_user(self, username: str, attributes: Mapping[str, Any]) -> tuple[Any, bool]:
        """Find the user, or create it (``CAS_CREATE_USER``); safe for concurrent first logins."""
        user_model = get_user_model()
        manager = user_model._default_manager
        if not cas_settings.create_user:
            local_name_field = cas_settings.local_name_field
            try:
                if local_name_field:
                    return manager.get(**{local_name_field: username}), False
                # As in 5.1: a manager's own natural-key lookup (e.g. case-insensitive) applies.
                return manager.get_by_natural_key(username), False
            except user_model.DoesNotExist:
                return None, False
        lookup_kwargs: dict[str, Any] = {user_model.USERNAME_FIELD: username}
        if cas_settings.create_user_with_id:
            lookup_kwargs["id"] = self.get_user_id(attributes)
        try:
            user, created = manager.get_or_create(**lookup_kwargs)
        except IntegrityError:
            # Another request created the same user between our SELECT and INSERT.
            user, created = manager.get(**lookup_kwargs), False
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

    def configure_user(self, user: Any) -> Any:
        """Hook called once for a newly created user; returns the (possibly changed) user."""
        return user

    def affiliations(self, attributes: Mapping[str, Any]) -> list[str]:
        """The affiliation values released under ``CAS_AFFILIATIONS_KEY``, as a list."""
        value = attributes.get(cas_settings.affiliations_key) or []
        values = value if isinstance(value, (list, tuple)) else [value]
        return [str(v) for v in values if v]

    def apply_affiliations(self, user: Any, attributes: Mapping[str, Any]) -> None:
        """Groups, handlers and staff/superuser flags from the released affiliations."""
        affiliations = self.affiliations(attributes)
        if cas_settings.map_affiliations:
            for name in affiliations:
                group, _ = Group.objects.get_or_create(name=name)
                user.groups.add(group)
        for handler in cas_settings.affiliations_handlers:
            if callable(handler):
                handler(user, affiliations)
        changed = []
        if cas_settings.staff_affiliation:
            is_staff = cas_settings.staff_affiliation in affiliations
            if user.is_staff != is_staff:
                user.is_staff = is_staff
                changed.append("is_staff")
        if cas_settings.admin_affiliation:
            is_superuser = cas_settings.admin_affiliation in affiliations
            if user.is_superuser != is_superuser:
                user.is_superuser = is_superuser
                changed.append("is_superuser")
        if changed:
            user.save(update_fields=changed)

    def apply_attributes(self, user: Any, attributes: Mapping[str, Any]) -> None:
        """Copy released attributes onto model fields when ``CAS_APPLY_ATTRIBUTES_TO_USER``."""
        if not cas_settings.apply_attributes_to_user:
            return
        fields = {
            field.name: field
            for field in user._meta.concrete_fields
            if not field.primary_key
            and field.name not in _PROTECTED_FIELDS
            and field.name != user.USERNAME_FIELD
        }
        changed = []
        for name, value in attributes.items():
            field = fields.get(name)
            if field is None:
                continue
            if isinstance(value, list):
                value = value[0] if value else None
            if field.get_internal_type() == "BooleanField":
                value = str(value).lower() in ("true", "1", "yes")
            elif value is None and not field.null:
                value = ""
            if getattr(user, name) != value:
                setattr(user, name, value)
                changed.append(name)
        if changed and cas_settings.create_user:
            user.save(update_fields=changed)
