"""What the HTTP benches share: the server under test, the database behind it, the load (wrk)
and the CPU it took, and the report.

bench/outbound_api.py, bench/outbound.py and bench/inbound.py each start their own
`parley serve` on a free port with a fresh database (a temporary SQLite file, or a PostgreSQL
database created and dropped on 127.0.0.1:5432), drive it with wrk and bench/post.lua, count
the CPU the server, wrk, PostgreSQL and everything else used, and can replace their generated
section of docs/performance.md. The setup talks to the server with the standard library only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "post.lua"
DOC = ROOT / "docs" / "performance.md"
PARLEY = Path(sys.executable).parent / "parley"


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class BenchError(Exception):
    """A failed check: the bench prints it and exits 1."""


# -- wrk, and the CPU a run took ----------------------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise BenchError("wrk is not installed. Install it with `sudo apt-get install -y wrk` "
                         "(Debian/Ubuntu package `wrk`), then run the bench again.")
    say("wrk is missing: installing the Debian package (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        say("apt-get install failed; running apt-get update and trying again")
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL,
                       check=False)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=False)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("could not install wrk with apt-get; install the Debian package "
                         "`wrk` by hand and run the bench again.")
    return found


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).strip().splitlines()
    name = first[0].split(" [")[0] if first else "wrk"
    m = re.fullmatch(r"wrk debian/((\d+(?:\.\d+)*)\S*)", name)
    return f"wrk {m.group(2)} (Debian {m.group(1)})" if m else name


@dataclass
class Run:
    rps: float
    requests: int
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    server_cpu_s: float
    wrk_cpu_s: float
    db_cpu_s: float
    machine_busy_s: float
    wall_s: float

    @property
    def server_cores(self) -> float:
        return self.server_cpu_s / self.wall_s

    @property
    def wrk_cores(self) -> float:
        return self.wrk_cpu_s / self.wall_s

    @property
    def db_cores(self) -> float:
        return self.db_cpu_s / self.wall_s

    @property
    def other_cores(self) -> float:
        """Busy CPU that was not the server, wrk or PostgreSQL: the kernel, other programs."""
        return max(0.0, (self.machine_busy_s - self.server_cpu_s - self.wrk_cpu_s
                         - self.db_cpu_s) / self.wall_s)


def proc_cpu_s(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_ticks() -> dict[int, int]:
    """utime + stime (clock ticks) of every PostgreSQL server process, by PID."""
    ticks: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            head, _, rest = (d / "stat").read_text().rpartition(")")
            if head.endswith("(postgres"):
                f = rest.split()
                ticks[int(d.name)] = int(f[11]) + int(f[12])
    return ticks


def postgres_cpu_s(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU PostgreSQL used between two readings (backends that exited in between are lost)."""
    total = sum(t - before.get(pid, 0) for pid, t in after.items())
    return max(0, total) / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent not idle (all cores)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(server_pid: int, limit_cores: float, timeout_s: float) -> float:
    """Wait (bounded) until processes other than the server leave the CPU mostly idle.

    On a shared 2-core machine a test suite running beside the bench halves its figures; the
    bench waits for a quiet second, and the table shows what else was busy during each run.
    Returns the busy cores of the last second sampled.
    """
    deadline = time.monotonic() + timeout_s
    told = False
    while True:
        cpu0, busy0 = proc_cpu_s(server_pid), machine_busy_s()
        time.sleep(1)
        other = (machine_busy_s() - busy0) - (proc_cpu_s(server_pid) - cpu0)
        if other <= limit_cores or time.monotonic() >= deadline:
            if other > limit_cores:
                say(f"  the machine is still busy ({other:.2f} cores used by other processes); "
                    "measuring anyway")
            return other
        if not told:
            say(f"  other processes use {other:.2f} cores; waiting up to {timeout_s:g} s "
                "for a quiet machine")
            told = True


def _with_nice(nice: int) -> Any:
    """A preexec_fn that sets the child's nice value (None when there is nothing to change)."""
    if nice == 0:
        return None
    return lambda: os.setpriority(os.PRIO_PROCESS, 0, nice)


class Wrk:
    def __init__(self, exe: str, url: str, threads: int, connections: int,
                 postgres: bool, nice: int) -> None:
        self.exe = exe
        self.nice = nice
        self.postgres = postgres
        self.url = url
        self.threads = threads
        self.connections = connections
        self.proc: subprocess.Popen[str] | None = None

    def run(self, requests_file: Path, seconds: float, server_pid: int) -> Run:
        cmd = [self.exe, f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds:g}s",
               "--latency", "-s", str(LUA), self.url]
        env = {**os.environ, "PARLEY_BENCH_REQUESTS": str(requests_file)}
        db0 = postgres_ticks() if self.postgres else {}
        cpu0, busy0, t0 = proc_cpu_s(server_pid), machine_busy_s(), time.monotonic()
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=_with_nice(self.nice))
        try:
            out, _ = self.proc.communicate(timeout=seconds + 60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        wall = time.monotonic() - t0
        cpu1, busy1 = proc_cpu_s(server_pid), machine_busy_s()
        db1 = postgres_ticks() if self.postgres else {}
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child reaped
        wrk_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
        rc, self.proc = self.proc.returncode, None
        line = next((x for x in out.splitlines() if x.startswith("PARLEY_BENCH_JSON ")), None)
        if rc != 0 or line is None:
            raise BenchError(f"wrk failed (exit {rc}):\n{out}")
        s = json.loads(line.split(" ", 1)[1])
        return Run(rps=s["requests"] / (s["duration_us"] / 1e6), requests=s["requests"],
                   non2xx=s["non2xx3xx"],
                   socket_errors=s["connect"] + s["read"] + s["write"] + s["timeout"],
                   p50_ms=s["p50_us"] / 1000, p99_ms=s["p99_us"] / 1000,
                   server_cpu_s=cpu1 - cpu0, wrk_cpu_s=wrk_cpu, db_cpu_s=postgres_cpu_s(db0, db1),
                   machine_busy_s=busy1 - busy0,
                   wall_s=wall)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# -- HTTP for the setup (stdlib only) -----------------------------------------------------

class Http:
    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, *, body: Any = None, form: dict[str, str] | None = None,
             token: str | None = None, basic: tuple[str, str] | None = None,
             timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        headers: dict[str, str] = {}
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if basic:
            headers["Authorization"] = "Basic " + base64.b64encode(
                f"{basic[0]}:{basic[1]}".encode()).decode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        status, _, raw = self.call(method, path, **kw)
        if status != expect:
            raise BenchError(f"{method} {path} answered {status}, expected {expect}: "
                             f"{raw[:500]!r}")
        return json.loads(raw) if raw else None


# -- the database under test --------------------------------------------------------------

class Store:
    name: str
    label: str
    url: str

    def setup(self) -> None: ...
    def teardown(self) -> None: ...
    def version(self) -> str: raise NotImplementedError
    def renice_backends(self, nice: int) -> None: ...
    def query(self, sql: str) -> list[tuple[Any, ...]]: raise NotImplementedError


class SqliteStore(Store):
    name, label = "sqlite", "SQLite"

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "parley.db"
        self.url = f"sqlite+aiosqlite:///{self.path}"

    def version(self) -> str:
        return sqlite3.sqlite_version  # the server runs on this same interpreter

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            return list(conn.execute(sql).fetchall())
        finally:
            conn.close()


class PostgresStore(Store):
    name, label = "postgresql", "PostgreSQL"

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        u = urlsplit(admin_url)
        self.dbname = f"parley_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.dsn = u._replace(path=f"/{self.dbname}").geturl()
        self.url = self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        self.created = False

    @staticmethod
    def _run(coro: Any) -> Any:
        return asyncio.run(coro)

    async def _admin(self, sql: str) -> None:
        import asyncpg
        conn = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def setup(self) -> None:
        try:
            self._run(self._admin(f'CREATE DATABASE "{self.dbname}"'))
        except OSError as e:
            raise BenchError(f"cannot reach PostgreSQL at {self.admin_url}: {e}. Start it, or "
                             "point --pg-url at one (user with CREATEDB).") from e
        self.created = True

    def teardown(self) -> None:
        if self.created:
            self._run(self._admin(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
            self.created = False
            say(f"dropped database {self.dbname}")

    async def _query(self, sql: str) -> list[tuple[Any, ...]]:
        import asyncpg
        conn = await asyncpg.connect(self.dsn, timeout=10)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self._run(self._query(sql)))

    def version(self) -> str:
        return str(self.query("SHOW server_version")[0][0])

    def renice_backends(self, nice: int) -> None:
        """Give this database's server processes the same priority as the Parley server."""
        for (pid,) in self.query("SELECT pid FROM pg_stat_activity "
                                 f"WHERE datname = '{self.dbname}' AND pid <> pg_backend_pid()"):
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, int(pid), nice)


# -- the server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, store: Store, workdir: Path, sim_delay_ms: int, nice: int) -> None:
        self.nice = nice
        self.port = free_port()
        self.log_path = workdir / "server.log"
        self.env = {**os.environ, "PARLEY_DATABASE_URL": store.url,
                    "PARLEY_DATA_DIR": str(workdir), "PARLEY_LOG_LEVEL": "WARNING",
                    "PARLEY_SIM_DELIVERY_DELAY_MS": str(sim_delay_ms)}
        self.proc: subprocess.Popen[bytes] | None = None

    def init_demo(self) -> dict[str, Any]:
        out = subprocess.run([str(PARLEY), "init", "--demo", "--json"], env=self.env,
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise BenchError(f"parley init --demo failed:\n{out.stdout}\n{out.stderr}")
        return dict(json.loads(out.stdout))

    def start(self) -> None:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(PARLEY), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_with_nice(self.nice))
        log.close()
        http = Http(self.port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            with contextlib.suppress(OSError):
                if http.call("GET", "/healthz", timeout=2)[0] == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"the server did not answer /healthz within 60 s:\n{self.tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            say(f"stopping the server (pid {self.proc.pid})")
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                say(f"the server did not stop in 15 s: killing pid {self.proc.pid}")
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """SIGTERM/SIGHUP unwind like Ctrl-C, so the finally blocks stop the server."""
    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# -- the report ---------------------------------------------------------------------------

def git_describe() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT,
                               text=True, capture_output=True, check=True).stdout.strip()
        return sha + (" with uncommitted changes in src/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def python_speed() -> float:
    """Seconds a fixed pure-Python loop takes here (best of 3): these shared machines run
    up to twice as fast one day as another, so figures from different days are compared
    through this, not directly."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


def machine_facts(store: Store, wrk_exe: str) -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for pkg in ("fastapi", "uvicorn", "uvloop", "httptools", "msgspec", "sqlalchemy",
                "aiosqlite" if store.name == "sqlite" else "asyncpg"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{pkg} {importlib.metadata.version(pkg)}")
    return {
        "cores": str(os.cpu_count()),
        "speed": f"a 10M-step Python loop takes {python_speed():.2f} s",
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "store": f"{store.label} {store.version()}",
        "wrk": wrk_version(wrk_exe),
        "packages": ", ".join(versions),
        "commit": git_describe(),
    }


def update_doc(store: Store, text: str, *, script: str, name: str | None = None) -> None:
    """Replace one generated section of docs/performance.md (or add it): `name`'s, by default
    the store's, marked as generated by `script --write`."""
    name = name or store.name
    begin = f"<!-- bench:{name}:begin (generated by {script} --write) -->"
    end = f"<!-- bench:{name}:end -->"
    doc = DOC.read_text() if DOC.exists() else "# Performance\n"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: block, doc)
    elif "## Reading the numbers" in doc:
        doc = doc.replace("## Reading the numbers", block + "\n\n## Reading the numbers", 1)
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(doc)
    say(f"updated {DOC.relative_to(ROOT)} ({store.label} section)")
