"""HTTP to the CAS server: one pooled ``requests.Session`` per process (or the one
``CAS_SESSION_FACTORY`` makes), and :class:`CASAdapter`, mounted on it, which gives every call
our timeouts and overall deadline, TLS options, size cap, no redirects, one retry of a
connection never made, and :class:`~django_cas_ng.exceptions.CASUnavailable` for any failure.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import heapq
import http.client
import itertools
import os
import socket
import threading
import time
import types
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.hooks import default_hooks
from requests.sessions import merge_setting
from requests.structures import CaseInsensitiveDict
from requests.utils import get_netrc_auth
from urllib3.exceptions import NewConnectionError

from ..conf import cas_settings
from ..exceptions import CASUnavailable

#: Validation endpoints that carry ``renew=true`` when ``CAS_RENEW`` (never proxyValidate:
#: no proxy ticket comes from a fresh login).
_RENEW_PATHS = ("/validate", "/serviceValidate")
_TRANSPORT_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


class _Deadline:
    """When one request must be over; at that moment its sockets are shut down.

    Socket timeouts bound each read, so a server sending a byte just inside the read timeout
    would hold the worker indefinitely; shutting the socket down ends any blocked read.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        overall = _validation_expires.get()
        if overall is not None and overall < self.expires:
            self.expires = overall
        self.expired = False
        self._connections: list[Any] = []

    def __enter__(self) -> _Deadline:
        self._token = _current_deadline.set(self)
        self._ticket = _watchdog.watch(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _watchdog.forget(self._ticket)
        _current_deadline.reset(self._token)

    def watch(self, connection: Any) -> None:
        self._connections.append(connection)

    def passed(self) -> bool:
        self.expired = self.expired or time.monotonic() > self.expires
        return self.expired

    def error(self, host: str) -> CASUnavailable:
        reason = f"overall deadline {self.seconds:g}s"
        return CASUnavailable(f"CAS server {host} did not answer in time ({reason})")

    def expire(self) -> None:
        self.expired = True
        for connection in self._connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process that expires the deadlines of calls still running when their
    time is up (a thread per call would cost more than many a CAS answer takes)."""

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._pending: dict[int, _Deadline] = {}
        self._queue: list[tuple[float, int]] = []
        self._tickets = itertools.count()
        self._pid: int | None = None

    def watch(self, deadline: _Deadline) -> int:
        """Expire ``deadline`` when its time is up, unless forgotten first; returns its ticket."""
        with self._wakeup:
            if self._pid != os.getpid():  # first use, or a forked child without the thread
                self._pid = os.getpid()
                threading.Thread(
                    target=self._run, name="django_cas_ng deadlines", daemon=True
                ).start()
            ticket = next(self._tickets)
            self._pending[ticket] = deadline
            # The thread sleeps until the earliest entry is due; only an earlier one needs it
            # awake now. Waking it for every call would cost each call a thread switch.
            earliest = not self._queue or deadline.expires < self._queue[0][0]
            heapq.heappush(self._queue, (deadline.expires, ticket))
            if earliest:
                self._wakeup.notify()
        return ticket

    def forget(self, ticket: int) -> None:
        with self._wakeup:
            self._pending.pop(ticket, None)

    def _run(self) -> None:
        with self._wakeup:
            while True:
                now = time.monotonic()
                while self._queue and (
                    self._queue[0][1] not in self._pending or self._queue[0][0] <= now
                ):
                    _expires, ticket = heapq.heappop(self._queue)
                    deadline = self._pending.pop(ticket, None)
                    if deadline is not None:
                        deadline.expire()
                self._wakeup.wait(self._queue[0][0] - now if self._queue else None)


_watchdog = _Watchdog()


_current_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "django_cas_ng_deadline", default=None
)

#: Query parameters the validation under way adds, each on the endpoints it applies to:
#: python-cas builds validation URLs itself (``renew`` only on the login URL) and the pooled
#: session is shared, so they travel with the call.
_validation_params: contextvars.ContextVar[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    contextvars.ContextVar("django_cas_ng_validation_params", default=())
)


#: When the validation under way (HTTP call and reading of the answer) must be over.
_validation_expires: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "django_cas_ng_validation_expires", default=None
)
#: Validation endpoints that answer JSON when asked (CAS 1 and SAML 1.1 cannot).
_FORMAT_PATHS = ("serviceValidate", "proxyValidate")


def overall_seconds() -> float:
    """The overall deadline of one call to CAS: connect plus read timeout."""
    timeout = cas_settings.timeout
    return float(sum(timeout))


@contextlib.contextmanager
def validation_deadline() -> Iterator[None]:
    """Within the block, the HTTP call and the reading of its answer share one deadline."""
    if _validation_expires.get() is not None:
        yield
        return
    token = _validation_expires.set(time.monotonic() + overall_seconds())
    try:
        yield
    finally:
        _validation_expires.reset(token)


def check_deadline() -> None:
    """CASUnavailable when the validation under way is past its overall deadline."""
    expires = _validation_expires.get()
    if expires is not None and time.monotonic() > expires:
        raise CASUnavailable(
            f"CAS answer not read within the overall deadline {overall_seconds():g}s"
        )


@contextlib.contextmanager
def _adding(name: str, value: str, paths: tuple[str, ...]) -> Iterator[None]:
    """Within the block, validation requests to ``paths`` carry ``name=value``."""
    token = _validation_params.set((*_validation_params.get(), (name, value, paths)))
    try:
        yield
    finally:
        _validation_params.reset(token)


def validation_format(json: bool) -> contextlib.AbstractContextManager[None]:
    """Within the block, validation requests carry ``format=JSON`` when ``json`` is true."""
    return _adding("format", "JSON", _FORMAT_PATHS) if json else contextlib.nullcontext()


def validation_renew(renew: bool) -> contextlib.AbstractContextManager[None]:
    """Within the block, validation requests carry ``renew=true`` when ``renew`` is true."""
    return _adding("renew", "true", _RENEW_PATHS) if renew else contextlib.nullcontext()


class _WatchedPoolMixin:
    """Hands each connection taken from the pool to the current request's deadline."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        deadline = _current_deadline.get()
        if deadline is not None:
            deadline.watch(connection)
        return connection


class _WatchedHTTPPool(_WatchedPoolMixin, urllib3.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPoolMixin, urllib3.HTTPSConnectionPool):
    pass


def _watch_pools(adapter: BaseAdapter) -> None:
    """Let the deadline reach the connections of an ``HTTPAdapter``'s pools."""
    manager = getattr(adapter, "poolmanager", None)
    if manager is not None:
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class CASAdapter(HTTPAdapter):
    """Our policy for every call to the CAS server.

    The transport is ``inner`` (an adapter a ``CAS_SESSION_FACTORY`` session had mounted) or,
    without one, this adapter's own connection pool. Only a connection that was never made is
    retried: a validation request that reached the server is never repeated.
    """

    def __init__(self, inner: BaseAdapter | None = None, **kwargs: Any) -> None:
        self.inner = inner
        super().__init__(**kwargs)
        _watch_pools(self)
        if inner is not None:
            _watch_pools(inner)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        timeout = cas_settings.timeout if timeout is None else timeout
        kwargs: dict[str, Any] = {
            "stream": True,
            "timeout": timeout,
            "verify": _verify(verify),
            "cert": cas_settings.client_cert or cert,
            "proxies": proxies,
        }
        url = request.url or ""
        parts = urlsplit(url)
        extra = {
            name: value
            for name, value, paths in _validation_params.get()
            if parts.path.endswith(paths)
        }
        if extra:
            request.prepare_url(url, extra)
        host = parts.netloc.rpartition("@")[2]  # never the credentials a URL may carry
        response = self._send_within_deadline(request, kwargs, host)
        # CAS answers are UTF-8 whatever the Content-Type says (CAS 1's text/plain has none).
        response.encoding = "utf-8"
        if response.status_code >= 500:
            raise CASUnavailable(f"CAS server {host} answered HTTP {response.status_code}")
        if response.is_redirect:
            raise CASUnavailable(
                f"CAS server {host} answered a redirect (HTTP {response.status_code}),"
                " which calls to CAS never follow"
            )
        return response

    def close(self) -> None:
        super().close()
        if self.inner is not None:
            self.inner.close()

    def _send_within_deadline(
        self, request: requests.PreparedRequest, kwargs: dict[str, Any], host: str
    ) -> requests.Response:
        """Send and read the whole body before the deadline (connect + read timeout)."""
        timeout = kwargs["timeout"]
        total = sum(timeout) if isinstance(timeout, tuple) else float(timeout) * 2
        # Exception messages of requests quote the URL, whose query holds the ticket or PGT:
        # only the exception's class name reaches our error, and the chain is cut.
        try:
            with _Deadline(total) as deadline:
                try:
                    response = self._send_once_or_twice(request, kwargs)
                    _read_capped(response, cas_settings.max_response_bytes, deadline)
                except _TRANSPORT_ERRORS:
                    if deadline.passed():
                        raise deadline.error(host) from None
                    raise
                if deadline.passed():
                    raise deadline.error(host)
        except requests.Timeout as exc:
            reason = f"{exc.__class__.__name__}, timeout {_read_timeout(timeout):g}s"
            raise CASUnavailable(f"CAS server {host} did not answer in time ({reason})") from None
        except _TRANSPORT_ERRORS as exc:
            reason = _connection_failure(exc) or exc.__class__.__name__
            raise CASUnavailable(f"cannot reach CAS server {host}: {reason}") from None
        return response

    def _send_once_or_twice(
        self, request: requests.PreparedRequest, kwargs: dict[str, Any]
    ) -> requests.Response:
        transport = self.inner.send if self.inner is not None else super().send
        try:
            return transport(request, **kwargs)
        except requests.RequestException as exc:
            if _connection_failure(exc) is None:
                raise
        return transport(request, **kwargs)


def _verify(verify: bool | str) -> bool | str:
    """TLS verification as configured: off, the CA bundle (over the environment's), or as asked."""
    if not cas_settings.verify_ssl_certificate:
        return False
    if verify is not False and cas_settings.ca_bundle:
        return cas_settings.ca_bundle
    return verify


def _read_timeout(timeout: Any) -> float:
    return float(timeout[1] if isinstance(timeout, tuple) else timeout)


def _connection_failure(exc: BaseException) -> str | None:
    """Why no connection was made (refused, DNS, connect timeout), or None if one was."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError):
        return "connection refused or host unknown"
    return None


def _read_capped(response: requests.Response, limit: int, deadline: _Deadline) -> None:
    """Read the whole body into ``response.content`` unless it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            if deadline.passed():
                break
            size += len(chunk)
            if size > limit:
                raise CASUnavailable(f"CAS server answer exceeds {limit} bytes")
            chunks.append(chunk)
    finally:
        response.close()
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]


def _frozen(value: Any) -> Any:
    """``value`` hashable: a mapping as its sorted items, anything else as it is."""
    return tuple(sorted(value.items(), key=str)) if isinstance(value, Mapping) else value


class _EnvironmentSettings:
    """``merge_environment_settings`` of the package's own session, remembered: what the
    environment adds to a call (proxies, CA bundle) is worked out once per CAS origin while
    the environment stays the same. requests reads every variable of the environment several
    times per call, which costs more than the rest of the call's preparation."""

    #: Most (origin, options) entries kept; a site talks to a handful of CAS servers.
    MAX_ENTRIES = 64

    def __init__(self, session: requests.Session) -> None:
        self._session = session
        self._environment: dict[Any, Any] | None = None
        self._found: dict[Any, tuple[Any, dict[str, Any]]] = {}

    def __call__(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        session = self._session
        merge = type(session).merge_environment_settings
        environment = getattr(os.environ, "_data", None)
        if not session.trust_env or not isinstance(environment, dict) or not isinstance(url, str):
            return merge(session, url, proxies, stream, verify, cert)
        if environment != self._environment or len(self._found) > self.MAX_ENTRIES:
            self._found = {}
            self._environment = dict(environment)
        parts = urlsplit(url)
        key = (
            parts.scheme,
            parts.netloc,
            _frozen(proxies),
            stream,
            verify,
            cert,
            _frozen(session.proxies),
            session.stream,
            session.verify,
            session.cert,
        )
        found = self._found.get(key)
        if found is None:
            probe = dict(proxies) if proxies is not None else None
            settings = merge(session, url, probe, stream, verify, cert)
            added = {k: v for k, v in (probe or {}).items() if k not in (proxies or {})}
            found = self._found[key] = (settings, added)
        settings, added = found
        # As requests does: the environment's proxies are added to the caller's mapping too.
        if proxies is not None:
            for name, value in added.items():
                proxies.setdefault(name, value)
        return {**settings, "proxies": dict(settings["proxies"])}


class _PlainCalls:
    """``request`` of the package's own session (a ``requests.Session`` still): a plain call
    (no cookies, auth or hooks anywhere, which is every call to CAS) is prepared and handed
    to :class:`CASAdapter` directly, without the cookie jars, setting merges and redirect
    machinery of ``Session.request``, which cost as much as the rest of a validation's
    Python work. Any other call takes requests' own path."""

    #: Keyword arguments a plain call may carry; any other given a value (cookies, auth,
    #: files, json, hooks) takes requests' own path.
    _PLAIN_OPTIONS = frozenset(
        {"params", "data", "headers", "timeout", "allow_redirects", "proxies", "stream"}
        | {"verify", "cert"}
    )

    def __init__(self, session: requests.Session) -> None:
        self._session = session

    def __call__(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        session = self._session
        adapter = None if args else self._plain_call_adapter(url, kwargs)
        if adapter is None:
            return type(session).request(session, method, url, *args, **kwargs)
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        prepared.prepare_url(url, kwargs.get("params"))
        headers = merge_setting(kwargs.get("headers"), session.headers, CaseInsensitiveDict)  # type: ignore[no-untyped-call]
        prepared.prepare_headers(headers)
        prepared.prepare_body(kwargs.get("data") or {}, None, None)
        prepared.hooks = default_hooks()
        settings: dict[str, Any] = dict(
            session.merge_environment_settings(
                prepared.url or "",
                kwargs.get("proxies") or {},
                kwargs.get("stream"),
                kwargs.get("verify"),
                kwargs.get("cert"),
            )
        )
        started = time.perf_counter()
        response = adapter.send(prepared, timeout=kwargs.get("timeout"), **settings)
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
        if "Set-Cookie" in response.headers or "Set-Cookie2" in response.headers:
            extract_cookies_to_jar(session.cookies, prepared, response.raw)  # type: ignore[no-untyped-call]
        return response

    def _plain_call_adapter(self, url: Any, options: dict[str, Any]) -> CASAdapter | None:
        """Our adapter for ``url`` when the call needs none of what requests' own path adds;
        CASAdapter never follows redirects, so there is none to resolve."""
        session = self._session
        if not isinstance(url, str) or not _session_layer_untouched(type(session)):
            return None
        if any(v is not None and k not in self._PLAIN_OPTIONS for k, v in options.items()):
            return None  # Session.post passes json=None; only a value needs requests' path
        if session.cookies or session.auth or session.params or any(session.hooks.values()):
            return None
        try:
            netloc = urlsplit(url).netloc
        except ValueError:
            return None  # a malformed host: requests' own path gives its InvalidURL
        if "@" in netloc or (session.trust_env and get_netrc_auth(url)):
            return None  # credentials of the URL or ~/.netrc: requests' own path applies them
        try:
            adapter = session.get_adapter(url)
        except requests.exceptions.InvalidSchema:
            return None  # requests' own path gives its usual error
        return adapter if isinstance(adapter, CASAdapter) else None


_SESSIONS_SOURCE = merge_setting.__code__.co_filename
#: Session methods the plain path stands in for: wrapped (tracing of OpenTelemetry, Datadog,
#: New Relic...), they must see every call, so requests' own path is taken.
_SESSION_LAYER = ("request", "prepare_request", "send")


def _session_layer_untouched(cls: type[requests.Session]) -> bool:
    """Whether ``cls``'s Session methods are still requests' own functions, unwrapped."""
    for name in _SESSION_LAYER:
        function = getattr(cls, name, None)
        if (
            type(function) is not types.FunctionType
            or function.__code__.co_filename != _SESSIONS_SOURCE
            or "__wrapped__" in function.__dict__  # functools.wraps around requests' own
        ):
            return False
    return True


def _new_session() -> requests.Session:
    session = requests.Session()
    session.merge_environment_settings = _EnvironmentSettings(session)  # type: ignore[method-assign]
    session.request = _PlainCalls(session)  # type: ignore[method-assign]
    # No retries in urllib3: it would log the URL (with the ticket) when retrying.
    adapter = CASAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "django_cas_ng"
    return session


def apply_policy(session: requests.Session) -> requests.Session:
    """Put :class:`CASAdapter` in front of every adapter mounted on ``session``; returns it."""
    for prefix, adapter in list(session.adapters.items()):
        if not isinstance(adapter, CASAdapter):
            session.mount(prefix, CASAdapter(inner=adapter))
    return session


_lock = threading.Lock()
_sessions: dict[tuple[int, Any], requests.Session] = {}


def get_http_session() -> requests.Session:
    """The keep-alive session of this process (after a fork, a new one), or the factory's."""
    factory = cas_settings.session_factory
    key = (os.getpid(), factory)
    session = _sessions.get(key)
    if session is None:
        with _lock:
            session = _sessions.get(key)
            if session is None:
                session = apply_policy(factory()) if factory is not None else _new_session()
                _sessions[key] = session
    return session


def reset_http_sessions() -> None:
    """Close and forget pooled sessions (used when settings change in tests)."""
    with _lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()
