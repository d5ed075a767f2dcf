"""Single-use tickets across two nodes (two gunicorn processes sharing one SQLite database),
behind a stand-in CAS server that, like Apereo CAS with a stateless ticket registry,
validates a ticket every time it is asked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.cas_answers import success_xml
from tests.integration.proxy_apps import App, migrate

pytestmark = pytest.mark.integration


class LenientCAS(BaseHTTPRequestHandler):
    """Says yes to every validation, as often as it is asked, and counts the questions."""

    validations: list[str] = []

    def do_GET(self) -> None:
        if "Validate" in self.path:
            type(self).validations.append(self.path)
        body = success_xml("alice").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, App]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), LenientCAS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cas_url = f"http://127.0.0.1:{server.server_address[1]}/cas/"
    workdir = tmp_path_factory.mktemp("replay-nodes")
    database = Path(workdir) / "shared.sqlite3"
    apps: list[App] = []
    try:
        migrate(database, cas_url)
        apps = [App(name, workdir, database, cas_url) for name in ("node-a", "node-b")]
        a, b = (app.wait_until_ready() for app in apps)
        yield a, b
    finally:
        for app in apps:
            app.stop()
        server.shutdown()


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def test_a_service_ticket_accepted_by_one_node_is_refused_by_the_other(nodes) -> None:
    a, b = nodes
    LenientCAS.validations.clear()
    ticket = {"ticket": "ST-11-sharedAcrossNodes", "next": "/b/api/whoami/"}
    first = http().get(a.url + "accounts/login/", params=ticket, allow_redirects=False)
    assert first.status_code == 302, a.log_tail()
    replayed = http().get(b.url + "accounts/login/", params=ticket, allow_redirects=False)
    assert replayed.status_code == 403
    assert len(LenientCAS.validations) == 1


def test_a_proxy_ticket_accepted_by_one_node_is_refused_by_the_other(nodes) -> None:
    a, b = nodes
    LenientCAS.validations.clear()
    headers = {"Authorization": "CAS PT-12-sharedAcrossNodes"}
    assert http().get(a.url + "b/api/whoami/", headers=headers).status_code == 200
    replayed = http().get(b.url + "b/api/whoami/", headers=headers)
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "TICKET_ALREADY_USED"
    assert len(LenientCAS.validations) == 1
