"""What the answers that say "not allowed" share: telling an API or XHR request from a
browser's (``CAS_API_REQUEST_PREDICATE``), the one ``AUTH_SCHEME``, and the one gate that
runs a check before a sync or async view."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers

from ..conf import cas_settings, import_callable

#: The one scheme of ``Authorization: CAS PT-...`` and of every ``WWW-Authenticate``
#: challenge this package sends (sign-in 401s and the proxy-ticket APIs alike).
AUTH_SCHEME = "CAS"
#: Request headers the default predicate reads; responses that depend on it vary on them.
VARY_HEADERS = ("Accept", "X-Requested-With")
#: More ranges than this in one Accept header are ignored (no browser sends that many).
MAX_ACCEPT_RANGES = 64

JSON = "application/json"
HTML = "text/html"

Range = tuple[str, str, float]


# --- Is this an API request? ------------------------------------------------------------------


def _parse_accept(header: str) -> list[Range]:
    """``(type, subtype, q)`` for each well-formed media range; malformed ones are dropped."""
    ranges: list[Range] = []
    for item in header.split(",")[:MAX_ACCEPT_RANGES]:
        media, *params = item.split(";")
        main, slash, sub = media.strip().lower().partition("/")
        if not slash or not main or not sub or (main == "*" and sub != "*"):
            continue
        quality = 1.0
        for param in params:
            name, _eq, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 <= quality <= 1.0:
            ranges.append((main, sub, quality))
    return ranges


def media_type_quality(ranges: list[Range], media_type: str) -> tuple[float, int]:
    """The q-value the most specific matching range gives ``media_type`` (RFC 9110 12.5.1),
    with that specificity (2 exact, 1 ``type/*``, 0 ``*/*``); ``(0, -1)`` when none matches."""
    main, _slash, sub = media_type.partition("/")
    best: tuple[float, int] = (0.0, -1)
    for range_main, range_sub, quality in ranges:
        if range_main == main and range_sub == sub:
            specificity = 2
        elif range_main == main and range_sub == "*":
            specificity = 1
        elif range_main == "*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (quality, specificity)
    return best


def wants_json(request: HttpRequest) -> bool:
    """The default predicate: an XHR, or an ``Accept`` that ranks JSON above HTML.

    JSON must get a higher q-value than HTML, or the same q-value from a more specific range
    (``application/json, */*`` prefers JSON); a tie, ``*/*`` or no header means a browser.
    """
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    header = request.headers.get("Accept")
    if not header:
        return False
    ranges = _parse_accept(header)
    json_quality, json_specificity = media_type_quality(ranges, JSON)
    html_quality, html_specificity = media_type_quality(ranges, HTML)
    if json_quality <= 0:
        return False
    if json_quality != html_quality:
        return json_quality > html_quality
    return json_specificity > html_specificity


@lru_cache(maxsize=8)
def _import_predicate(path: str) -> Callable[[HttpRequest], bool]:
    return import_callable("CAS_API_REQUEST_PREDICATE", path)


def get_predicate() -> Callable[[HttpRequest], bool]:
    """The ``CAS_API_REQUEST_PREDICATE`` callable (a dotted path or the callable itself)."""
    configured = cas_settings.api_request_predicate
    if callable(configured):
        return configured
    return _import_predicate(configured)


def is_api_request(request: HttpRequest) -> bool:
    """True when ``request`` gets the JSON answers below instead of a redirect or HTML page."""
    return bool(get_predicate()(request))


def vary_on_api_headers(response: HttpResponseBase) -> HttpResponseBase:
    """Mark a response chosen by the predicate, so a cache keeps the 302 and the 401 apart."""
    patch_vary_headers(response, VARY_HEADERS)
    return response


# --- The gate around a view -------------------------------------------------------------------

#: Decides whether a request may reach the view: None lets it through, a response answers
#: instead. It may block (database, CAS), so an async view runs it in a worker thread.
Check = Callable[[HttpRequest], "HttpResponseBase | None"]


def gate(
    check: Check, after: Callable[[HttpResponseBase], object] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator running ``check`` before a sync or async view, and ``after`` (if given) on
    the view's own response."""

    def decorator(view_func: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(view_func):

            @wraps(view_func)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                refusal = await sync_to_async(check)(request)
                if refusal is not None:
                    return refusal
                return _finish(await view_func(request, *args, **kwargs), after)

            return markcoroutinefunction(async_wrapper)

        @wraps(view_func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = check(request)
            if refusal is not None:
                return refusal
            return _finish(view_func(request, *args, **kwargs), after)

        return wrapper

    return decorator


def gated_dispatch(
    view: object, request: HttpRequest, check: Check, dispatch: Callable[[], Any]
) -> Any:
    """A class-based view's ``dispatch`` behind ``check``, in the view's own mode."""
    if getattr(view, "view_is_async", False):

        async def checked() -> Any:
            refusal = await sync_to_async(check)(request)
            return refusal if refusal is not None else await dispatch()

        return checked()
    refusal = check(request)
    return refusal if refusal is not None else dispatch()


def _finish(response: Any, after: Callable[[HttpResponseBase], object] | None) -> Any:
    if after is not None:
        after(response)
    return response
