"""A second real CAS server, django-mama-cas 2.5.0, on 127.0.0.1 for integration tests.

mama-cas supports Django up to 3.1 and Python up to 3.9, so it needs a virtualenv of its own,
which the tests do not build: ``make mamacas-venv`` makes ``<repo>/.venv-mamacas`` from a
pyenv Python 3.9, or ``MAMA_CAS_PYTHON`` names an interpreter that has it. Without either the
tests are skipped. The project it runs is ``tests/mamacas/project``.

What mama-cas does that the tests rely on (read from its 2.5.0 source):

* Single Logout: ``GET {url}logout`` POSTs a form-encoded ``logoutRequest`` (SAML 2, an empty
  ``saml:NameID``, the ticket as ``samlp:SessionIndex``) to the service URL of every service
  ticket consumed since the user's last login, one after the other, before answering.
* ``samlValidate`` and ``pgtUrl`` need ``https``: a SAML validation for an ``http`` service is
  ``samlp:RequestDenied``.
* ``cas:proxies`` lists the services the proxy tickets were issued for, not the proxies'
  callback URLs as the protocol says.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import requests

from tests.casserver import ServerProcess
from tests.ports import free_port

__all__ = ["MAMA_REQUIREMENTS", "MamaCASServer", "mama_cas_python"]

MAMA_REQUIREMENTS = ("django-mama-cas==2.5.0", "Django>=3.1,<3.2", "defusedxml")
REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = REPO_ROOT / ".venv-mamacas" / "bin" / "python"
PROJECT_DIR = Path(__file__).resolve().parent / "project"
SERVICE_PATTERN = r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/"
START_TIMEOUT = 20.0
HTTP_TIMEOUT = 10.0
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def mama_cas_python() -> Path | None:
    """The interpreter with mama-cas (``MAMA_CAS_PYTHON``, else ``.venv-mamacas``), or None."""
    override = os.environ.get("MAMA_CAS_PYTHON")
    python = Path(override) if override else VENV_PYTHON
    return python if python.exists() else None


class MamaCASServer(ServerProcess):
    """A mama-cas process (Django's runserver, threaded) with a fresh SQLite database."""

    def __init__(
        self,
        python: Path,
        users: Mapping[str, str],
        attributes: Mapping[str, Mapping[str, str | Sequence[str]]] | None = None,
    ) -> None:
        self.python = python
        self.users = dict(users)
        self.attributes = {name: dict(values) for name, values in (attributes or {}).items()}
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def url(self) -> str:
        """Base URL of the server, ending with ``/`` (the clients' ``CAS_SERVER_URL``)."""
        return f"http://127.0.0.1:{self.port}/cas/"

    def log(self) -> str:
        """What the server printed so far (requests, SLO calls, errors)."""
        if self._workdir is None or not (self._workdir / "server.log").exists():
            return "(no output)"
        return (self._workdir / "server.log").read_text(errors="replace")

    def start(self) -> None:
        """Write the config, migrate and serve; wait until the login page answers."""
        self._workdir = Path(tempfile.mkdtemp(prefix="mamacas-"))
        self.port = free_port()
        config = {
            "users": self.users,
            "attributes": self.attributes,
            "service_pattern": SERVICE_PATTERN,
            "port": self.port,
        }
        (self._workdir / "config.json").write_text(json.dumps(config))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        no_proxy = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
        env.update(
            DJANGO_SETTINGS_MODULE="settings",
            MAMA_HARNESS_DIR=str(self._workdir),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            NO_PROXY=no_proxy,
            no_proxy=no_proxy,
        )
        self._spawn(self.python, PROJECT_DIR, env)

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        probe = requests.Session()
        probe.trust_env = False
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mama-cas exited:\n{self.log()[-3000:]}")
            try:
                if probe.get(self.url + "login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"mama-cas did not answer in {START_TIMEOUT:.0f} s:\n{self.log()[-3000:]}"
        )

    def login(
        self, session: requests.Session, service: str, username: str, password: str
    ) -> requests.Response:
        """Sign in through the login form like a browser; the answer is not followed.

        On success that is the 302 to ``service?ticket=ST-...``; with an SSO session in
        ``session`` the first GET already is. Bad credentials give the 200 form page.
        """
        page = session.get(
            self.url + "login",
            params={"service": service},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        return self.submit_form(session, page, username, password)

    def submit_form(
        self, session: requests.Session, page: requests.Response, username: str, password: str
    ) -> requests.Response:
        """Post the login form of ``page`` (a CAS login page) to the URL it came from."""
        token = _CSRF.search(page.text) if page.status_code == 200 else None
        if token is None:
            return page
        fields = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        return session.post(
            page.url,
            data=fields,
            headers={"Referer": page.url},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
