"""Server benchmarks (``python -m bench --only asgi``): the site under uvicorn and gunicorn.

Real servers in subprocesses, real HTTP over 127.0.0.1, ours and django-cas-ng 5.1.1 side by
side (each server runs with its implementation's venv python). Two measurements:

1. **CASMiddleware per request under a server.** One worker each of uvicorn (ASGI) and gunicorn
   sync (WSGI), with and without CASMiddleware, serving a page for a signed-in user. A
   sequential client (keep-alive where the server keeps it) sends batches to every server in
   turn; the cost is the median latency with the middleware minus the median without.
2. **Logins/s under load.** uvicorn vs gunicorn sync workers (same worker count), the CAS stub
   answering each validation after ``--asgi-cas-delay`` seconds, ``--asgi-browsers`` browsers
   at once, each login a GET of the login view with a fresh ticket and fresh cookies.

See bench/README.md ("Server benchmarks").
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

BENCH = Path(__file__).resolve().parent
START_TIMEOUT = 60.0
USERS = 1000
KINDS = ("uvicorn", "gunicorn")
LABEL = {"ours": "ours", "upstream": "5.1.1"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environ(extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench_settings",
        PYTHONPATH=str(BENCH),
        PYTHONDONTWRITEBYTECODE="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        **extra,
    )
    return env


class Stub:
    """bench/cas_stub.py in its own process, answering after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH / "cas_stub.py"), "--delay", str(delay)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError(f"CAS stub did not start: {line}")
        self.url = f"http://127.0.0.1:{line[1]}/cas/"

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()
            self.proc.wait()


class Server:
    """One uvicorn or gunicorn (sync workers) process group serving the benchmark site."""

    def __init__(
        self, kind: str, python: Path, env: dict[str, str], workers: int, workdir: Path, name: str
    ) -> None:
        self.kind = kind
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        bind = ["--host", "127.0.0.1", "--port", str(self.port)]
        if kind == "uvicorn":
            command = [
                str(python), "-m", "uvicorn", "bench_asgi:application", *bind,
                "--workers", str(workers), "--loop", "asyncio", "--http", "h11",
                "--lifespan", "off", "--no-access-log", "--log-level", "warning",
                "--backlog", "1024",
            ]  # fmt: skip
        else:
            command = [
                str(python), "-m", "gunicorn", "bench_wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                "--worker-class", "sync", "--timeout", "120", "--backlog", "1024",
                "--log-level", "warning",
            ]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=workdir,
                env=_environ(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_ready(self) -> Server:
        probe = requests.Session()
        probe.trust_env = False
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            try:
                probe.get(self.url + "/plain/", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no output)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass


def _browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _login(session: requests.Session, base: str, ticket: str, timeout: float = 120) -> bool:
    """GET the login view with ``ticket``; True when it signed the browser in and sent it on."""
    answer = session.get(
        base + "/accounts/login/",
        params={"ticket": ticket, "next": "/"},
        allow_redirects=False,
        timeout=timeout,
    )
    return (
        answer.status_code == 302
        and answer.headers.get("Location") == "/"
        and bool(session.cookies.get("sessionid"))
    )


def _prefill(runner: Any, impl: str, env: dict[str, str]) -> None:
    got = runner.run(impl, env, ["prefill", "--n", str(USERS), "--users", str(USERS)])
    if ("site-packages" in got["package_file"]) != (impl == "upstream"):
        raise RuntimeError(f"{impl}: wrong package imported: {got['package_file']}")


def _mappings(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60) as db:
        return int(db.execute("SELECT COUNT(*) FROM django_cas_ng_sessionticket").fetchone()[0])


# --------------------------------------------------------------------------- middleware


def run_middleware(
    runner: Any,
    impls: list[str],
    workdir: Path,
    sqlite_dir: Path,
    requests_each: int,
    handler_rounds: int,
) -> dict[str, Any]:
    """CASMiddleware's cost per request: through Django's handlers in process (precise), then
    as median latency of a signed-in page with and without it under each server."""
    stub = Stub(0.0)
    servers: dict[tuple[str, str, bool], Server] = {}
    result: dict[str, Any] = {"handlers": {}, "servers": {}}
    envs: dict[str, dict[str, str]] = {}
    try:
        for impl in impls:
            db = sqlite_dir / f"asgi-mw-{impl}.sqlite3"
            envs[impl] = env = {"BENCH_SQLITE_PATH": str(db), "BENCH_CAS_URL": stub.url}
            _prefill(runner, impl, env)
            command = ["handlers", "--requests", "20", "--rounds", str(handler_rounds)]
            log(f"asgi: CASMiddleware through Django's handlers in process, {LABEL[impl]}")
            result["handlers"][impl] = runner.run(
                impl, env, command + (["--prototype"] if impl == "ours" else [])
            )
        for impl, env in envs.items():
            for kind, with_mw in itertools.product(KINDS, (True, False)):
                name = f"mw-{impl}-{kind}-{'with' if with_mw else 'without'}"
                server_env = {**env, "BENCH_CAS_MIDDLEWARE": "1" if with_mw else "0"}
                servers[(impl, kind, with_mw)] = Server(
                    kind, runner.pythons[impl], server_env, 1, workdir, name
                )
        for server in servers.values():
            server.wait_until_ready()
        clients: dict[tuple[str, str, bool], requests.Session] = {}
        for n, (key, server) in enumerate(servers.items()):
            browser = _browser()
            if not _login(browser, server.url, f"ST-MW{n}-{key[0]}-benchuser{n + 1}", 30):
                raise RuntimeError(f"{server.name}: sign-in failed:\n{server.log_tail()}")
            page = browser.get(server.url + "/page/", timeout=30)
            if page.status_code != 200:
                raise RuntimeError(f"{server.name}: page {page.status_code}:\n{server.log_tail()}")
            clients[key] = browser
        samples: dict[tuple[str, str, bool], list[float]] = {key: [] for key in servers}
        order = list(servers)
        batch = 50
        for turn in range(max(1, requests_each // batch) + 1):  # the first turn warms up
            for key in order if turn % 2 == 0 else reversed(order):
                url = servers[key].url + "/page/"
                got = samples[key]
                browser = clients[key]
                for _ in range(batch):
                    started = time.perf_counter()
                    answer = browser.get(url, timeout=30)
                    elapsed = time.perf_counter() - started
                    if answer.status_code != 200:
                        raise RuntimeError(f"{servers[key].name}: {answer.status_code}")
                    if turn:
                        got.append(elapsed * 1e6)
        log("asgi: CASMiddleware under uvicorn and gunicorn, servers interleaved")
        for impl, kind in itertools.product(impls, KINDS):
            with_mw, without = samples[(impl, kind, True)], samples[(impl, kind, False)]
            result["servers"][f"{impl}/{kind}"] = {
                "with_median_us": statistics.median(with_mw),
                "without_median_us": statistics.median(without),
                "cost_us": statistics.median(with_mw) - statistics.median(without),
                "requests": len(with_mw),
                "with_p25_p75_us": _quartiles(with_mw),
                "without_p25_p75_us": _quartiles(without),
            }
        return result
    finally:
        for server in servers.values():
            server.stop()
        stub.close()


def _quartiles(values: list[float]) -> list[float]:
    q = statistics.quantiles(values, n=4)
    return [q[0], q[2]]


# --------------------------------------------------------------------------- logins under load


@dataclass
class Load:
    """Browsers signing in over and over until stopped; completions timestamped."""

    base: str
    browsers: int
    tag: str
    done: list[tuple[float, float]] = field(default_factory=list)  # (finished at, latency)
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)  # the measured span (perf_counter)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._browse, args=(i,), daemon=True)
            for i in range(self.browsers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(180)

    def _browse(self, index: int) -> None:
        browser = _browser()
        rng = random.Random(index)
        for serial in itertools.count():
            if self._stop.is_set():
                return
            browser.cookies.clear()
            ticket = f"ST-{self.tag}-{index}-{serial}-benchuser{rng.randint(1, USERS)}"
            started = time.perf_counter()
            try:
                ok = _login(browser, self.base, ticket)
            except requests.RequestException as error:
                ok = False
                with self._lock:
                    self.errors.append(type(error).__name__)
                browser.close()
                browser = _browser()
            finished = time.perf_counter()
            with self._lock:
                if ok:
                    self.done.append((finished, finished - started))
                else:
                    self.failures += 1


def _segment(server: Server, browsers: int, tag: str, seconds: float) -> Load:
    """Load ``server`` with ``browsers`` for a warm-up (queues fill) and ``seconds`` measured."""
    load = Load(server.url, browsers, tag)
    load.start()
    time.sleep(min(3.0, seconds / 2))
    load.window = (time.perf_counter(), 0.0)
    time.sleep(seconds)
    load.window = (load.window[0], time.perf_counter())
    load.stop()
    return load


def run_logins(
    runner: Any,
    impls: list[str],
    workdir: Path,
    sqlite_dir: Path,
    workers: int,
    browsers: int,
    delay: float,
    seconds: float,
    rounds: int = 3,
) -> dict[str, Any]:
    """Logins/s of every (implementation, server) with a slow CAS and many browsers at once.

    All servers run at once but only one is loaded at a time, in rounds of alternating order,
    so a slow spell of the machine does not land on one of them only.
    """
    stub = Stub(delay)
    servers: dict[str, Server] = {}
    databases: dict[str, Path] = {}
    try:
        for impl, kind in itertools.product(impls, KINDS):
            label = f"{impl}/{kind}"
            databases[label] = sqlite_dir / f"asgi-login-{impl}-{kind}.sqlite3"
            env = {"BENCH_SQLITE_PATH": str(databases[label]), "BENCH_CAS_URL": stub.url}
            _prefill(runner, impl, env)
            env["BENCH_SQLITE_SHARED"] = "1"
            name = f"login-{impl}-{kind}"
            servers[label] = Server(kind, runner.pythons[impl], env, workers, workdir, name)
        for server in servers.values():
            server.wait_until_ready()
        before = {label: _mappings(db) for label, db in databases.items()}
        loads: dict[str, list[Load]] = {label: [] for label in servers}
        order = list(servers)
        for turn in range(rounds):
            log(f"asgi: logins/s, round {turn + 1}/{rounds}")
            for label in order if turn % 2 == 0 else reversed(order):
                tag = f"{label.replace('/', '')}{turn}"
                loads[label].append(_segment(servers[label], browsers, tag, seconds / rounds))
        result: dict[str, Any] = {}
        for label, segments in loads.items():
            in_window = [
                latency
                for load in segments
                for at, latency in load.done
                if load.window[0] <= at < load.window[1]
            ]
            measured = sum(load.window[1] - load.window[0] for load in segments)
            result[label] = {
                "logins_per_s": len(in_window) / measured,
                "latency_median_s": statistics.median(in_window) if in_window else None,
                "latency_p95_s": (
                    statistics.quantiles(in_window, n=20)[18] if len(in_window) > 1 else None
                ),
                "window_s": measured,
                "logins_total": sum(len(load.done) for load in segments),
                "failures": sum(load.failures for load in segments),
                "errors": sorted({error for load in segments for error in load.errors}),
                "mappings_written": _mappings(databases[label]) - before[label],
            }
        return result
    finally:
        for server in servers.values():
            server.stop()
        stub.close()


# --------------------------------------------------------------------------- entry point


def run(runner: Any, impls: list[str], args: Any) -> dict[str, Any]:
    """Both server benchmarks; every database and server lives in temporary directories."""
    workdir = Path(tempfile.mkdtemp(prefix="cas-bench-asgi-"))
    sqlite_dir = Path(tempfile.mkdtemp(prefix="cas-bench-asgi-db-", dir=args.sqlite_dir))
    out: dict[str, Any] = {
        "settings": {
            "middleware_requests": args.asgi_requests,
            "handler_rounds": args.asgi_handler_rounds,
            "workers": args.asgi_workers,
            "browsers": args.asgi_browsers,
            "cas_delay_s": args.asgi_cas_delay,
            "window_s": args.asgi_seconds,
            "uvicorn": "--loop asyncio --http h11",
            "gunicorn": "--worker-class sync",
        }
    }
    try:
        out["middleware"] = run_middleware(
            runner, impls, workdir, sqlite_dir, args.asgi_requests, args.asgi_handler_rounds
        )
        out["logins"] = run_logins(
            runner,
            impls,
            workdir,
            sqlite_dir,
            args.asgi_workers,
            args.asgi_browsers,
            args.asgi_cas_delay,
            args.asgi_seconds,
        )
    except RuntimeError as error:
        log(f"asgi: {error}")
        out["error"] = str(error)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(sqlite_dir, ignore_errors=True)
    return out


def render(data: dict[str, Any]) -> str:
    """The tables of the server benchmarks, in the style of the others."""
    lines: list[str] = []
    add = lines.append
    settings = data.get("settings", {})
    middleware = data.get("middleware") or {}
    handlers = middleware.get("handlers") or {}
    if handlers:
        add("")
        add(
            "6a. CASMiddleware per request through Django's handlers, in process (non-admin page;"
            " best round, with minus without; wall clock and process CPU time)"
        )
        add(
            f"{'handler':>8} | {'impl':>16} | {'wall cost':>10} | {'CPU cost':>10} | without (wall)"
        )
        for kind in ("asgi", "wsgi"):
            for impl in ("ours", "upstream"):
                row = (handlers.get(impl) or {}).get(kind)
                if not row:
                    continue
                add(
                    f"{kind:>8} | {LABEL[impl]:>16} | {row['wall']['cost_us']:>+8.1f}us |"
                    f" {row['cpu']['cost_us']:>+8.1f}us | {row['wall']['without_us']:.0f}us"
                )
                if "prototype_cost_us" in row["wall"]:
                    add(
                        f"{kind:>8} | {'ours, async-able':>16} |"
                        f" {row['wall']['prototype_cost_us']:>+8.1f}us |"
                        f" {row['cpu']['prototype_cost_us']:>+8.1f}us | (bench prototype)"
                    )
    servers = middleware.get("servers") or {}
    if servers:
        add("")
        add("6b. The same under real servers: one worker, sequential client, median latency")
        add(f"{'server':>8} | {'impl':>5} | {'with':>8} {'without':>8} | {'cost':>9}")
        for kind in KINDS:
            for impl in ("ours", "upstream"):
                row = servers.get(f"{impl}/{kind}")
                if row is None:
                    continue
                add(
                    f"{kind:>8} | {LABEL[impl]:>5} | {row['with_median_us']:>6.0f}us"
                    f" {row['without_median_us']:>6.0f}us | {row['cost_us']:>+7.1f}us"
                )
        first = next(iter(servers.values()))
        add(f"{first['requests']} requests per server after a warm-up batch, servers interleaved")
    logins = data.get("logins") or {}
    if logins:
        add("")
        add(
            f"7. Logins/s: {settings.get('workers')} workers, {settings.get('browsers')} browsers"
            f" at once, CAS answering after {settings.get('cas_delay_s', 0) * 1000:.0f} ms"
        )
        add(f"{'server':>8} | {'impl':>5} | {'logins/s':>8} | {'median':>7} {'p95':>7} | checks")
        for kind in KINDS:
            for impl in ("ours", "upstream"):
                row = logins.get(f"{impl}/{kind}")
                if row is None:
                    continue
                med, p95 = row["latency_median_s"], row["latency_p95_s"]
                add(
                    f"{kind:>8} | {LABEL[impl]:>5} | {row['logins_per_s']:>8.1f} |"
                    f" {med or 0:>6.2f}s {p95 or 0:>6.2f}s | {row['mappings_written']} mappings"
                    f" / {row['logins_total']} logins, {row['failures']} failed"
                    + (f" ({', '.join(row['errors'])})" if row["errors"] else "")
                )
    if data.get("error"):
        add(f"ERROR (server benchmarks): {data['error'].splitlines()[0]}")
    return "\n".join(lines)
