"""The uvicorn test site: a real CAS server, a migrated SQLite file and uvicorn serving
``tests.asgi.asgi:application`` in a subprocess on a free port of 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.casserver import CASServer, stop_process_group
from tests.integration.browser import Browser
from tests.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
USERS = {"alice": "alice-password", "bob": "bob-password"}
ATTRIBUTES = {"alice": {"email": "alice@example.org"}, "bob": {"email": "bob@example.org"}}


class UvicornSite:
    """tests/asgi's site under uvicorn (one worker), with its own database, until :meth:`stop`."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = workdir / "uvicorn.log"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="tests.asgi.settings",
            PYTHONPATH=str(REPO_ROOT),
            PYTHONDONTWRITEBYTECODE="1",
            ASGI_SITE_DB=str(workdir / "site.sqlite3"),
            ASGI_SITE_ORIGIN=self.url,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._migrate: subprocess.Popen[bytes]
        self.cas: CASServer

    def begin_migrate(self) -> None:
        """Start building the schema (in the background: the CAS server boots meanwhile)."""
        self._migrate = subprocess.Popen(
            [sys.executable, "-m", "django", "migrate", "--verbosity", "0"],
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def serve(self, cas: CASServer) -> None:
        """Wait for the schema, then start uvicorn signing in at ``cas`` and wait for it."""
        self.cas = cas
        self.env["ASGI_SITE_CAS_URL"] = cas.url
        output, _ = self._migrate.communicate(timeout=120)
        if self._migrate.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{output.decode(errors='replace')}")
        command = [
            sys.executable, "-m", "uvicorn", "tests.asgi.asgi:application",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--loop", "asyncio", "--http", "h11",
            "--lifespan", "off", "--no-access-log",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        probe = requests.Session()
        probe.trust_env = False
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if probe.get(self.url, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"uvicorn did not answer:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return "(no output)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self._migrate.poll() is None:
            self._migrate.kill()
            self._migrate.wait()
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None


@pytest.fixture(scope="session")
def site() -> Iterator[UvicornSite]:
    """The test site under uvicorn, signing in at its own real CAS server (``site.cas``)."""
    with tempfile.TemporaryDirectory(prefix="asgi-site-") as workdir:
        served = UvicornSite(Path(workdir))
        served.begin_migrate()
        try:
            with CASServer(users=USERS, attributes=ATTRIBUTES) as cas:
                served.serve(cas)
                yield served
        finally:
            served.stop()


@pytest.fixture
def browser_factory(site: UvicornSite) -> Iterator[Callable[[], Browser]]:
    """Fresh browsers (each its own cookie jar) on the uvicorn site and the CAS server."""
    made: list[Browser] = []

    def make() -> Browser:
        browser = Browser(live=site.url, cas=site.cas)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.session.close()


@pytest.fixture
def browser(browser_factory: Callable[[], Browser]) -> Browser:
    return browser_factory()
