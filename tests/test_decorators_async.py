"""The decorators wrap ``async def`` views too: through the test client (WSGI-like), the async
test client, and a real ASGI server (uvicorn in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import AsyncClient, Client

from tests import async_views
from tests.ports import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.async_views")]

REPO_ROOT = Path(__file__).resolve().parent.parent
User = get_user_model()


@pytest.fixture
def alice() -> Any:
    return User.objects.create(username="alice")


@pytest.fixture
def bob() -> Any:
    return User.objects.create(username="bob")


def aget(client: AsyncClient, url: str) -> Any:
    return async_to_sync(client.get)(url)


def test_decorated_async_views_stay_coroutine_functions() -> None:
    for view in (async_views.async_private, async_views.async_staff, async_views.async_alice_only):
        assert iscoroutinefunction(view)
    assert not iscoroutinefunction(async_views.sync_alice_only)


def test_login_required_async_view_redirects_anonymous_users(client: Client) -> None:
    response = client.get("/async-private/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/async-private/")


def test_login_required_async_view_lets_signed_in_users_through(client: Client, alice) -> None:
    client.force_login(alice)
    response = client.get("/async-private/")
    assert (response.status_code, response.content) == (200, b"async private alice")


def test_login_required_async_view_under_the_async_client(alice) -> None:
    client = AsyncClient()
    assert aget(client, "/async-private/").status_code == 302
    client.force_login(alice)
    assert aget(client, "/async-private/").content == b"async private alice"


def test_permission_required_async_view_gives_403_to_signed_in_users_without_it(alice) -> None:
    client = AsyncClient()
    client.force_login(alice)
    assert aget(client, "/async-staff/").status_code == 403


def test_permission_required_async_view_lets_users_with_it_through(client: Client, alice) -> None:
    alice.user_permissions.add(Permission.objects.get(codename="add_user"))
    client.force_login(alice)
    assert client.get("/async-staff/").status_code == 200


@pytest.mark.parametrize("url", ["/async-alice/", "/sync-alice/"])
def test_user_passes_test_accepts_an_async_test(client: Client, alice, bob, url: str) -> None:
    client.force_login(bob)
    assert client.get(url).status_code == 403
    client.force_login(alice)
    assert client.get(url).status_code == 200


# --- under a real ASGI server ----------------------------------------------------------------


def _run_django(env: dict[str, str], code: str) -> str:
    """Run ``code`` after ``django.setup()`` against the server's database; its stdout."""
    script = "import django; django.setup()\n" + code
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


SIGNED_IN_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
call_command("migrate", verbosity=0)
user = User.objects.create(username="alice")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.save()
print(session.session_key)
"""


@pytest.fixture
def uvicorn_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``tests.asgi_app`` under uvicorn on 127.0.0.1; yields its URL and a signed-in session key."""
    pytest.importorskip("uvicorn")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.asgi_settings",
        "CAS_TEST_ASGI_DB": str(tmp_path / "asgi.sqlite3"),
    }
    session_key = _run_django(env, SIGNED_IN_SESSION)
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("w")
    command = [sys.executable, "-m", "uvicorn", "tests.asgi_app:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url + "/accounts/logout/", timeout=1, allow_redirects=False)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "uvicorn.log").read_text()) from None
                time.sleep(0.2)
        yield url, session_key
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_login_required_async_view_under_uvicorn(uvicorn_server: tuple[str, str]) -> None:
    url, session_key = uvicorn_server
    anonymous = requests.get(url + "/async-private/", timeout=10, allow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["Location"]) == (
        302,
        "/accounts/login/?next=/async-private/",
    )
    signed_in = requests.get(
        url + "/async-private/",
        cookies={"sessionid": session_key},
        timeout=10,
        allow_redirects=False,
    )
    assert (signed_in.status_code, signed_in.text) == (200, "async private alice")
