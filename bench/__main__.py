"""``python -m bench``: ours vs django-cas-ng 5.1.1, each in its own venv and subprocess.

Creates ``.venv-bench-upstream`` (django-cas-ng==5.1.1 + our Django version + psycopg[binary])
when missing, starts a throwaway PostgreSQL cluster (initdb/pg_ctl, fsync off, 127.0.0.1, free
port) in a temp dir, runs ``bench/worker.py`` commands for every database x size x
implementation on a fresh database, prints a side-by-side table and writes
``bench/results/bench-<timestamp>.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django

from bench import asgi_bench
from bench.worker import summarize

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
UPSTREAM_VERSION = "5.1.1"
UPSTREAM_VENV = ROOT / ".venv-bench-upstream"
RESULTS = BENCH / "results"
IMPLS = ("ours", "upstream")
SERVERS = ("uvicorn>=0.30", "gunicorn>=21")  # for the server benchmarks (bench/asgi_bench.py)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- venvs


def ensure_upstream_venv(rebuild: bool = False) -> Path:
    """``.venv-bench-upstream`` with django-cas-ng 5.1.1 and the same Django as ours."""
    django_version = django.get_version()
    want = (
        f"django-cas-ng=={UPSTREAM_VERSION} Django=={django_version} psycopg[binary]"
        f" {' '.join(SERVERS)}"
    )
    stamp = UPSTREAM_VENV / ".bench-stamp"
    python = UPSTREAM_VENV / "bin" / "python"
    if rebuild and UPSTREAM_VENV.exists():
        shutil.rmtree(UPSTREAM_VENV)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return python
    log(f"creating {UPSTREAM_VENV.name}: {want}")
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(UPSTREAM_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"django-cas-ng=={UPSTREAM_VERSION}",
            f"Django=={django_version}",
            "psycopg[binary]",
            *SERVERS,
        ],
        check=True,
    )
    stamp.write_text(want + "\n")
    return python


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    raise RuntimeError("initdb not found on PATH nor in /usr/lib/postgresql/*/bin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A throwaway cluster: initdb in a temp dir, fsync off, 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.tmp = Path(tempfile.mkdtemp(prefix="cas-bench-pg-"))
        self.data = self.tmp / "data"
        self.port = free_port()
        self.started = False
        # initdb refuses to run as root: run the server as the 'postgres' system user then.
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.tmp, user="postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.tmp,
        )

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-k {self.tmp}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c shared_buffers=512MB",
                "-c max_wal_size=4GB",
                "-c work_mem=32MB",
                "-c maintenance_work_mem=256MB",
            ]
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.tmp / "server.log"),
            "-w",
            "start",
        )
        self.started = True
        log(
            f"PostgreSQL {self.bindir.parent.name} started on 127.0.0.1:{self.port} "
            f"(fsync off) in {self.tmp}"
        )

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_db(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}"')
        self._admin(f'CREATE DATABASE "{name}"')

    def drop_db(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                [
                    *self.prefix,
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.tmp,
            )
            self.started = False
            log("PostgreSQL stopped")
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------- workers


class WorkerError(RuntimeError):
    pass


class Runner:
    """Runs ``worker.py`` commands in one implementation's venv against one database."""

    def __init__(self, pythons: dict[str, Path], workdir: Path, verbose: bool) -> None:
        self.pythons = pythons
        self.workdir = workdir
        self.verbose = verbose

    def environ(self, env: dict[str, str]) -> dict[str, str]:
        full_env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")
        }
        full_env.update(env)
        full_env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
        return full_env

    def run(
        self, impl: str, env: dict[str, str], command: list[str], timeout: float | None = None
    ) -> dict[str, Any]:
        args = [str(self.pythons[impl]), str(BENCH / "worker.py"), *command]
        if self.verbose:
            log(f"{impl}: {' '.join(command)}")
        proc = subprocess.Popen(
            args,
            cwd=self.workdir,
            env=self.environ(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        results = [line[7:] for line in out.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not results:
            raise WorkerError(
                f"{impl} {' '.join(command)} failed (exit {proc.returncode}):\n{err[-3000:]}"
            )
        return json.loads(results[-1])


class Interactive:
    """A worker in ``--interactive`` mode: set up once, then measured in batches on request."""

    def __init__(self, runner: Runner, impl: str, env: dict[str, str], command: list[str]):
        self.impl = impl
        self.label = f"{impl} {' '.join(command)}"
        self.err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [str(runner.pythons[impl]), str(BENCH / "worker.py"), *command, "--interactive"],
            cwd=runner.workdir,
            env=runner.environ(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._expect("READY")

    def _expect(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        self.err.seek(0)
        raise WorkerError(
            f"{self.label} failed (exit {self.proc.wait()}):\n{self.err.read()[-3000:]}"
        )

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def batch(self, count: int) -> Any:
        self._send(f"batch {count}")
        return json.loads(self._expect("BATCH "))

    def finish(self) -> dict[str, Any]:
        self._send("finish")
        result = json.loads(self._expect("RESULT "))
        self.close()
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.err.close()


def alternate(
    workers: dict[str, Interactive], target: int, batch: int, budget: float, minimum: int
) -> dict[str, Any]:
    """Ask the workers for batches in turn (A B B A A B ...) until each has ``target`` samples,
    or the budget is spent and each has at least ``minimum``. Returns the raw batches."""
    got: dict[str, list[Any]] = {impl: [] for impl in workers}
    counts = {impl: 0 for impl in workers}
    order = list(workers)
    deadline = time.perf_counter() + budget
    turn = 0
    while any(counts[impl] < target for impl in order):
        for impl in order if turn % 2 == 0 else list(reversed(order)):
            if counts[impl] >= target:
                continue
            result = workers[impl].batch(min(batch, target - counts[impl]))
            got[impl].append(result)
            first = result if isinstance(result, list) else next(iter(result.values()))
            counts[impl] += max(1, len(first))
        turn += 1
        if time.perf_counter() > deadline and all(counts[i] >= minimum for i in order):
            break
    return got


def run_alternating(
    runner: Runner,
    envs: dict[str, dict[str, str]],
    impls: list[str],
    command: list[str] | dict[str, list[str]],
    target: int,
    budget: float,
    out: dict[str, dict[str, Any]],
    label: str,
) -> dict[str, tuple[list[Any], dict[str, Any]]]:
    """Start one interactive worker per implementation, alternate batches, collect results."""
    workers: dict[str, Interactive] = {}
    try:
        for impl in impls:
            cmd = command[impl] if isinstance(command, dict) else command
            workers[impl] = Interactive(runner, impl, envs[impl], cmd)
        raw = alternate(workers, target, 10, budget, 20)
        return {impl: (raw[impl], workers[impl].finish()) for impl in impls}
    except WorkerError as exc:
        log(str(exc))
        for impl in impls:
            out[impl].setdefault("error", f"{label}: {exc}")
        return {}
    finally:
        for worker in workers.values():
            worker.close()


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        mult = 1
        if part.endswith("k"):
            mult, part = 1000, part[:-1]
        elif part.endswith("m"):
            mult, part = 1_000_000, part[:-1]
        sizes.append(int(float(part) * mult))
    return sorted(set(sizes))


def fmt_n(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def run_size(
    runner: Runner,
    db: str,
    n: int,
    args: argparse.Namespace,
    cluster: PostgresCluster | None,
    sqlite_dir: Path,
    cleanup_rates: dict[str, tuple[int, float]],
) -> dict[str, Any]:
    """Every benchmark for one database and one N, both implementations, fresh databases.

    Both databases exist side by side. For SLO and login one interactive worker per
    implementation is started and they are asked for batches of 10 in turn (ours, 5.1.1,
    5.1.1, ours, ...), so a slow spell of this machine does not land on one side only.
    """
    out: dict[str, dict[str, Any]] = {impl: {} for impl in IMPLS}
    envs: dict[str, dict[str, str]] = {}
    names = {impl: f"cas_bench_{impl}_{n}" for impl in IMPLS}
    alive = {impl: True for impl in IMPLS}

    def step(impl: str, label: str, fn: Any) -> Any:
        if not alive[impl]:
            return None
        try:
            return fn()
        except WorkerError as exc:
            log(str(exc))
            out[impl]["error"] = f"{label}: {exc}"
            alive[impl] = False
            return None

    try:
        for impl in IMPLS:
            env = {"BENCH_DB": db}
            if db == "postgres":
                assert cluster is not None
                cluster.create_db(names[impl])
                env.update(BENCH_PG_PORT=str(cluster.port), BENCH_PG_NAME=names[impl])
            else:
                path = sqlite_dir / f"{names[impl]}.sqlite3"
                for suffix in ("", "-journal", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                env["BENCH_SQLITE_PATH"] = str(path)
            envs[impl] = env
            log(f"{db} N={fmt_n(n)} {impl}: prefill")
            got = step(
                impl,
                "prefill",
                lambda impl=impl: runner.run(
                    impl, envs[impl], ["prefill", "--n", str(n), "--users", str(args.users)]
                ),
            )
            if got is not None:
                if ("site-packages" in got["package_file"]) != (impl == "upstream"):
                    out[impl]["error"] = f"wrong package imported: {got['package_file']}"
                    alive[impl] = False
                out[impl]["prefill"] = got

        live = [impl for impl in IMPLS if alive[impl]]
        if "slo" in args.only and live:
            log(f"{db} N={fmt_n(n)}: SLO, {' and '.join(live)} alternating in batches")
            batches = run_alternating(
                runner,
                envs,
                live,
                ["slo", "--n", str(n), "--max-requests", str(args.slo_requests + 20)],
                args.slo_requests,
                args.budget,
                out,
                "slo",
            )
            for impl, (raw, final) in batches.items():
                samples = [x for b in raw for x in b]
                out[impl]["slo"] = {
                    **summarize(samples),
                    **final,
                    "requests": len(samples),
                    "samples_ms": sorted(samples),
                }
        live = [impl for impl in IMPLS if alive[impl]]
        if ("login" in args.only or "connections" in args.only) and live:
            also = "(+ floor, floor with guard, floor with 5.1's contract)"
            log(f"{db} N={fmt_n(n)}: login, {' and '.join(live)} {also} alternating")
            commands = {
                impl: [
                    "login",
                    "--users",
                    str(args.users),
                    "--view",
                    "cas,floor,floor_guard,floor_contract" if impl == "ours" else "cas",
                ]
                for impl in live
            }
            batches = run_alternating(
                runner, envs, live, commands, args.logins, args.budget, out, "login"
            )
            for impl, (raw, final) in batches.items():
                for view, data in final["views"].items():
                    samples = [x for b in raw for x in b[view]]
                    target = "login" if view == "cas" else view
                    out[impl][target] = {
                        **data,
                        **summarize(samples),
                        "logins": len(samples),
                        "samples_ms": sorted(samples),
                    }
                    out[impl][target]["logins_per_s"] = out[impl][target].pop("per_s", None)
                out[impl]["login_check"] = {
                    k: final[k] for k in ("mappings_created", "logins_total")
                }
        if "cleanup" in args.only:
            for impl in IMPLS:
                got = step(
                    impl,
                    "cleanup",
                    lambda impl=impl: run_cleanup(
                        runner, impl, envs[impl], n, args, cleanup_rates, db
                    ),
                )
                if got is not None:
                    out[impl]["cleanup"] = got
    finally:
        for impl in IMPLS:
            if db == "postgres":
                assert cluster is not None
                cluster.drop_db(names[impl])
            else:
                for suffix in ("", "-journal", "-wal", "-shm"):
                    Path(f"{sqlite_dir / names[impl]}.sqlite3{suffix}").unlink(missing_ok=True)
    return out


def run_cleanup(
    runner: Runner,
    impl: str,
    env: dict[str, str],
    n: int,
    args: argparse.Namespace,
    rates: dict[str, tuple[int, float]],
    db: str,
) -> dict[str, Any]:
    """Time the cleanup command in a fresh process; skip or cap it when it would run too long."""
    key = f"{db}/{impl}"
    timeout = args.cleanup_timeout
    if key in rates:
        base_n, base_s = rates[key]
        predicted = base_s * n / base_n
        if predicted > timeout:
            log(
                f"{db} N={fmt_n(n)} {impl}: cleanup skipped, extrapolated {predicted:.0f}s "
                f"from N={fmt_n(base_n)}"
            )
            return {
                "skipped": True,
                "extrapolated_s": predicted,
                "from_n": base_n,
                "timeout_s": timeout,
            }
    prep = runner.run(impl, env, ["cleanup-prep"])
    log(f"{db} N={fmt_n(n)} {impl}: cleanup ({prep['stale']} of {prep['mappings']} stale)")
    try:
        res = runner.run(impl, env, ["cleanup"], timeout=timeout)
    except subprocess.TimeoutExpired:
        result: dict[str, Any] = {"timed_out": True, "timeout_s": timeout, "prep": prep}
        if key in rates:
            base_n, base_s = rates[key]
            result.update(extrapolated_s=base_s * n / base_n, from_n=base_n)
        log(f"{db} N={fmt_n(n)} {impl}: cleanup timed out after {timeout:.0f}s")
        return result
    res["prep"] = prep
    rates[key] = (n, res["seconds"])
    return res


# --------------------------------------------------------------------------- report


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.1f}x"


def _cleanup_cell(res: dict[str, Any]) -> tuple[str, float | None]:
    c = res.get("cleanup")
    if not c:
        return "-", None
    if c.get("skipped") or c.get("timed_out"):
        if "extrapolated_s" in c:
            tag = "skipped" if c.get("skipped") else f">{c['timeout_s']:.0f}s"
            return f"~{c['extrapolated_s']:.0f}s* ({tag})", c["extrapolated_s"]
        return f">{c['timeout_s']:.0f}s (timeout)", None
    return f"{c['seconds']:.2f}s", c["seconds"]


def data_queries(statements: list[str]) -> int:
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
    return sum(1 for s in statements if s.split()[0] not in control)


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    mw = results.get("middleware", {})
    for db, by_size in results["databases"].items():
        add("")
        add(f"=== {db} ===")
        add("1. Back-channel SLO (POST logoutRequest to the login view), per request")
        add(
            f"{'N':>6} | {'ours median':>11} {'p95':>8} | {'5.1.1 median':>12} {'p95':>8} |"
            f" {'5.1.1/ours':>10} | requests ours/5.1.1"
        )
        for n, r in by_size.items():
            o, u = r["ours"].get("slo"), r["upstream"].get("slo")
            if not o or not u:
                continue
            add(
                f"{n:>6} | {o['median_ms']:>9.2f}ms {o['p95_ms']:>6.2f}ms |"
                f" {u['median_ms']:>10.2f}ms {u['p95_ms']:>6.2f}ms |"
                f" {ratio(u['median_ms'], o['median_ms']):>10} | {o['requests']}/{u['requests']}"
            )
        add("2. Cleanup: django_cas_ng_clean_sessions, half the sessions gone (fresh process)")
        add(
            f"{'N':>6} | {'ours':>9} {'peak RSS':>9} {'(+growth)':>9} | {'5.1.1':>20}"
            f" {'peak RSS':>9} {'(+growth)':>9} | {'5.1.1/ours':>10}"
        )
        for n, r in by_size.items():
            o, u = r["ours"].get("cleanup"), r["upstream"].get("cleanup")
            if not o or not u:
                continue
            ocell, osec = _cleanup_cell(r["ours"])
            ucell, usec = _cleanup_cell(r["upstream"])
            orss = f"{o['rss_peak_mib']:.0f}MiB" if "rss_peak_mib" in o else "-"
            ogrow = f"+{o['rss_growth_mib']:.1f}" if "rss_growth_mib" in o else "-"
            urss = f"{u['rss_peak_mib']:.0f}MiB" if "rss_peak_mib" in u else "-"
            ugrow = f"+{u['rss_growth_mib']:.1f}" if "rss_growth_mib" in u else "-"
            add(
                f"{n:>6} | {ocell:>9} {orss:>9} {ogrow:>9} | {ucell:>20} {urss:>9} {ugrow:>9} |"
                f" {ratio(usec, osec):>10}"
            )
        add("3. Login throughput (ticket validated against a local CAS stub), sequential")
        add(
            f"{'N':>6} | {'ours/s':>7} {'floor/s':>8} {'5.1.1/s':>8} | {'ours/floor':>10}"
            f" {'5.1.1/floor':>11} {'ours/5.1.1':>10} | SQL per login ours/floor/5.1.1"
            " (data statements; all incl. BEGIN/COMMIT)"
        )
        for n, r in by_size.items():
            o, f, u = r["ours"].get("login"), r["ours"].get("floor"), r["upstream"].get("login")
            if not o or not f or not u:
                continue
            q = "/".join(str(data_queries(x["statements"])) for x in (o, f, u))
            g = r["ours"].get("floor_guard")
            qa = "/".join(str(int(x["queries_per_login"])) for x in (o, f, u))
            add(
                f"{n:>6} | {o['logins_per_s']:>7.1f} {f['logins_per_s']:>8.1f}"
                f" {u['logins_per_s']:>8.1f} | {o['logins_per_s'] / f['logins_per_s']:>9.2f}x"
                f" {u['logins_per_s'] / f['logins_per_s']:>10.2f}x"
                f" {ratio(o['logins_per_s'], u['logins_per_s']):>10} | {q} ({qa})"
            )
            if g:
                add(
                    f"{'':>6} | floor with replay guard {g['logins_per_s']:.1f}/s,"
                    f" ours/(floor with guard) {o['logins_per_s'] / g['logins_per_s']:.2f}x,"
                    f" SQL {data_queries(g['statements'])} ({int(g['queries_per_login'])})"
                )
            c = r["ours"].get("floor_contract")
            if c:
                add(
                    f"{'':>6} | floor with 5.1's contract {c['logins_per_s']:.1f}/s"
                    f" ({c['logins_per_s'] / f['logins_per_s']:.2f}x the floor),"
                    f" ours/(floor with contract) {o['logins_per_s'] / c['logins_per_s']:.2f}x,"
                    f" SQL {data_queries(c['statements'])} ({int(c['queries_per_login'])})"
                )
        add("4. TCP connections the CAS stub accepted for 100 sequential logins (one worker)")
        add(f"{'N':>6} | {'ours':>5} {'floor':>6} {'5.1.1':>6}")
        for n, r in by_size.items():
            o, f, u = r["ours"].get("login"), r["ours"].get("floor"), r["upstream"].get("login")
            if not o or not f or not u:
                continue
            add(
                f"{n:>6} | {o['stub_connections']:>5} {f['stub_connections']:>6}"
                f" {u['stub_connections']:>6}"
            )
        errors = [
            (n, impl, r[impl]["error"])
            for n, r in by_size.items()
            for impl in IMPLS
            if "error" in r[impl]
        ]
        for n, impl, err in errors:
            add(f"ERROR at N={n} ({impl}): {err.splitlines()[0]}")
    if mw:
        add("")
        add("5. CASMiddleware process_request + process_view on a non-admin view, per request")
        add(f"{'':>6} | {'ours':>8} {'5.1.1':>8} | (net of a no-op pair of calls)")
        o, u = mw.get("ours"), mw.get("upstream")
        if o and u:
            add(f"{'':>6} | {o['overhead_us']:>6.2f}us {u['overhead_us']:>6.2f}us |")
    if results.get("asgi"):
        add(asgi_bench.render(results["asgi"]))
    notes = results.get("notes", [])
    if notes:
        add("")
        lines.extend(notes)
    return "\n".join(lines)


def git_state() -> str:
    """The commit our package was measured at, '+dirty' when django_cas_ng/ had local edits."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "django_cas_ng"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="1k,10k,100k",
        help="comma-separated N list, k/M suffixes allowed (default 1k,10k,100k;"
        " full run: 1k,10k,100k,1M)",
    )
    parser.add_argument(
        "--dbs", default="sqlite,postgres", help="comma-separated: sqlite, postgres (default both)"
    )
    parser.add_argument(
        "--only",
        default="slo,cleanup,login,connections,middleware,asgi",
        help="benchmarks to run (default all)",
    )
    parser.add_argument(
        "--asgi-requests",
        type=int,
        default=600,
        help="asgi: measured requests per server for the middleware cost (default 600)",
    )
    parser.add_argument(
        "--asgi-handler-rounds",
        type=int,
        default=60,
        help="asgi: rounds of 20 requests per handler, in process (default 60)",
    )
    parser.add_argument(
        "--asgi-workers", type=int, default=2, help="asgi: server workers for logins/s (2)"
    )
    parser.add_argument(
        "--asgi-browsers", type=int, default=50, help="asgi: browsers at once for logins/s (50)"
    )
    parser.add_argument(
        "--asgi-cas-delay",
        type=float,
        default=0.2,
        help="asgi: seconds the CAS stub waits before each validation answer (0.2)",
    )
    parser.add_argument(
        "--asgi-seconds",
        type=float,
        default=24.0,
        help="asgi: measured seconds of load per implementation and server, in 3 rounds (24)",
    )
    parser.add_argument("--slo-requests", type=int, default=200)
    parser.add_argument(
        "--logins",
        type=int,
        default=300,
        help="logins measured for throughput per implementation (default 300)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=1000,
        help="users the prefilled sessions belong to (default 1000)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds one SLO or login measurement may take before it stops"
        " early (at least 20 samples each); default 60",
    )
    parser.add_argument(
        "--cleanup-timeout",
        type=float,
        default=150.0,
        help="seconds before a cleanup run is killed; a run predicted (from a"
        " smaller N) to take longer is skipped and extrapolated",
    )
    parser.add_argument(
        "--sqlite-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where the SQLite temp files go (default /dev/shm: measure the"
        " code, not the disk's fsync)",
    )
    parser.add_argument(
        "--rebuild-upstream", action="store_true", help="recreate .venv-bench-upstream"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    args.only = {x.strip() for x in args.only.split(",") if x.strip()}
    sizes = parse_sizes(args.sizes)
    dbs = [d.strip() for d in args.dbs.split(",") if d.strip()]
    started = time.time()

    pythons = {
        "ours": Path(sys.executable),
        "upstream": ensure_upstream_venv(args.rebuild_upstream),
    }
    workdir = Path(tempfile.mkdtemp(prefix="cas-bench-"))
    sqlite_dir = Path(tempfile.mkdtemp(prefix="cas-bench-sqlite-", dir=args.sqlite_dir))
    runner = Runner(pythons, workdir, args.verbose)
    if not args.only & {"slo", "cleanup", "login", "connections"}:
        dbs = []
    cluster = PostgresCluster() if "postgres" in dbs else None
    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "django": django.get_version(),
        },
        "ours_git": git_state(),
        "args": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
        "sizes": sizes,
        "databases": {},
        "notes": [],
    }

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        if "middleware" in args.only:
            log("middleware")
            results["middleware"] = {
                impl: runner.run(impl, {"BENCH_DB": "sqlite"}, ["middleware"]) for impl in IMPLS
            }
        if "asgi" in args.only:
            results["asgi"] = asgi_bench.run(runner, list(IMPLS), args)
        if cluster is not None:
            cluster.start()
        for db in dbs:
            rates: dict[str, tuple[int, float]] = {}
            by_size: dict[str, Any] = {}
            results["databases"][db] = by_size
            for n in sizes:
                by_size[fmt_n(n)] = run_size(runner, db, n, args, cluster, sqlite_dir, rates)
    except KeyboardInterrupt:
        log("interrupted: writing what was measured")
        results["notes"].append("Run interrupted: partial results.")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(sqlite_dir, ignore_errors=True)

    if any(
        c.get("skipped") or c.get("timed_out")
        for by_size in results["databases"].values()
        for r in by_size.values()
        for c in [r.get("upstream", {}).get("cleanup") or {}]
    ):
        results["notes"].append(
            "* cleanup: 5.1.1 was skipped or killed at its timeout; the figure is extrapolated "
            "linearly from the largest N it finished (its cost is per row)."
        )
    results["notes"].append(
        f"SQLite files in {args.sqlite_dir or 'the temp dir'}; PostgreSQL cluster with fsync "
        f"off. Total time {time.time() - started:.0f}s. 5.1.1 = django-cas-ng {UPSTREAM_VERSION};"
        f" ours at {results['ours_git']}."
    )
    table = render(results)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    results["table"] = table
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nJSON: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
