"""Proxy CAS end to end, with a real CAS server (django-cas-server) and apps under gunicorn.

App A (two nodes sharing one database, both behind TLS with a throwaway CA the CAS server
trusts) signs the user in; the CAS server delivers the PGT to the callback on node 2 while node
1 waits for validation. Node 1 then obtains a proxy ticket and calls app B, which validates it
at /p3/proxyValidate and checks the proxy chain against its CAS_PROXY_CHAINS.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.casserver import CASServer
from tests.integration.proxy_apps import App, copy_database, migrate
from tests.integration.proxy_tls import TLSFiles, make_tls
from tests.ports import free_port

pytestmark = pytest.mark.integration

TRUSTED_ELSEWHERE = r"^https://trusted\.example\.org/.*"
USERS = {"alice": "alice-password"}
ATTRIBUTES = {"alice": {"email": "alice@example.org"}}


@dataclass
class Deployment:
    cas: CASServer
    tls: TLSFiles
    workdir: Path
    a_db: Path
    a1: App
    a2: App
    b: App
    callback: str

    def pgts(self) -> list[tuple[str, str | None, int | None]]:
        """(pgt, session_key, user_id) of every PGT row of app A."""
        with sqlite3.connect(f"file:{self.a_db}?mode=ro", uri=True) as db:
            return db.execute(
                "SELECT pgt, session_key, user_id FROM django_cas_ng_proxygrantingticket"
            ).fetchall()

    def pgts_of(self, browser: requests.Session) -> list[tuple[str, str | None, int | None]]:
        return [row for row in self.pgts() if row[1] == browser.cookies.get("sessionid")]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("proxy-e2e")
    tls = make_tls(workdir, "trusted")
    with CASServer(users=USERS, attributes=ATTRIBUTES, ca_bundle=tls.ca) as cas:
        a_db, b_db = workdir / "a.sqlite3", workdir / "b.sqlite3"
        migrate(a_db, cas.url)
        copy_database(a_db, b_db)
        port_a2, port_b = free_port(), free_port()
        callback = f"https://127.0.0.1:{port_a2}/accounts/callback/"
        b_url = f"http://127.0.0.1:{port_b}/"
        chains = {
            b_url + "b/api/whoami/": [[callback]],
            b_url + "b/drf/whoami/": [[r"^https://127\.0\.0\.1:\d+/accounts/callback/"]],
            b_url + "b/api/strict/": [[TRUSTED_ELSEWHERE]],
        }
        apps: list[App] = []
        try:
            apps.append(App("a2", workdir, a_db, cas.url, port=port_a2, tls=tls, callback=callback))
            apps.append(App("a1", workdir, a_db, cas.url, tls=tls, callback=callback))
            apps.append(App("b", workdir, b_db, cas.url, port=port_b, chains=chains, cookie="b_id"))
            a2, a1, b = (app.wait_until_ready() for app in apps)
            yield Deployment(cas, tls, workdir, a_db, a1, a2, b, callback)
        finally:
            for app in apps:
                app.stop()


def browser(ca: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    return session


def sign_in(deployment: Deployment, app: App, ca: Path | None = None) -> requests.Response:
    """Sign alice in to ``app`` like a browser; returns the app's answer to the ticket."""
    session = browser(ca or deployment.tls.ca)
    to_cas = session.get(app.url + "accounts/login/", allow_redirects=False, timeout=10)
    assert to_cas.status_code == 302, app.log_tail()
    service = parse_qs(urlsplit(to_cas.headers["Location"]).query)["service"][0]
    back = deployment.cas.login(session, service, "alice", "alice-password")
    assert back.status_code == 302, back.text
    answer = session.get(back.headers["Location"], allow_redirects=False, timeout=30)
    answer.browser = session  # type: ignore[attr-defined]
    return answer


@pytest.fixture
def alice(deployment: Deployment) -> requests.Session:
    """A browser signed in to app A (node 1)."""
    answer = sign_in(deployment, deployment.a1)
    assert answer.status_code == 302, deployment.a1.log_tail()
    session: requests.Session = answer.browser  # type: ignore[attr-defined]
    return session


def call_through_a(
    deployment: Deployment, session: requests.Session, path: str, via: str = "header"
) -> dict[str, Any]:
    """Have app A obtain a proxy ticket for B's ``path`` and call it; A's report of the call."""
    target = deployment.b.url + path
    answer = session.get(
        deployment.a1.url + "a/call/",
        params={"service": target, "url": target, "via": via},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 200, (answer.text, deployment.a1.log_tail())
    report: dict[str, Any] = answer.json()
    return report


def test_back_end_accepts_proxy_ticket_and_sees_user_and_chain(deployment, alice) -> None:
    report = call_through_a(deployment, alice, "b/api/whoami/")

    assert report["ticket"].startswith("PT-")
    assert report["status"] == 200, deployment.b.log_tail()
    assert report["body"] == {
        "user": "alice",
        "proxies": [deployment.callback],
        "service": deployment.b.url + "b/api/whoami/",
    }


def test_drf_back_end_accepts_proxy_ticket_in_query_by_regex_chain(deployment, alice) -> None:
    report = call_through_a(deployment, alice, "b/drf/whoami/", via="query")

    assert report["status"] == 200, deployment.b.log_tail()
    assert report["body"]["user"] == "alice"
    assert report["body"]["proxies"] == [deployment.callback]


def test_chain_not_on_allow_list_is_refused(deployment, alice) -> None:
    report = call_through_a(deployment, alice, "b/api/strict/")

    assert report["status"] == 401
    assert report["www_authenticate"] == 'CAS realm="api"'
    assert report["body"]["code"] == "UNTRUSTED_PROXY_CHAIN"


def test_a_service_with_no_allowed_chain_has_the_cas_server_refuse_proxy_tickets(
    deployment, alice
) -> None:
    """No CAS_PROXY_CHAINS entry: B validates at /p3/serviceValidate, which refuses any PT."""
    report = call_through_a(deployment, alice, "b/api/unlisted/")

    assert report["ticket"].startswith("PT-")
    assert report["status"] == 401, deployment.b.log_tail()
    assert report["body"]["code"] not in ("UNTRUSTED_PROXY_CHAIN", "USER_REFUSED")


def test_reused_proxy_ticket_is_refused(deployment, alice) -> None:
    target = deployment.b.url + "b/api/whoami/"
    report = call_through_a(deployment, alice, "b/api/whoami/")
    assert report["status"] == 200

    replay = browser(deployment.tls.ca).get(
        target, headers={"Authorization": f"CAS {report['ticket']}"}, timeout=30
    )

    assert replay.status_code == 401
    assert replay.json()["code"] == "TICKET_ALREADY_USED"


def test_pgt_delivered_to_another_node_is_claimed_by_the_login_node(deployment, alice) -> None:
    [(pgt, _session_key, user_id)] = deployment.pgts_of(alice)

    assert pgt.startswith("PGT-") and user_id is not None
    assert "Stored a PGT" in deployment.a2.log.read_text()
    assert "Stored a PGT" not in deployment.a1.log.read_text()
    for app in (deployment.a1, deployment.a2, deployment.b):
        assert pgt not in app.log.read_text()


def test_callback_refuses_non_tickets_and_stores_only_where_pgts_are_claimed(
    deployment,
) -> None:
    http = browser(deployment.tls.ca)
    before = deployment.pgts()

    nul = http.get(
        deployment.a2.url + "accounts/callback/",
        params={"pgtIou": "PGTIOU-forged", "pgtId": "\x00"},
        timeout=10,
    )
    # App B sets no CAS_PROXY_CALLBACK: it answers, and keeps nothing.
    unused = http.get(
        deployment.b.url + "accounts/callback/",
        params={"pgtIou": "PGTIOU-forged", "pgtId": "PGT-forged"},
        timeout=10,
    )

    assert nul.status_code == 400, deployment.a2.log_tail()
    assert "must be tickets" in nul.text
    assert unused.status_code == 200, deployment.b.log_tail()
    assert deployment.pgts() == before
    with sqlite3.connect(f"file:{deployment.workdir / 'b.sqlite3'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*) FROM django_cas_ng_proxygrantingticket").fetchone() == (
            0,
        )


def test_logout_deletes_the_pgt(deployment, alice) -> None:
    session_key = alice.cookies["sessionid"]
    assert deployment.pgts_of(alice)

    alice.get(
        deployment.a1.url + "accounts/logout/",
        headers={"Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
        timeout=10,
    )

    assert all(row[1] != session_key for row in deployment.pgts())


def test_single_logout_from_cas_deletes_the_pgt(deployment, alice) -> None:
    session_key = alice.cookies["sessionid"]
    assert deployment.pgts_of(alice)

    alice.get(deployment.cas.url + "logout", timeout=30)

    assert all(row[1] != session_key for row in deployment.pgts())
    again = alice.get(deployment.a1.url + "a/call/", allow_redirects=False, timeout=10)
    assert again.status_code == 302
    assert "/accounts/login/" in again.headers["Location"]


def test_cas_server_refuses_callback_whose_certificate_it_does_not_trust(deployment) -> None:
    untrusted = make_tls(deployment.workdir, "untrusted")
    port = free_port()
    rogue = App(
        "rogue",
        deployment.workdir,
        deployment.a_db,
        deployment.cas.url,
        port=port,
        tls=untrusted,
        callback=f"https://127.0.0.1:{port}/accounts/callback/",
    )
    try:
        rogue.wait_until_ready()
        before = deployment.pgts()
        answer = sign_in(deployment, rogue, ca=untrusted.ca)
    finally:
        rogue.stop()

    assert answer.status_code == 403
    assert deployment.pgts() == before
    assert deployment.cas.log_path is not None
    assert "INVALID_PROXY_CALLBACK" in deployment.cas.log_path.read_text()
