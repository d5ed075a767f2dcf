"""``python -m demo``: start a real CAS server and the demo site, print where to go, stop both.

Both run as child processes in process groups of their own, so Ctrl-C reaches only this process,
which then stops them in order. If either child dies, the other is stopped and this exits 1 with
the tail of the dead child's output.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

from . import account
from .serve import READY

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[1]
SITE_START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
TAIL_LINES = 40

if TYPE_CHECKING:
    from tests.casserver import CASServer


class Stop(Exception):
    """SIGINT or SIGTERM arrived: stop everything and exit normally."""


class ChildFailed(Exception):
    """A child process could not start or died; the message carries its output's tail."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def _port_from_env(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a port number") from None


def port_is_free(port: int) -> bool:
    """Nobody listens on ``HOST:port`` (connections lingering in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class DemoSite:
    """The demo site (``demo.serve``) as a child process whose output is echoed and kept."""

    def __init__(
        self, port: int, cas_server_url: str, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = port
        self.cas_server_url = cas_server_url
        self.extra_env = dict(extra_env or {})
        #: Copy the site's output to our stdout (off in tests: it is kept in ``tail``).
        self.echo = True
        self.url = f"http://{HOST}:{port}/"
        self.process: subprocess.Popen[str] | None = None
        self.ready = threading.Event()
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), HOST, "localhost"]))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "demo.settings",
            "DEMO_CAS_SERVER_URL": self.cas_server_url,
            "DEMO_PARENT_PID": str(os.getpid()),
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
            **self.extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "demo.serve", HOST, str(self.port)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._echo, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    def _echo(self, stream: IO[str]) -> None:
        """Show the site's output (request log, receivers' prints) and keep its tail."""
        for line in stream:
            if line.strip() == READY:
                self.ready.set()
                continue
            self.tail.append(line.rstrip("\n"))
            if self.echo:
                with contextlib.suppress(OSError, ValueError):
                    sys.stdout.write(line)
                    sys.stdout.flush()

    def wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + SITE_START_TIMEOUT
        while not self.ready.wait(0.05):
            if self.exit_code() is not None:
                raise ChildFailed(self.failure("exited while starting"))
            if time.monotonic() > deadline:
                raise ChildFailed(self.failure(f"did not start within {SITE_START_TIMEOUT:.0f} s"))

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def failure(self, what: str) -> str:
        if self._reader is not None and self.exit_code() is not None:
            self._reader.join(1)  # collect the last lines it wrote
        code = self.exit_code()
        status = f" ({describe_exit(code)})" if code is not None else ""
        output = "\n".join(self.tail) or "(no output)"
        return f"The demo site {what}{status}. Its last output:\n{output}"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        from tests.casserver import stop_process_group

        stop_process_group(process, STOP_TIMEOUT)
        if self._reader is not None:
            self._reader.join(1)


def describe_exit(code: int | None) -> str:
    """``exit code 1`` or ``killed by SIGKILL``."""
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def cas_failure(cas: CASServer) -> str:
    log = cas.log_path
    lines = []
    if log is not None and log.exists():
        lines = log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
    output = "\n".join(lines) or "(no output)"
    status = describe_exit(cas.exit_code)
    return f"The CAS server exited ({status}). Its last output:\n{output}"


def banner(site: DemoSite, cas: CASServer, seconds: float) -> str:
    return "\n".join(
        [
            "",
            f"django_cas_ng demo is running (started in {seconds:.1f} s)",
            "",
            f"  Demo site:   {site.url}",
            f"  CAS server:  {cas.url}",
            f"  Sign in as:  {account.USERNAME} / {account.PASSWORD}",
            "",
            "Ctrl-C stops everything.",
            "",
        ]
    )


def supervise(site: DemoSite, cas: CASServer) -> None:
    """Return only by raising: Stop on a signal, ChildFailed when a child dies."""
    while True:
        if site.exit_code() is not None:
            raise ChildFailed(site.failure("exited"))
        if cas.exit_code is not None:
            raise ChildFailed(cas_failure(cas))
        time.sleep(0.2)


def start_cas(cas: CASServer) -> None:
    """Build ``.venv-cas`` if needed (first run only), then start the CAS server."""
    from tests import casserver

    marker = casserver.VENV_DIR / ".harness-requirements"
    if not os.environ.get("CAS_SERVER_PYTHON") and not marker.exists():
        where = casserver.VENV_DIR.name
        print(f"First run: installing django-cas-server into {where}/ ...", flush=True)
    try:
        casserver.ensure_cas_venv()
        cas.start()
    except casserver.CASServerError as error:
        raise ChildFailed(str(error)) from error


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    site: DemoSite | None = None
    cas: CASServer | None = None
    try:
        # Imported here, after the handlers, so Ctrl-C while it loads is a clean stop too.
        from tests.casserver import CASServer

        site_port = _port_from_env("DEMO_PORT", 8000)
        if not port_is_free(site_port):
            print(
                f"Port {site_port} on {HOST} is in use (another demo still running?).\n"
                f"Stop whatever listens there, or pick another port: DEMO_PORT=8080 make demo",
                file=sys.stderr,
            )
            return 1
        cas_port = _port_from_env("DEMO_CAS_PORT", 8001)
        if not port_is_free(cas_port):
            cas_port = free_port()
        cas = CASServer(
            users={account.USERNAME: account.PASSWORD},
            attributes={account.USERNAME: account.ATTRIBUTES},
            service_name=account.SERVICE_NAME,
            port=cas_port,
        )
        site = DemoSite(site_port, f"http://{HOST}:{cas_port}/cas/")
        # The site migrates its database while the CAS server migrates its own.
        site.start()
        start_cas(cas)
        site.wait_until_ready()
        print(banner(site, cas, time.monotonic() - started), flush=True)
        supervise(site, cas)
    except Stop:
        print("\nStopping the demo site and the CAS server ...", flush=True)
    except ChildFailed as error:
        print(f"\n{error}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if site is not None:
            site.stop()
        if cas is not None:
            cas.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
