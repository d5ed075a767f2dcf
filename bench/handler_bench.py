"""CASMiddleware's cost per request through Django's own ASGI and WSGI handlers, in process.

Run by ``worker.py handlers`` in one implementation's venv. Two handlers of each kind are built
from the same settings, one with and one without CASMiddleware, and a request for ``/plain/``
goes through them in interleaved rounds. The page needs no database (no session cookie, the view
does not read the user): for a view that is not the admin's, CASMiddleware never reads the user
either, so its cost is the same as on a signed-in page, and the database's jitter on a busy
machine stays out of the figure. No server and no socket: what differs
between the two is exactly the middleware and what Django does to run it (under ASGI, a
sync-only middleware costs a thread hop per hook). The per-request time of a handler is the
best of its rounds, the cost is best with minus best without, as in the timeit benchmark; both
by the wall clock and by the CPU time of the whole process (all threads), which a busy machine
disturbs much less.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

CAS_MIDDLEWARE = "django_cas_ng.middleware.CASMiddleware"
PROTOTYPE = "async_cas_middleware.AsyncCapableCASMiddleware"
PATH = "/plain/"


def _handlers(factory: Callable[[], Any], prototype: bool) -> dict[str, Any]:
    from django.conf import settings
    from django.test.utils import override_settings

    handlers = {"with": factory()}
    without = [name for name in settings.MIDDLEWARE if name != CAS_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without):
        handlers["without"] = factory()
    if prototype:
        swapped = [PROTOTYPE if name == CAS_MIDDLEWARE else name for name in settings.MIDDLEWARE]
        with override_settings(MIDDLEWARE=swapped):
            handlers["prototype"] = factory()
    return handlers


def _asgi_round(handler: Any, count: int) -> tuple[float, float]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def one() -> int:
        messages: list[dict[str, Any]] = []
        pending = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop()
            await asyncio.Event().wait()  # no disconnect: Django cancels this listener
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await handler(dict(scope), receive, send)
        return int(messages[0]["status"])

    async def run() -> tuple[float, float]:
        assert await one() == 200
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            await one()
        return (time.perf_counter() - started) / count, (time.process_time() - cpu) / count

    return asyncio.run(run())


def _wsgi_round(handler: Any, count: int) -> tuple[float, float]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": PATH,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    def one() -> None:
        response = handler(dict(environ, **{"wsgi.input": io.BytesIO(b"")}), start_response)
        response.close()

    one()
    assert statuses[-1].startswith("200"), statuses[-1]
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        one()
    return (time.perf_counter() - started) / count, (time.process_time() - cpu) / count


def measure(requests_per_round: int, rounds: int, prototype: bool) -> dict[str, Any]:
    """Best per-request time with and without CASMiddleware under each handler, in µs; with
    ``prototype`` also with bench/async_cas_middleware.py in its place under ASGI."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    kinds = {
        "asgi": (_handlers(ASGIHandler, prototype), _asgi_round),
        "wsgi": (_handlers(WSGIHandler, False), _wsgi_round),
    }
    result: dict[str, Any] = {}
    for kind, (handlers, one_round) in kinds.items():
        wall: dict[str, list[float]] = {variant: [] for variant in handlers}
        cpu: dict[str, list[float]] = {variant: [] for variant in handlers}
        for turn in range(rounds):
            order = list(handlers) if turn % 2 == 0 else list(reversed(handlers))
            for variant in order:
                took, used = one_round(handlers[variant], requests_per_round)
                wall[variant].append(took)
                cpu[variant].append(used)
        row: dict[str, Any] = {"rounds": rounds, "requests_per_round": requests_per_round}
        for clock, times in (("wall", wall), ("cpu", cpu)):
            best = {variant: min(values) * 1e6 for variant, values in times.items()}
            row[clock] = {f"{variant}_us": value for variant, value in best.items()}
            row[clock]["cost_us"] = best["with"] - best["without"]
            if "prototype" in best:
                row[clock]["prototype_cost_us"] = best["prototype"] - best["without"]
        result[kind] = row
    return result
