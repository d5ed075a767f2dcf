"""Two app nodes sharing PostgreSQL and Redis behind a real CAS server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import pytest
import requests

from tests.cluster.conftest import USERS, Cluster

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def cas_ticket_url(cluster: Cluster, browser: requests.Session, node_url: str, user: str) -> str:
    """Start a login on a node and sign in at CAS; returns the service URL carrying the ticket."""
    start = browser.get(node_url + "/accounts/login/?next=/private/", allow_redirects=False)
    assert start.status_code == 302
    service = requests.utils.unquote(
        start.headers["Location"].split("service=", 1)[1].split("&")[0]
    )
    answer = cluster.cas.login(browser, service, user, USERS[user])
    assert answer.status_code == 302, answer.text[:500]
    return urljoin(node_url, answer.headers["Location"])


def sign_in(cluster: Cluster, node_url: str, user: str) -> requests.Session:
    browser = requests.Session()
    landing = browser.get(cas_ticket_url(cluster, browser, node_url, user), allow_redirects=False)
    assert landing.status_code == 302 and landing.headers["Location"] == "/private/"
    assert browser.get(node_url + "/private/", allow_redirects=False).status_code == 200
    return browser


def test_logout_at_cas_delivered_to_another_node_ends_the_session(cluster: Cluster) -> None:
    browser = sign_in(cluster, cluster.node_a.url, "alice")
    assert browser.get(cluster.node_b.url + "/private/", allow_redirects=False).status_code == 200

    browser.get(cluster.cas.url + "logout", timeout=30)

    assert browser.get(cluster.node_a.url + "/private/", allow_redirects=False).status_code == 302
    assert browser.get(cluster.node_b.url + "/private/", allow_redirects=False).status_code == 302


def test_logout_leaves_other_users_signed_in(cluster: Cluster) -> None:
    leaving = sign_in(cluster, cluster.node_a.url, "alice")
    staying = sign_in(cluster, cluster.node_a.url, "alice")
    leaving.get(cluster.cas.url + "logout", timeout=30)
    assert staying.get(cluster.node_a.url + "/private/", allow_redirects=False).status_code == 200


def test_logout_removes_the_mapping_row(cluster: Cluster) -> None:
    before = cluster.sql("SELECT count(*) FROM django_cas_ng_sessionticket")[0][0]
    browser = sign_in(cluster, cluster.node_a.url, "alice")
    assert cluster.sql("SELECT count(*) FROM django_cas_ng_sessionticket")[0][0] == before + 1
    browser.get(cluster.cas.url + "logout", timeout=30)
    assert cluster.sql("SELECT count(*) FROM django_cas_ng_sessionticket")[0][0] == before


def test_twenty_parallel_first_logins_make_one_user_and_twenty_sessions(cluster: Cluster) -> None:
    browsers = [requests.Session() for _ in range(20)]
    nodes = [cluster.node_a.url, cluster.node_b.url]
    urls = [cas_ticket_url(cluster, b, nodes[i % 2], "carol") for i, b in enumerate(browsers)]
    before = cluster.sql("SELECT count(*) FROM django_cas_ng_sessionticket")[0][0]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(
                lambda pair: pair[0].get(pair[1], allow_redirects=False),
                zip(browsers, urls, strict=True),
            )
        )

    assert [a.status_code for a in answers] == [302] * 20
    assert cluster.sql("SELECT count(*) FROM auth_user WHERE username = 'carol'") == [(1,)]
    assert cluster.sql("SELECT count(*) FROM django_cas_ng_sessionticket")[0][0] == before + 20
    for i, browser in enumerate(browsers):
        assert browser.get(nodes[i % 2] + "/private/", allow_redirects=False).status_code == 200
