"""Django apps served by gunicorn subprocesses for the proxy end-to-end test.

Each :class:`App` is one gunicorn process (threaded, so the CAS server's callback can be served
while a login request waits for validation), optionally behind TLS, with a file-based SQLite
database that several processes ("nodes") may share.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from tests.integration.proxy_tls import TLSFiles
from tests.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


class AppError(RuntimeError):
    """An app process could not be prepared or started."""


def _env(
    database: Path, cas_url: str, callback: str | None, chains: Mapping[str, Any], cookie: str
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.integration.proxy_settings",
        PYTHONPATH=str(REPO_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        PROXY_APP_DB=str(database),
        PROXY_APP_CAS_URL=cas_url,
        PROXY_APP_CALLBACK=callback or "",
        PROXY_APP_CHAINS=json.dumps(dict(chains)),
        PROXY_APP_COOKIE=cookie,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def migrate(database: Path, cas_url: str) -> None:
    """Create the schema in ``database`` (once per database, before its nodes start)."""
    result = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0"],
        cwd=REPO_ROOT,
        env=_env(database, cas_url, None, {}, "sessionid"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AppError(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def copy_database(source: Path, target: Path) -> None:
    """Give another app its own database with the schema already built (faster than migrate)."""
    shutil.copyfile(source, target)


class App:
    """One gunicorn process serving ``tests.integration.proxy_urls``; started on creation, ready
    after :meth:`wait_until_ready` (so several can boot at once)."""

    def __init__(
        self,
        name: str,
        workdir: Path,
        database: Path,
        cas_url: str,
        *,
        port: int | None = None,
        tls: TLSFiles | None = None,
        callback: str | None = None,
        chains: Mapping[str, Any] | None = None,
        cookie: str = "sessionid",
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/"
        self.log = workdir / f"{name}.log"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [
            str(gunicorn) if gunicorn.exists() else (shutil.which("gunicorn") or "gunicorn"),
            "tests.integration.proxy_wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--worker-class", "gthread", "--workers", "1", "--threads", "8",
            "--timeout", "30",
        ]  # fmt: skip
        if tls:
            command += ["--certfile", str(tls.cert), "--keyfile", str(tls.key)]
        env = _env(database, cas_url, callback, chains or {}, cookie)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_ready(self) -> App:
        """Block until the app answers (its callback's reachability check); stop it on failure."""
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        probe = requests.Session()
        probe.trust_env = False
        verify: str | bool = str(self.tls.ca) if self.tls else True
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AppError(f"app {self.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if probe.get(self.url + "accounts/callback/", verify=verify, timeout=2).ok:
                    return
            time.sleep(0.1)
        raise AppError(f"app {self.name} did not answer:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return "(no output)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
