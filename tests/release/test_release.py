"""The release as a new user gets it: build, install the wheel, follow README.rst, sign in.

``python -m build`` makes the sdist and, from it, the wheel; ``twine check`` must accept both.
The wheel goes into a fresh virtualenv (its dependencies come from the package index), a
``django-admin startproject`` site gets README.rst's quick start applied verbatim plus the
settings a real deployment adds, and then ``check --deploy``, ``migrate`` and one sign-in
through the real CAS server over HTTPS (gunicorn with a throwaway certificate).
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.casserver import CASServer, stop_process_group
from tests.integration.proxy_tls import TLSFiles, make_tls
from tests.ports import free_port

pytestmark = [pytest.mark.release, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "django_cas_ng"
COMMAND_TIMEOUT = 600
SERVER_START_TIMEOUT = 30.0
HTTP_TIMEOUT = 15.0
USER, PASSWORD = "alice", "alice-password"
CHECK_ID = re.compile(r"\((\w+\.[EWCI]\d{3})\)")

# What a production site sets around the quick start: secret from the environment, HTTPS
# everywhere, and the CAS server of the environment it runs in.
DEPLOYMENT_SETTINGS = """

# --- deployment (added by the release test, as a real site would) ---
import os

SECRET_KEY = os.environ["SITE_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CAS_SERVER_URL = os.environ.get("SITE_CAS_SERVER_URL", CAS_SERVER_URL)
"""


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; on failure, fail the test with its whole output."""
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this test run's Django and Python path settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    no_proxy = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    env.update(NO_PROXY=no_proxy, no_proxy=no_proxy, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def quick_start() -> tuple[str, str]:
    """README.rst's quick start code block, split into its settings.py and urls.py parts."""
    readme = (REPO / "README.rst").read_text()
    section = readme.split("\nQuick start\n-----------\n", 1)[1]
    match = re.search(r"\.\. code-block:: python\n\n((?: {4}.*\n|\n)+)", section)
    assert match, "README.rst's quick start has no python code block"
    settings_part, urls_part = textwrap.dedent(match.group(1)).split("# urls.py\n")
    assert settings_part.lstrip().startswith("# settings.py")
    return settings_part, urls_part


def source_files(directory: Path, pattern: str) -> list[Path]:
    """Files under ``directory`` matching ``pattern``, relative to the repository."""
    return sorted(
        path.relative_to(REPO)
        for path in directory.rglob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    )


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path

    def wheel_names(self) -> set[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return set(archive.namelist())

    def sdist_names(self) -> set[str]:
        """Paths in the sdist without its ``name-version/`` top directory."""
        with tarfile.open(self.sdist) as archive:
            return {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}


@dataclass(frozen=True)
class Site:
    """A startproject site in a virtualenv that has only the wheel and what it depends on."""

    root: Path
    python: Path
    secret_key: str

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(SITE_SECRET_KEY=self.secret_key, **extra)

    def manage(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.python), "manage.py", *args], cwd=self.root, env=self.env(**extra_env))


@pytest.fixture(scope="module")
def build_tools() -> None:
    """``build`` and ``twine`` (the dev extra) must be importable by the running interpreter."""
    missing = [name for name in ("build", "twine") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(
            f"install the dev extra (pip install -e '.[dev]'): missing {', '.join(missing)}"
        )


@pytest.fixture(scope="module")
def dist(build_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The sdist, and the wheel built from that sdist (so the sdist must be complete)."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], env=clean_env())
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Dist(wheel=wheel, sdist=sdist)


@pytest.fixture(scope="module")
def site(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A fresh virtualenv with the wheel and gunicorn, and a project set up as README.rst says."""
    base = tmp_path_factory.mktemp("site")
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)], env=clean_env())
    python = venv / "bin" / "python"
    run(
        [str(python), "-m", "pip", "install", "--quiet", str(dist.wheel), "gunicorn"],
        env=clean_env(),
    )
    root = base / "project"
    root.mkdir()
    run([str(venv / "bin" / "django-admin"), "startproject", "mysite", str(root)], env=clean_env())
    settings_part, urls_part = quick_start()
    with open(root / "mysite" / "settings.py", "a") as settings:
        settings.write("\n" + settings_part + DEPLOYMENT_SETTINGS)
    with open(root / "mysite" / "urls.py", "a") as urls:
        urls.write("\n" + urls_part)
    return Site(root=root, python=python, secret_key=secrets.token_urlsafe(50))


@pytest.fixture(scope="module")
def migrated_site(site: Site) -> Site:
    site.manage("migrate", "--noinput")
    return site


@pytest.fixture(scope="module")
def cas_server() -> Iterator[CASServer]:
    with CASServer(users={USER: PASSWORD}) as server:
        yield server


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls(tmp_path_factory.mktemp("tls"), "release")


@pytest.fixture(scope="module")
def served_site(migrated_site: Site, cas_server: CASServer, tls: TLSFiles) -> Iterator[str]:
    """The site under gunicorn over HTTPS, signing in at the real CAS server; yields its URL."""
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    gunicorn = migrated_site.python.parent / "gunicorn"
    log = open(migrated_site.root / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--certfile",
            str(tls.cert),
            "--keyfile",
            str(tls.key),
            "mysite.wsgi",
        ],
        cwd=migrated_site.root,
        env=migrated_site.env(SITE_CAS_SERVER_URL=cas_server.url),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"gunicorn did not start:\n{(migrated_site.root / 'gunicorn.log').read_text()}"
                )
            try:
                requests.get(
                    url + "/accounts/login/", verify=str(tls.ca), timeout=5, allow_redirects=False
                )
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield url
    finally:
        stop_process_group(process)
        log.close()


def test_twine_accepts_the_sdist_and_the_wheel(dist: Dist) -> None:
    result = run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)]
    )
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_wheel_carries_templates_compiled_locales_migrations_and_py_typed(dist: Dist) -> None:
    names = dist.wheel_names()
    catalogues = source_files(PACKAGE / "locale", "*.po")
    expected = {
        "django_cas_ng/py.typed",
        "django_cas_ng/management/commands/django_cas_ng_clean_sessions.py",
        *(str(path) for path in source_files(PACKAGE / "templates", "*.html")),
        *(str(path) for path in source_files(PACKAGE / "migrations", "*.py")),
        *(str(path.with_suffix(".mo")) for path in catalogues),
    }
    assert catalogues and any(name.endswith(".html") for name in expected)
    assert expected <= names, sorted(expected - names)


def test_wheel_installs_only_the_package(dist: Dist) -> None:
    top_level = {name.split("/", 1)[0] for name in dist.wheel_names()}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"django_cas_ng"}


def test_sdist_carries_tests_docs_and_the_entry_points(dist: Dist) -> None:
    names = dist.sdist_names()
    expected = {
        "README.rst",
        "LICENSE",
        "pyproject.toml",
        "tox.ini",
        "Makefile",
        "MANIFEST.in",
        *(str(path) for path in source_files(REPO / "tests", "*.py")),
        *(str(path) for path in source_files(REPO / "docs", "*.rst")),
        "docs/conf.py",
        *(str(path) for path in source_files(PACKAGE, "*.po")),
    }
    assert expected <= names, sorted(expected - names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_site_imports_the_installed_wheel_not_the_checkout(site: Site) -> None:
    result = run(
        [str(site.python), "-c", "import django_cas_ng; print(django_cas_ng.__file__)"],
        cwd=site.root,
        env=site.env(),
    )
    assert Path(result.stdout.strip()).is_relative_to(site.python.parent.parent)


def test_deploy_check_is_clean_with_the_readme_settings(site: Site) -> None:
    result = site.manage("check", "--deploy", "--fail-level", "WARNING")
    assert CHECK_ID.findall(result.stdout + result.stderr) == []


def test_deploy_check_with_a_plain_http_cas_server_gives_only_documented_warnings(
    site: Site,
) -> None:
    result = subprocess.run(
        [str(site.python), "manage.py", "check", "--deploy"],
        cwd=site.root,
        env=site.env(SITE_CAS_SERVER_URL="http://127.0.0.1:1/cas/"),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=True,
    )
    found = set(CHECK_ID.findall(result.stdout + result.stderr))
    documented = (REPO / "docs" / "checks.rst").read_text()
    assert found, "plain http CAS outside DEBUG must be reported"
    assert all(id_.startswith("django_cas_ng.W") and id_ in documented for id_ in found), found


def test_migrate_applies_every_migration_of_the_app(migrated_site: Site) -> None:
    result = migrated_site.manage("showmigrations", "django_cas_ng")
    applied = [line for line in result.stdout.splitlines() if line.strip().startswith("[")]
    assert applied and all(line.strip().startswith("[X]") for line in applied), result.stdout


def test_sign_in_through_the_real_cas_server(
    served_site: str, cas_server: CASServer, migrated_site: Site, tls: TLSFiles
) -> None:
    browser = requests.Session()
    browser.trust_env = False
    browser.verify = str(tls.ca)

    to_cas = browser.get(
        served_site + "/accounts/login/", allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    assert to_cas.status_code == 302
    assert to_cas.headers["Location"].startswith(cas_server.url + "login?")
    (service,) = parse_qs(urlsplit(to_cas.headers["Location"]).query)["service"]
    assert service.startswith(served_site + "/accounts/login/")

    with_ticket = cas_server.login(browser, service, USER, PASSWORD)
    assert with_ticket.status_code == 302, with_ticket.text
    ticket_url = with_ticket.headers["Location"]
    assert ticket_url.startswith(service) and "ticket=ST-" in ticket_url

    landing = browser.get(ticket_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert landing.status_code == 302, landing.text
    assert landing.headers["Location"] == "/"
    session_key = browser.cookies.get("sessionid")
    assert session_key

    again = browser.get(
        served_site + "/accounts/login/", allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    assert again.status_code == 302 and again.headers["Location"] == "/"

    owner = migrated_site.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        "from django.contrib.sessions.models import Session; "
        f"uid = Session.objects.get(pk={session_key!r}).get_decoded()['_auth_user_id']; "
        "print(get_user_model().objects.get(pk=uid).username)",
    )
    assert owner.stdout.strip().splitlines()[-1] == USER  # after any auto-import notice
