"""Groups and boolean flags that follow what CAS releases, both ways, at each sign-in:
``CAS_GROUPS_ATTRIBUTE`` limited to ``CAS_MANAGED_GROUPS``, and ``CAS_USER_FLAGS`` (with 5.1's
``CAS_STAFF_AFFILIATION`` / ``CAS_ADMIN_AFFILIATION``). See docs/identities.rst."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group

from ..conf import cas_settings
from . import observe

__all__ = [
    "apply_flags",
    "flag_rules",
    "is_managed_group",
    "mirror_groups",
    "released_values",
    "storable_group_names",
]

#: A flag rule: attribute name -> the values any one of which sets the flag.
FlagRule = Mapping[str, Collection[str]]


def released_values(attributes: Mapping[str, Any], name: str) -> set[str]:
    """The values released under attribute ``name`` (one or many), as strings."""
    value = attributes.get(name)
    if value is None:
        return set()
    values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
    return {str(v) for v in values if v is not None and str(v) != ""}


def matches(rule: FlagRule, attributes: Mapping[str, Any]) -> bool:
    """True when some attribute of ``rule`` carries one of its values."""
    return any(released_values(attributes, name) & set(values) for name, values in rule.items())


def flag_rules() -> dict[str, dict[str, set[str]]]:
    """``CAS_USER_FLAGS`` with 5.1's staff and admin affiliations merged in (either sets it)."""
    rules: dict[str, dict[str, set[str]]] = {
        field: {name: set(values) for name, values in rule.items()}
        for field, rule in cas_settings.user_flags.items()
    }
    legacy = {
        "is_staff": cas_settings.staff_affiliation,
        "is_superuser": cas_settings.admin_affiliation,
    }
    for field, affiliation in legacy.items():
        if affiliation:
            rule = rules.setdefault(field, {})
            rule.setdefault(cas_settings.affiliations_key, set()).add(affiliation)
    return rules


def apply_flags(user: AbstractBaseUser, attributes: Mapping[str, Any]) -> list[str]:
    """Set each flag from its rule, clearing it when the values are gone; the fields changed
    (not saved). Changes are logged at INFO, as an audit trail."""
    changed = []
    fields = {field.attname for field in user._meta.concrete_fields}
    for field, rule in flag_rules().items():
        if field not in fields:
            # 5.1's CAS_ADMIN_AFFILIATION on a model without is_superuser: nothing to set.
            continue
        value = matches(rule, attributes)
        old = getattr(user, field, None)
        if old == value:
            continue
        setattr(user, field, value)
        changed.append(field)
        observe.login.info("CAS set %s of %s: %r -> %r", field, user.get_username(), old, value)
    return changed


def storable_group_names(names: Iterable[str]) -> list[str]:
    """``names`` that fit ``Group.name``; a longer one (an LDAP DN, say) is skipped with a
    warning, as PostgreSQL would refuse it and fail the sign-in."""
    limit = getattr(Group._meta.get_field("name"), "max_length", None) or 150
    kept = []
    for name in names:
        if len(name) <= limit:
            kept.append(name)
        else:
            observe.login.warning(
                "Skipped the released group %r…: it is longer than the %d characters of a "
                "group name",
                name[:64],
                limit,
            )
    return kept


def is_managed_group(name: str) -> bool:
    """Whether ``CAS_MANAGED_GROUPS`` (a name prefix, or a list of names) lets CAS manage it."""
    managed = cas_settings.managed_groups
    if isinstance(managed, str):
        return name.startswith(managed)
    return name in set(managed or ())


def mirror_groups(user: AbstractBaseUser, attributes: Mapping[str, Any]) -> None:
    """Make the user's managed groups exactly the managed names in ``CAS_GROUPS_ATTRIBUTE``;
    other groups are left alone."""
    attribute = cas_settings.groups_attribute
    if not attribute:
        return
    groups = getattr(user, "groups", None)
    if groups is None or user.pk is None:
        return
    wanted = {name for name in released_values(attributes, attribute) if is_managed_group(name)}
    current = {group.name: group for group in groups.all() if is_managed_group(group.name)}
    stale = [group for name, group in current.items() if name not in wanted]
    if stale:
        groups.remove(*stale)
    added = _groups_named(storable_group_names(sorted(wanted - set(current))))
    if added:
        groups.add(*added)
    if stale or added:
        observe.login.info(
            "CAS groups of %s: +%s -%s",
            user.get_username(),
            [group.name for group in added],
            [group.name for group in stale],
        )


def _groups_named(names: Iterable[str]) -> list[Group]:
    return [Group.objects.get_or_create(name=name)[0] for name in names]
