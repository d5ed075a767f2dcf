"""Benchmark worker: runs inside ONE implementation's virtualenv (ours or django-cas-ng 5.1.1).

Started by ``bench/__main__.py`` as ``<venv>/bin/python bench/worker.py COMMAND ...`` from a
temporary working directory, so ``sys.path[0]`` is this folder (``bench_settings``,
``bench_urls``, ``bench_floor`` and ``cas_stub`` import as top-level modules) and
``django_cas_ng`` comes from that venv only. Where it drives django-cas-ng it uses nothing but
the 5.1 public API: the views through ``django.test.Client``, the ``SessionTicket`` model, the
``django_cas_ng_clean_sessions`` command and ``django_cas_ng.middleware.CASMiddleware``.

Every command prints one line ``RESULT <json>`` on stdout as its last output.

Data layout made by ``prefill`` (fresh database, ids start at 1):

- ``auth_user``: ``users`` rows, ``benchuser<id>``;
- ``django_session``: N live sessions, key ``md5('k' || i)``, i = 0..N-1, signed in as user
  ``i % users + 1`` (real, decodable session data);
- ``django_cas_ng_sessionticket``: one mapping per session, id ``i + 1``, ticket ``ticket(i)``
  (plus ``ticket_digest`` for our schema).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")


def ticket(i: int) -> str:
    """The service ticket of prefilled session ``i`` (CAS-like: ST-<n>-<random>-<host>)."""
    return f"ST-{i}-{hashlib.md5(str(i).encode()).hexdigest()[:20]}-cas"


def session_key(i: int) -> str:
    return hashlib.md5(f"k{i}".encode()).hexdigest()


def emit(result: dict) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def setup_django() -> None:
    import django

    django.setup()


def impl_info() -> dict:
    import django

    import django_cas_ng
    from django_cas_ng.models import SessionTicket

    try:
        from importlib.metadata import version

        pkg_version = version("django-cas-ng")
    except Exception:
        pkg_version = "?"
    return {
        "package_file": django_cas_ng.__file__,
        "package_version": pkg_version,
        "django": django.get_version(),
        "digest_column": any(f.name == "ticket_digest" for f in SessionTicket._meta.fields),
    }


# --------------------------------------------------------------------------- prefill


def _session_blobs(users: int) -> list[str]:
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    return [
        store.encode(
            {"_auth_user_id": str(uid), "_auth_user_backend": "django_cas_ng.backends.CASBackend"}
        )
        for uid in range(1, users + 1)
    ]


def cmd_prefill(args: argparse.Namespace) -> None:
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter()
    info = impl_info()
    n, users = args.n, min(args.users, args.n)
    blobs = _session_blobs(users)
    digest = info["digest_column"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _prefill_postgres(cursor, n, users, blobs, digest)
        else:
            _prefill_sqlite(connection, n, users, blobs, digest)
    filled = time.perf_counter()
    emit(
        {
            **info,
            "n": n,
            "users": users,
            "migrate_s": migrated - started,
            "prefill_s": filled - migrated,
        }
    )


def _prefill_postgres(cursor, n: int, users: int, blobs: list[str], digest: bool) -> None:
    cursor.execute(
        "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name,"
        " email, is_staff, is_active, date_joined)"
        " SELECT u, '', false, 'benchuser' || u, '', '', '', false, true, now()"
        " FROM generate_series(1, %s) u",
        [users],
    )
    cursor.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), %s)", [users])
    cursor.execute(
        "INSERT INTO django_session (session_key, session_data, expire_date)"
        " SELECT md5('k' || i), (%s::text[])[1 + i %% %s], now() + interval '14 days'"
        " FROM generate_series(0, %s - 1) i",
        [blobs, users, n],
    )
    tkt = "'ST-' || i || '-' || substr(md5(i::text), 1, 20) || '-cas'"
    if digest:
        cursor.execute(
            "INSERT INTO django_cas_ng_sessionticket (id, session_key, ticket, ticket_digest)"
            f" SELECT i + 1, md5('k' || i), t, encode(sha256(convert_to(t, 'UTF8')), 'hex')"
            f" FROM (SELECT i, {tkt} AS t FROM generate_series(0, %s - 1) i) s",
            [n],
        )
    else:
        cursor.execute(
            "INSERT INTO django_cas_ng_sessionticket (id, session_key, ticket)"
            f" SELECT i + 1, md5('k' || i), {tkt} FROM generate_series(0, %s - 1) i",
            [n],
        )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('django_cas_ng_sessionticket', 'id'), %s)", [n]
    )
    cursor.execute("ANALYZE")


def _prefill_sqlite(connection, n: int, users: int, blobs: list[str], digest: bool) -> None:
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    expire = now + timezone.timedelta(days=14)
    chunk = 100_000
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO auth_user (id, password, is_superuser, username, first_name,"
            " last_name, email, is_staff, is_active, date_joined)"
            " VALUES (%s, '', 0, %s, '', '', '', 0, 1, %s)",
            [(u, f"benchuser{u}", now.isoformat()) for u in range(1, users + 1)],
        )
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO django_session (session_key, session_data, expire_date)"
                " VALUES (%s, %s, %s)",
                [
                    (session_key(i), blobs[i % users], expire.isoformat())
                    for i in range(start, stop)
                ],
            )
            if digest:
                rows = []
                for i in range(start, stop):
                    t = ticket(i)
                    digest_hex = hashlib.sha256(t.encode()).hexdigest()
                    rows.append((i + 1, session_key(i), t, digest_hex))
                cursor.executemany(
                    "INSERT INTO django_cas_ng_sessionticket"
                    " (id, session_key, ticket, ticket_digest) VALUES (%s, %s, %s, %s)",
                    rows,
                )
            else:
                cursor.executemany(
                    "INSERT INTO django_cas_ng_sessionticket (id, session_key, ticket)"
                    " VALUES (%s, %s, %s)",
                    [(i + 1, session_key(i), ticket(i)) for i in range(start, stop)],
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --------------------------------------------------------------------------- SLO


def logout_request(tkt: str, serial: int) -> str:
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"'
        ' xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"'
        f' ID="LR-{serial}" Version="2.0" IssueInstant="2025-01-01T00:00:00Z">'
        "<saml:NameID>@NOT_USED@</saml:NameID>"
        f"<samlp:SessionIndex>{tkt}</samlp:SessionIndex>"
        "</samlp:LogoutRequest>"
    )


def _sessions_alive(keys: list[str]) -> int:
    from django.contrib.sessions.models import Session

    alive = 0
    for start in range(0, len(keys), 500):
        alive += Session.objects.filter(session_key__in=keys[start : start + 500]).count()
    return alive


def _count(statuses: dict[str, int], code: int) -> None:
    statuses[str(code)] = statuses.get(str(code), 0) + 1


class SLOBench:
    """Back-channel SLO POSTs, each ending a different prefilled session (random order)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from django.test import Client

        self.client = Client()
        self.picks = random.Random(1234).sample(range(args.n), min(args.n, args.max_requests))
        self.next = 0
        self.statuses: dict[str, int] = {}
        self.samples: list[float] = []
        for _ in range(args.warmup):
            self._one()

    def _one(self) -> float:
        i = self.picks[self.next]
        self.next += 1
        body = {"logoutRequest": logout_request(ticket(i), self.next)}
        t0 = time.perf_counter()
        response = self.client.post("/accounts/login/", body)
        elapsed = time.perf_counter() - t0
        _count(self.statuses, response.status_code)
        return elapsed * 1000

    def batch(self, count: int) -> list[float]:
        got = [self._one() for _ in range(min(count, len(self.picks) - self.next))]
        self.samples.extend(got)
        return got

    def finish(self) -> dict:
        return {
            "statuses": self.statuses,
            "ended_keys_still_alive": _sessions_alive(
                [session_key(i) for i in self.picks[: self.next]]
            ),
        }


# --------------------------------------------------------------------------- login


class Stub:
    """The CAS stub as a child process (its own GIL), with the stdin/stdout control protocol."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "cas_stub.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError(f"CAS stub did not start: {line}")
        self.port = int(line[1])

    def command(self, cmd: str) -> str:
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stats(self) -> dict:
        return json.loads(self.command("stats"))

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()


class LoginBench:
    """Logins through ``--view`` (our/5.1.1's LoginView 'cas', the bare 'floor' view, or
    'floor_guard': the floor plus a replay guard's INSERT, or 'floor_contract': the floor with
    guard, reached through ``authenticate()`` and adding the login message, as 5.1 does).

    On start, from a cold process: ``--conn-logins`` sequential logins per view while the stub
    counts TCP connections (benchmark 4). Batches then alternate between the views, so drift in
    the machine's speed hits them alike. Every login uses fresh cookies (a new browser) and a
    new ticket for one of the existing users.
    """

    URLS = {
        "cas": "/accounts/login/",
        "floor": "/floor/login/",
        "floor_guard": "/floor-guard/login/",
        "floor_contract": "/floor-contract/login/",
    }

    def __init__(self, args: argparse.Namespace, stub: Stub) -> None:
        from django.test import Client

        from django_cas_ng.models import SessionTicket

        self.stub = stub
        self.views = args.view.split(",")
        self.client = Client()
        self.users = args.users
        self.serial = 0
        self.tag = f"L{os.getpid()}"
        self.mappings_before = SessionTicket.objects.count()
        self.performed = 0
        self.out: dict[str, dict] = {v: {"view": v, "statuses": {}} for v in self.views}
        self.samples: dict[str, list[float]] = {v: [] for v in self.views}
        for view in self.views:
            stub.command("reset")
            for _ in range(args.conn_logins):
                self._one(view)
            conn = stub.stats()
            self.out[view].update(
                stub_connections=conn["connections"],
                stub_requests=conn["requests"],
                conn_logins=args.conn_logins,
            )
        for view in self.views:
            for _ in range(args.warmup):
                self._one(view)
        gc.collect()

    def _one(self, view: str) -> float:
        self.serial += 1
        self.performed += 1
        k = self.serial
        self.client.cookies.clear()
        tkt = f"ST-{self.tag}x{k}-benchuser{k % self.users + 1}"
        t0 = time.perf_counter()
        response = self.client.get(self.URLS[view], {"ticket": tkt, "next": "/"})
        elapsed = time.perf_counter() - t0
        _count(self.out[view]["statuses"], response.status_code)
        return elapsed * 1000

    def batch(self, count: int) -> dict[str, list[float]]:
        got: dict[str, list[float]] = {}
        for view in self.views:
            got[view] = [self._one(view) for _ in range(count)]
            self.samples[view].extend(got[view])
        return got

    def finish(self) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from django_cas_ng.models import SessionTicket

        # Queries per login: a separate pass, since capturing adds its own overhead.
        for view in self.views:
            counts: list[int] = []
            statements: list[str] = []
            for _ in range(5):
                with CaptureQueriesContext(connection) as ctx:
                    self._one(view)
                counts.append(len(ctx.captured_queries))
                statements = [_shape(q["sql"]) for q in ctx.captured_queries]
            self.out[view].update(
                queries_per_login=statistics.median(counts), statements=statements
            )
        made = SessionTicket.objects.count() - self.mappings_before
        return {"views": self.out, "mappings_created": made, "logins_total": self.performed}


def summarize(samples_ms: list[float]) -> dict:
    ms = sorted(samples_ms)
    if not ms:
        return {"count": 0}
    return {
        "count": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": ms[max(0, round(0.95 * len(ms)) - 1)],
        "mean_ms": statistics.fmean(ms),
        "per_s": len(ms) / (sum(ms) / 1000),
    }


def _serve(bench) -> None:
    """Interactive mode: ``batch K`` -> ``BATCH <json>``; ``finish`` -> ``RESULT <json>``."""
    print("READY", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "batch":
            print("BATCH " + json.dumps(bench.batch(int(words[1]))), flush=True)
        elif words[0] == "finish":
            break
    emit(bench.finish())


def cmd_slo(args: argparse.Namespace) -> None:
    setup_django()
    bench = SLOBench(args)
    if args.interactive:
        _serve(bench)
        return
    bench.batch(args.requests)
    emit({**bench.finish(), **summarize(bench.samples), "samples_ms": sorted(bench.samples)})


def cmd_login(args: argparse.Namespace) -> None:
    stub = Stub()
    os.environ["BENCH_CAS_URL"] = f"http://127.0.0.1:{stub.port}/cas/"
    try:
        setup_django()
        bench = LoginBench(args, stub)
        if args.interactive:
            _serve(bench)
            return
        for _ in range(10):
            bench.batch(max(1, args.logins // 10))
        result = bench.finish()
        for view in bench.views:
            result["views"][view].update(summarize(bench.samples[view]))
        emit(result)
    finally:
        stub.close()


def _shape(sql: str) -> str:
    """A short shape of a statement: verb and table, for the report."""
    words = sql.replace('"', "").split()
    verb = words[0].upper() if words else "?"
    table = "?"
    for marker in ("FROM", "INTO", "UPDATE"):
        upper = [w.upper() for w in words]
        if marker in upper:
            idx = upper.index(marker) + (0 if marker == "UPDATE" else 1)
            if marker == "UPDATE":
                idx = upper.index("UPDATE") + 1
            if idx < len(words):
                table = words[idx].strip("(),")
                break
    return f"{verb} {table}"


# --------------------------------------------------------------------------- cleanup


def cmd_cleanup_prep(args: argparse.Namespace) -> None:
    """Delete the sessions of every even mapping id: half of the mappings become stale."""
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_session WHERE session_key IN (SELECT session_key FROM"
            " django_cas_ng_sessionticket WHERE id % 2 = 0)"
        )
        deleted = cursor.rowcount
        cursor.execute("SELECT COUNT(*) FROM django_cas_ng_sessionticket")
        mappings = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*) FROM django_cas_ng_sessionticket st WHERE NOT EXISTS"
            " (SELECT 1 FROM django_session s WHERE s.session_key = st.session_key)"
        )
        stale = cursor.fetchone()[0]
        cursor.execute("ANALYZE")
    emit({"sessions_deleted": deleted, "mappings": mappings, "stale": stale})


def cmd_cleanup(args: argparse.Namespace) -> None:
    """Time ``django_cas_ng_clean_sessions`` in this fresh process and report its peak RSS."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from django_cas_ng.models import SessionTicket

    connection.ensure_connection()
    before = SessionTicket.objects.count()
    gc.collect()
    rss_before = rss_mib()
    t0 = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        call_command("django_cas_ng_clean_sessions", stdout=devnull)
    elapsed = time.perf_counter() - t0
    rss_peak = rss_mib()
    after = SessionTicket.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM django_cas_ng_sessionticket st WHERE NOT EXISTS"
            " (SELECT 1 FROM django_session s WHERE s.session_key = st.session_key)"
        )
        stale_left = cursor.fetchone()[0]
    emit(
        {
            "seconds": elapsed,
            "mappings_before": before,
            "removed": before - after,
            "stale_left": stale_left,
            "rss_before_mib": rss_before,
            "rss_peak_mib": rss_peak,
            "rss_growth_mib": rss_peak - rss_before,
        }
    )


# --------------------------------------------------------------------------- middleware


def cmd_middleware(args: argparse.Namespace) -> None:
    """Per-request cost of CASMiddleware.process_request + process_view on a non-admin view."""
    setup_django()
    import bench_urls
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from django_cas_ng.middleware import CASMiddleware

    request = RequestFactory().get("/plain/")
    request.user = AnonymousUser()
    middleware = CASMiddleware(lambda r: None)
    view = bench_urls.plain_view
    process_request, process_view = middleware.process_request, middleware.process_view
    assert process_request(request) is None and process_view(request, view, (), {}) is None

    def noop_request(req):
        return None

    def noop_view(req, func, a, kw):
        return None

    def with_mw():
        process_request(request)
        process_view(request, view, (), {})

    def with_noop():
        noop_request(request)
        noop_view(request, view, (), {})

    number = args.number
    mw = min(timeit.repeat(with_mw, number=number, repeat=args.repeat)) / number
    noop = min(timeit.repeat(with_noop, number=number, repeat=args.repeat)) / number
    emit({"per_call_us": mw * 1e6, "noop_us": noop * 1e6, "overhead_us": (mw - noop) * 1e6})


def cmd_handlers(args: argparse.Namespace) -> None:
    """CASMiddleware's cost per request through Django's ASGI and WSGI handlers (in process)."""
    setup_django()
    from handler_bench import measure

    emit(measure(args.requests, args.rounds, args.prototype))


def cmd_info(args: argparse.Namespace) -> None:
    setup_django()
    emit(impl_info())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="worker.py")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info")
    p = sub.add_parser("prefill")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--users", type=int, default=1000)
    p = sub.add_parser("slo")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--requests", type=int, default=200, help="non-interactive: how many")
    p.add_argument("--max-requests", type=int, default=1000, help="sessions to pick from")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--interactive", action="store_true")
    p = sub.add_parser("login")
    p.add_argument(
        "--view", default="cas", help="comma-separated: cas, floor, floor_guard, floor_contract"
    )
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--logins", type=int, default=300, help="non-interactive: how many")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--conn-logins", type=int, default=100)
    p.add_argument("--interactive", action="store_true")
    sub.add_parser("cleanup-prep")
    sub.add_parser("cleanup")
    p = sub.add_parser("middleware")
    p.add_argument("--number", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=5)
    p = sub.add_parser("handlers")
    p.add_argument("--requests", type=int, default=200, help="requests per round")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--prototype", action="store_true", help="also bench/async_cas_middleware.py")
    args = parser.parse_args(argv)
    handler = {
        "info": cmd_info,
        "prefill": cmd_prefill,
        "slo": cmd_slo,
        "login": cmd_login,
        "cleanup-prep": cmd_cleanup_prep,
        "cleanup": cmd_cleanup,
        "middleware": cmd_middleware,
        "handlers": cmd_handlers,
    }[args.command]
    handler(args)


if __name__ == "__main__":
    main()
