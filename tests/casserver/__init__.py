"""A real CAS server (django-cas-server 3.1.0) on 127.0.0.1 for integration tests and the demo.

django-cas-server needs Django<5.3, so it lives in its own virtualenv (``<repo>/.venv-cas``,
see :func:`ensure_cas_venv`) and runs as a separate, multi-threaded process started by
:class:`CASServer`. The project it runs is ``tests/casserver/project``.

Behaviour of django-cas-server that tests rely on:

* Single Logout: ``GET {url}logout`` POSTs a form-encoded ``logoutRequest`` (a SAML 2
  ``LogoutRequest`` whose ``SessionIndex`` is the ticket) for every ST, PT and PGT of that CAS
  session, validated or not, to the ticket's exact service URL (for a PGT: its pgtUrl), or to
  ``slo_callback`` if set. The POSTs run in a thread pool, but the logout view waits for all of
  them (5 s timeout each) before answering: once the logout response is received the client has
  been called, so a test needs no extra wait, but the client must be served concurrently (another
  thread or process). Failed POSTs are only logged (see :attr:`CASServer.log_path`).
* Proxy callback: with ``pgtUrl`` on ``(p3/)serviceValidate`` or ``(p3/)proxyValidate`` the server
  GETs ``pgtUrl?pgtIou=...&pgtId=...`` synchronously, without timeout, before answering the
  validation. ``pgtUrl`` must be ``https://`` (verified against ``ca_bundle``, else requests'
  default CAs) or ``http://127.0.0.1``/``http://localhost``, and must match the service pattern.
  A non-200 callback answer drops the PGT (validation still succeeds, without
  ``proxyGrantingTicket``); a connection or TLS error fails it with ``INVALID_PROXY_CALLBACK``.
* Tickets are validated against the exact service string given at login (no normalisation), are
  single use and expire after 60 s. The server's cookies are ``cas_sessionid``/``cas_csrftoken``
  so they do not clash with a client app on the same host.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import requests

__all__ = ["CASServer", "CASServerError", "ensure_cas_venv", "stop_process_group"]

CAS_REQUIREMENTS = ("django-cas-server==3.1.0", "Django>=4.2,<5.3")
REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_DIR = REPO_ROOT / ".venv-cas"
PROJECT_DIR = Path(__file__).resolve().parent / "project"
DEFAULT_SERVICE_PATTERN = r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/.*"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
INSTALL_TIMEOUT = 900.0
HTTP_TIMEOUT = 10.0

AttributeValue = str | Sequence[str]


class CASServerError(RuntimeError):
    """The CAS server virtualenv or process could not be set up."""


def ensure_cas_venv() -> Path:
    """Return the python of the CAS server's virtualenv, creating ``.venv-cas`` if needed.

    ``CAS_SERVER_PYTHON`` overrides it with an existing interpreter that has django-cas-server.
    """
    override = os.environ.get("CAS_SERVER_PYTHON")
    if override:
        python = Path(override)
        if not python.exists():
            raise CASServerError(f"CAS_SERVER_PYTHON={override} does not exist")
        return python
    python = VENV_DIR / "bin" / "python"
    marker = VENV_DIR / ".harness-requirements"
    wanted = "\n".join(CAS_REQUIREMENTS) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    VENV_DIR.mkdir(exist_ok=True)
    with open(VENV_DIR / ".harness.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and marker.exists() and marker.read_text() == wanted:
            return python
        _run([sys.executable, "-m", "venv", str(VENV_DIR)])
        _run([str(python), "-m", "pip", "install", "-q", *CAS_REQUIREMENTS])
        marker.write_text(wanted)
    return python


def _run(command: list[str]) -> None:
    """Run an install step, raising with its output if it fails."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise CASServerError(f"{' '.join(command)} timed out") from error
    if result.returncode != 0:
        raise CASServerError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


class _LoginFormParser(HTMLParser):
    """Collect the fields a browser would submit from the CAS ``login_form``."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False
        self.fields: dict[str, str] = {}
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("id") == "login_form":
            self.found = self._in_form = True
        elif tag == "input" and self._in_form and attributes.get("name"):
            kind = attributes.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.fields[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


class ServerProcess:
    """A server run as a child process group with a temporary directory: ``stop`` ends both,
    and ``with`` starts and stops it. Subclasses set ``_process`` and ``_workdir`` in ``start``."""

    _process: subprocess.Popen[bytes] | None = None
    _workdir: Path | None = None

    def start(self) -> None:
        raise NotImplementedError

    def _spawn(self, python: Path | str, project: Path, env: Mapping[str, str]) -> None:
        """Run ``project``'s serve.py with ``python`` (its output in the workdir's server.log)
        and wait until it answers; stopped again if it never does."""
        assert self._workdir is not None
        with open(self._workdir / "server.log", "wb") as log:
            self._process = subprocess.Popen(
                [str(python), str(project / "serve.py")],
                cwd=project,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Terminate the server's process group and delete its temporary directory."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self: _Server) -> _Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


_Server = TypeVar("_Server", bound=ServerProcess)


class CASServer(ServerProcess):
    """A django-cas-server process with its own fresh SQLite database in a temporary directory."""

    def __init__(
        self,
        users: Mapping[str, str],
        attributes: Mapping[str, Mapping[str, AttributeValue]] | None = None,
        service_pattern: str = DEFAULT_SERVICE_PATTERN,
        service_name: str = "harness",
        port: int = 0,
        slo_callback: str | None = None,
        ca_bundle: str | os.PathLike[str] | None = None,
    ) -> None:
        self.users = dict(users)
        self.attributes = {user: dict(attrs) for user, attrs in (attributes or {}).items()}
        self.service_pattern = service_pattern
        self.service_name = service_name
        self.port = port
        self._requested_port = port
        self.slo_callback = slo_callback
        self.ca_bundle = Path(ca_bundle).resolve() if ca_bundle else None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def url(self) -> str:
        """Base URL of the CAS server, ending with ``/`` (the clients' ``CAS_SERVER_URL``)."""
        if self._process is None:
            raise CASServerError("the CAS server is not started")
        return f"http://127.0.0.1:{self.port}/cas/"

    @property
    def exit_code(self) -> int | None:
        """The server process's exit code once it has exited; ``None`` while it runs."""
        return None if self._process is None else self._process.poll()

    @property
    def log_path(self) -> Path | None:
        """File receiving the server's stdout and stderr (request log, SLO errors), if started."""
        return self._workdir / "server.log" if self._workdir else None

    def start(self) -> None:
        """Migrate a fresh database, seed users and the service pattern, serve and wait for it."""
        if self._process is not None:
            raise CASServerError("the CAS server is already started")
        python = ensure_cas_venv()
        self._workdir = Path(tempfile.mkdtemp(prefix="casserver-"))
        config = {
            "users": self.users,
            "attributes": self.attributes,
            "service_pattern": self.service_pattern,
            "service_name": self.service_name,
            "slo_callback": self.slo_callback or "",
            "port": self._requested_port,
        }
        (self._workdir / "config.json").write_text(json.dumps(config))
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONHOME")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="settings",
            CAS_HARNESS_DIR=str(self._workdir),
            CAS_HARNESS_PARENT_PID=str(os.getpid()),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            NO_PROXY=_no_proxy(env.get("NO_PROXY") or env.get("no_proxy")),
            no_proxy=_no_proxy(env.get("NO_PROXY") or env.get("no_proxy")),
        )
        if self.ca_bundle:
            env.update(
                REQUESTS_CA_BUNDLE=str(self.ca_bundle), CAS_HARNESS_CA_BUNDLE=str(self.ca_bundle)
            )
        self._spawn(python, PROJECT_DIR, env)

    def _wait_until_ready(self) -> None:
        """Wait for the ready file the server writes once listening, then for a login page."""
        assert self._process is not None and self._workdir is not None
        ready = self._workdir / "ready.json"
        probe = requests.Session()
        probe.trust_env = False
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise CASServerError(f"the CAS server exited ({code}):\n{self._log_tail()}")
            if ready.exists():
                self.port = json.loads(ready.read_text())["port"]
                with contextlib.suppress(requests.RequestException):
                    if probe.get(self.url + "login", timeout=2).status_code == 200:
                        return
            time.sleep(0.05)
        raise CASServerError(
            f"the CAS server did not answer within {START_TIMEOUT:.0f} s:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's output, for error messages."""
        log = self.log_path
        if log is None or not log.exists():
            return "(no output)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def set_attributes(self, username: str, attributes: Mapping[str, AttributeValue]) -> None:
        """Change what the running server releases for ``username`` from its next sign-in."""
        self.attributes[username] = dict(attributes)
        self._write_config()

    def rename_user(self, old: str, new: str) -> None:
        """Rename a user of the running server (same password and attributes), as a directory
        that changes a NetID does."""
        if self._workdir is None:
            raise CASServerError("the CAS server is not started")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings"}
        env["CAS_HARNESS_DIR"] = str(self._workdir)
        env.pop("PYTHONPATH", None)
        command = [str(ensure_cas_venv()), str(PROJECT_DIR / "rename_user.py"), old, new]
        result = subprocess.run(
            command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise CASServerError(f"could not rename {old} to {new}: {result.stderr[-2000:]}")
        self.users[new] = self.users.pop(old)
        if old in self.attributes:
            self.attributes[new] = self.attributes.pop(old)
        self._write_config()

    def _write_config(self) -> None:
        if self._workdir is None:
            raise CASServerError("the CAS server is not started")
        config = self._workdir / "config.json"
        data = json.loads(config.read_text())
        data["users"], data["attributes"] = self.users, self.attributes
        config.with_suffix(".tmp").write_text(json.dumps(data))
        config.with_suffix(".tmp").replace(config)

    def login(
        self, session: requests.Session, service: str, username: str, password: str
    ) -> requests.Response:
        """Sign in through the login form like a browser; return the answer without following it.

        On success that is the 302 to ``service?ticket=ST-...``; with an existing SSO session in
        ``session`` the first GET already is that 302. Bad credentials give the 200 form page.
        """
        page = session.get(
            self.url + "login",
            params={"service": service},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        if page.status_code != 200:
            return page
        parser = _LoginFormParser()
        parser.feed(page.text)
        if not parser.found:
            return page
        fields = {**parser.fields, "username": username, "password": password}
        return session.post(page.url, data=fields, allow_redirects=False, timeout=HTTP_TIMEOUT)


def _no_proxy(current: str | None) -> str:
    """NO_PROXY extended so the server's SLO and pgtUrl calls to local services go direct."""
    return ",".join(filter(None, [current, "127.0.0.1", "localhost"]))


def stop_process_group(process: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT) -> None:
    """Stop a process started with ``start_new_session``, and its children: TERM, then KILL."""
    if process.poll() is not None:
        return
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    """Send a signal to a whole process group, ignoring an already gone group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
