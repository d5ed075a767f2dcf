"""A two-node cluster: PostgreSQL, Redis, two gunicorn nodes and a real CAS server.

Single Logout from the CAS server is delivered to node B while users sign in through node A,
as a load balancer could do. Outside CI, the tests skip when PostgreSQL or Redis is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from tests.casserver import CASServer
from tests.cluster.services import REPO_ROOT, Node, ServiceUnavailable, postgresql, redis
from tests.ports import free_port

USERS = {"alice": "alice-password", "carol": "carol-password"}


@dataclass
class Cluster:
    cas: CASServer
    node_a: Node
    node_b: Node
    database: dict[str, str]
    redis_url: str

    def sql(self, query: str, *params: object) -> list[tuple]:
        db = self.database
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
        ) as connection:
            return connection.execute(query, params).fetchall()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    try:
        with postgresql() as database, redis() as redis_url:
            port_b = free_port()
            cas = CASServer(
                users=USERS, slo_callback=f"http://127.0.0.1:{port_b}/accounts/callback/"
            )
            cas.start()
            env = {
                "CLUSTER_DATABASE": json.dumps(database),
                "CLUSTER_REDIS_URL": redis_url,
                "CLUSTER_CAS_URL": cas.url,
                "DJANGO_SETTINGS_MODULE": "tests.cluster.node_settings",
            }
            subprocess.run(
                [sys.executable, "-m", "django", "migrate", "--verbosity", "0"],
                cwd=REPO_ROOT,
                env={**os.environ, **env},
                check=True,
                timeout=120,
            )
            node_a = Node(env, "a")
            node_b = Node(env, "b", port=port_b)
            try:
                yield Cluster(cas, node_a, node_b, database, redis_url)
            finally:
                node_a.stop()
                node_b.stop()
                cas.stop()
    except ServiceUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cluster services unavailable: {exc}")
