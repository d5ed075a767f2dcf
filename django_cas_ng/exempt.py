"""``login_not_required``: Django's marker (5.1+) for views its ``LoginRequiredMiddleware`` lets
anonymous requests reach, with the same marker set by hand on older Django."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth import decorators as django_auth_decorators

__all__ = ["login_not_required"]

View = TypeVar("View", bound=Callable[..., Any])


def login_not_required(view_func: View) -> View:
    """Exempt a view from Django's ``LoginRequiredMiddleware`` (5.1+); harmless before 5.1,
    where the attribute it sets, ``login_required = False``, is simply not read."""
    exempt: Callable[[View], View] | None = getattr(
        django_auth_decorators, "login_not_required", None
    )
    if exempt is not None:
        return exempt(view_func)
    view_func.login_required = False  # type: ignore[attr-defined]
    return view_func
