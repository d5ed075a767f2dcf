"""Throwaway PostgreSQL and Redis servers on 127.0.0.1, and gunicorn nodes of a test app."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from tests.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


class ServiceUnavailable(RuntimeError):
    """A server binary is missing or the server did not come up."""


def find_binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if not found:
        raise ServiceUnavailable(f"{name} not found (apt-get install postgresql redis-server)")
    return found


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root; run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _wait_for_port(port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise ServiceUnavailable(f"{what} did not listen on 127.0.0.1:{port} within {timeout:g}s")


@contextlib.contextmanager
def postgresql() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL cluster (fsync off); yields Django DATABASES['default'] settings."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="cas-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_postgres(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "postgres",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """A fresh, non-persistent Redis server; yields its URL."""
    binary = find_binary("redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class Node:
    """One app server process (gunicorn, 2 workers x 4 threads) of the cluster test app."""

    def __init__(self, env: Mapping[str, str], name: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix=f"node-{name}-", suffix=".log")[1])
        self.process = subprocess.Popen(
            [
                # The running interpreter's gunicorn, so the nodes use the Django under test.
                sys.executable,
                "-m",
                "gunicorn",
                "tests.cluster.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "30",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceUnavailable(
                    f"gunicorn node {name} died:\n{self.log.read_text()[-3000:]}"
                )
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + "/", timeout=1)
                return
            time.sleep(0.2)
        self.stop()
        raise ServiceUnavailable(
            f"gunicorn node {name} did not come up:\n{self.log.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def run_on_postgresql(code: str, env_name: str, timeout: float = 180) -> dict[str, Any]:
    """Run ``code`` in a child Python whose ``env_name`` holds a throwaway PostgreSQL database
    (JSON); return the JSON object of its last output line. Skips (outside CI) without one."""
    import json

    import pytest

    try:
        with postgresql() as database:
            child = subprocess.run(
                [sys.executable, "-c", code],
                cwd=REPO_ROOT,
                env={**os.environ, env_name: json.dumps(database)},
                capture_output=True,
                text=True,
                timeout=timeout,
            )
    except ServiceUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    assert child.returncode == 0, child.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return outcome


def set_up_django_on_postgresql(env_name: str, **overrides: Any) -> None:
    """In a child of :func:`run_on_postgresql`: configure Django with the test settings on the
    database in ``env_name`` (plus ``overrides``) and migrate it."""
    import json

    import django
    from django.conf import settings

    from tests import settings as test_settings

    values = {name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
    values["DATABASES"] = {"default": json.loads(os.environ[env_name])}
    settings.configure(**{**values, **overrides})
    django.setup()

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
