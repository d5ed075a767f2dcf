"""Checked by mypy (``tests/test_decorator_types.py``): the decorators keep the view's type.

A wrong call must be an error (the ``type: ignore`` would be unused, and so an error under
``--strict``, if the decorated view had become ``Any``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from django.http import HttpRequest, HttpResponse

from django_cas_ng.decorators import login_required, permission_required, user_passes_test


def page(request: HttpRequest, year: int) -> HttpResponse:
    return HttpResponse(str(year))


async def async_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


bare: Callable[[HttpRequest, int], HttpResponse] = login_required(page)
configured: Callable[[HttpRequest, int], HttpResponse] = login_required(login_url="/sso/")(page)
coroutine: Callable[[HttpRequest], Coroutine[Any, Any, HttpResponse]] = login_required(async_page)
perm: Callable[[HttpRequest, int], HttpResponse] = permission_required("auth.add_user")(page)
tested: Callable[[HttpRequest, int], HttpResponse] = user_passes_test(bool)(page)

login_required(page)(HttpRequest(), "2024")  # type: ignore[arg-type]
login_required(login_url="/sso/")(page)(HttpRequest(), "2024")  # type: ignore[arg-type]
permission_required("auth.add_user")(page)(HttpRequest(), "2024")  # type: ignore[arg-type]
user_passes_test(bool)(page)(HttpRequest(), "2024")  # type: ignore[arg-type]
login_required(async_page)(HttpRequest(), 1).close()  # type: ignore[call-arg]
