"""Outbound API benchmark: HTTP "send this SMS" requests in, texts handed to the carrier out.

`make bench` runs this. It starts its own `parley serve` on a free port with a fresh database
(a temporary SQLite file, or with --postgres a database it creates and drops on
127.0.0.1:5432), seeds the demo organisation, takes tokens and 64 agent conversations, and
drives the two hot endpoints with wrk (bench/post.lua):

  agentless  POST /api/v2/conversations/messages/agentless          (client-credentials token)
  agent      POST /api/v2/conversations/messages/{id}/communications/{id}/messages  (agent)

Per path: warm-up, then N timed runs; the table shows the median req/s with every run, and
p50/p99 from wrk --latency of the median run. Any non-2xx response or socket error fails the
bench. After each path's load it waits until the outbox has drained and checks in the
database that every accepted text reached the carrier (sent or delivery-success, none
queued, no outbox row left), and reports texts handed to the carrier per second over the
whole path (accepted texts / time from load start until the last one left the outbox).

--write replaces this store's generated section in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harness import (
    PARLEY,
    BenchError,
    Http,
    PostgresStore,
    Run,
    Server,
    SqliteStore,
    Store,
    Wrk,
    ensure_wrk,
    machine_facts,
    say,
    sigterm_as_exit,
    update_doc,
    wait_for_quiet,
)

TEXT = "Your appointment is tomorrow at 10:00. Reply C to confirm."
CONVERSATIONS = 64
# 555-01xx numbers are reserved for fiction in the NANP and pass libphonenumber's validation.
AGENT_CUSTOMERS = [f"+1312555{n:04d}" for n in range(101, 101 + CONVERSATIONS)]
AGENTLESS_AREAS = ("201", "202", "203", "205", "206", "207", "208", "209", "210", "212")
AGENTLESS_CUSTOMERS = [f"+1{a}55501{n:02d}" for a in AGENTLESS_AREAS for n in range(100)]
DONE = ("sent", "delivery-success")


# -- the two paths -------------------------------------------------------------------------

@dataclass
class PathResult:
    path: str
    runs: list[Run] = field(default_factory=list)
    warmup_requests: int = 0
    accepted_http: int = 0
    stored: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    handed_per_s: float = 0.0
    load_s: float = 0.0
    drain_after_load_s: float = 0.0

    @property
    def median(self) -> Run:
        return sorted(self.runs, key=lambda r: r.rps)[len(self.runs) // 2]


def setup_org(http: Http, demo: dict[str, Any]) -> dict[str, Any]:
    script = demo["clients"]["script"]
    tok = http.json("POST", "/oauth/token", form={"grant_type": "client_credentials"},
                    basic=(script["clientId"], script["clientSecret"]))["access_token"]
    agent = demo["users"]["agents"][0]
    status, headers, raw = http.call("POST", "/oauth/authorize", form={
        "client_id": demo["clients"]["browser"]["clientId"],
        "redirect_uri": "http://127.0.0.1:9/cb", "response_type": "token",
        "state": "bench", "username": agent["email"], "password": agent["password"]})
    if status != 302:
        raise BenchError(f"agent login answered {status}: {raw[:300]!r}")
    agent_token = parse_qs(urlsplit(headers["location"]).fragment)["access_token"][0]
    say(f"tokens ready; creating {CONVERSATIONS} conversations for {agent['email']}")
    comms = []
    for customer in AGENT_CUSTOMERS:
        conv = http.json("POST", "/api/v2/conversations/messages", token=agent_token, body={
            "queueId": demo["queue"]["id"], "toAddress": customer,
            "toAddressMessengerType": "sms", "useExistingConversation": True})
        view = http.json("GET", f"/api/v2/conversations/{conv['id']}", token=agent_token)
        agent_part = next(p for p in view["participants"] if p.get("purpose") == "agent")
        comms.append((conv["id"], agent_part["messages"][0]["id"]))
    return {"script_token": tok, "agent_token": agent_token, "comms": comms,
            "from": demo["smsNumber"]["phoneNumber"]}


def write_requests(workdir: Path, path: str, org: dict[str, Any]) -> Path:
    f = workdir / f"{path}.requests"
    lines = []
    if path == "agentless":
        lines.append(org["script_token"])
        for to in AGENTLESS_CUSTOMERS:
            body = {"fromAddress": org["from"], "toAddress": to,
                    "toAddressMessengerType": "sms", "textBody": TEXT}
            lines.append("/api/v2/conversations/messages/agentless\t"
                         + json.dumps(body, separators=(",", ":")))
    else:
        lines.append(org["agent_token"])
        for conv_id, comm_id in org["comms"]:
            lines.append(f"/api/v2/conversations/messages/{conv_id}/communications/{comm_id}"
                         "/messages\t" + json.dumps({"textBody": TEXT}, separators=(",", ":")))
    f.write_text("\n".join(lines) + "\n")
    return f


def check_one(http: Http, path: str, org: dict[str, Any]) -> None:
    """One request by hand first: a clear error here beats 100,000 non-2xx from wrk."""
    if path == "agentless":
        url = "/api/v2/conversations/messages/agentless"
        status, _, raw = http.call("POST", url, token=org["script_token"], body={
            "fromAddress": org["from"], "toAddress": AGENTLESS_CUSTOMERS[0],
            "toAddressMessengerType": "sms", "textBody": TEXT})
    else:
        conv_id, comm_id = org["comms"][0]
        url = f"/api/v2/conversations/messages/{conv_id}/communications/{comm_id}/messages"
        status, _, raw = http.call("POST", url, token=org["agent_token"],
                                   body={"textBody": TEXT})
    if not 200 <= status < 300:
        raise BenchError(f"POST {url} answered {status}: {raw[:500]!r}")
    time.sleep(0.01)  # so this one is not counted with the load (created_ms < load start)


def phase_counts(store: Store, since_ms: int) -> tuple[dict[str, int], int, int]:
    """Statuses of the messages created since `since_ms`, their newest status time, outbox size."""
    rows = store.query("SELECT status, count(*), max(status_ms) FROM messages "
                       f"WHERE created_ms >= {since_ms} AND direction = 'outbound' "
                       "GROUP BY status")
    outbox = int(store.query("SELECT count(*) FROM outbox")[0][0])
    last = max((int(r[2]) for r in rows if r[0] in DONE), default=since_ms)
    return {str(r[0]): int(r[1]) for r in rows}, last, outbox


def wait_for_drain(http: Http, store: Store, since_ms: int, timeout_s: float
                   ) -> tuple[dict[str, int], int]:
    deadline = time.monotonic() + timeout_s
    last_report = 0.0
    while True:
        backlog = json.loads(http.call("GET", "/healthz")[2])["outboxBacklog"]
        statuses, last_ms, outbox = phase_counts(store, since_ms)
        queued = statuses.get("queued", 0)
        if backlog == 0 and outbox == 0 and queued == 0:
            return statuses, last_ms
        now = time.monotonic()
        if now >= deadline:
            raise BenchError(f"the outbox did not drain within {timeout_s:g} s: in-memory "
                             f"backlog {backlog}, outbox rows {outbox}, queued {queued}")
        if now - last_report >= 2:
            say(f"  draining: in-memory backlog {backlog}, outbox rows {outbox}, "
                f"queued {queued}, sent/delivered {sum(statuses.get(s, 0) for s in DONE)}")
            last_report = now
        time.sleep(0.2)


def run_path(path: str, args: argparse.Namespace, wrk: Wrk, http: Http, server: Server,
             store: Store, org: dict[str, Any], workdir: Path) -> PathResult:
    result = PathResult(path)
    requests_file = write_requests(workdir, path, org)
    check_one(http, path, org)
    start_ms = int(time.time() * 1000)
    t0 = time.monotonic()
    if args.warmup > 0:
        say(f"{path}: warm-up {args.warmup:g} s")
        warm = wrk.run(requests_file, args.warmup, server.pid)
        result.warmup_requests = warm.requests
        result.accepted_http += warm.requests - warm.non2xx
        if warm.non2xx or warm.socket_errors:
            raise BenchError(f"{path}: warm-up had {warm.non2xx} non-2xx responses and "
                             f"{warm.socket_errors} socket errors; server log:\n{server.tail()}")
    waited_s = 0.0  # time spent waiting for a quiet machine does not count as load time
    for i in range(args.runs):
        if args.quiet_wait > 0:
            w0 = time.monotonic()
            wait_for_quiet(server.pid, args.quiet_cores, args.quiet_wait)
            waited_s += time.monotonic() - w0
        if args.nice:
            store.renice_backends(args.nice)
        say(f"{path}: run {i + 1}/{args.runs} started ({args.duration:g} s)")
        run = wrk.run(requests_file, args.duration, server.pid)
        result.runs.append(run)
        result.accepted_http += run.requests - run.non2xx
        say(f"{path}: run {i + 1}/{args.runs} done: {run.rps:,.0f} req/s, p50 {run.p50_ms:.2f} ms, "
            f"p99 {run.p99_ms:.2f} ms, CPU cores: server {run.server_cores:.2f}, "
            f"wrk {run.wrk_cores:.2f}, "
            + (f"postgres {run.db_cores:.2f}, " if args.postgres else "")
            + f"other {run.other_cores:.2f}; "
            f"non-2xx {run.non2xx}, socket errors {run.socket_errors}")
        if run.non2xx or run.socket_errors:
            raise BenchError(f"{path}: run {i + 1} had {run.non2xx} non-2xx responses and "
                             f"{run.socket_errors} socket errors; server log:\n{server.tail()}")
    result.load_s = time.monotonic() - t0 - waited_s
    load_end_ms = int(time.time() * 1000)
    say(f"{path}: load done; waiting for the outbox to drain")
    statuses, last_ms = wait_for_drain(http, store, start_ms, args.drain_timeout)
    result.statuses = statuses
    result.stored = sum(statuses.values())
    bad = {s: n for s, n in statuses.items() if s not in DONE}
    if bad:
        raise BenchError(f"{path}: texts not handed to the carrier: {bad}")
    # wrk does not count the replies still in flight when it stops, so the store may hold
    # up to one request per connection per wrk invocation more than wrk saw answered.
    slack = args.connections * (args.runs + (1 if args.warmup > 0 else 0))
    if not result.accepted_http <= result.stored <= result.accepted_http + slack:
        raise BenchError(f"{path}: wrk saw {result.accepted_http} accepted texts but the store "
                         f"holds {result.stored} from the load")
    result.handed_per_s = result.stored / max((last_ms - start_ms) / 1000 - waited_s, 1e-3)
    result.drain_after_load_s = max(0.0, (last_ms - load_end_ms) / 1000)
    say(f"{path}: {result.stored:,} texts handed to the carrier, "
        f"{result.handed_per_s:,.0f}/s over the whole load; the last one "
        f"{result.drain_after_load_s:.1f} s after the load ended")
    return result


# -- report --------------------------------------------------------------------------------

def command_line(args: argparse.Namespace) -> str:
    script = "bench/outbound.py" if args.smpp else "bench/outbound_api.py"
    return " ".join([f".venv/bin/python {script}", *sys.argv[1:]])


def table(store: Store, results: list[PathResult], args: argparse.Namespace) -> str:
    head = ("| store | path | req/s (median; all runs) | p50 | p99 | non-2xx | CPU cores: "
            "server / wrk / PostgreSQL / other | µs server CPU/req | texts accepted "
            "| handed to carrier/s (whole load) | last text out after load |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for r in results:
        m = r.median
        runs = ", ".join(f"{x.rps:,.0f}" for x in r.runs)
        cpu_per_req = m.server_cpu_s / max(m.requests, 1) * 1e6
        rows.append(
            f"| {store.label} | {r.path} | **{m.rps:,.0f}** ({runs}) | {m.p50_ms:.2f} ms | "
            f"{m.p99_ms:.2f} ms | {sum(x.non2xx for x in r.runs)} | {m.server_cores:.2f} / "
            f"{m.wrk_cores:.2f} / {f'{m.db_cores:.2f}' if args.postgres else '-'} / "
            f"{m.other_cores:.2f} | "
            f"{cpu_per_req:.0f} | {r.stored:,} | **{r.handed_per_s:,.0f}** | "
            f"{r.drain_after_load_s:.1f} s |")
    return head + "\n".join(rows) + "\n"


def section(store: Store, results: list[PathResult], args: argparse.Namespace,
            facts: dict[str, str]) -> str:
    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        f"### {store.label}{' over SMPP' if args.smpp else ''}\n\n"
        f"Measured {when} with `{command_line(args)}` (commit {facts['commit']}).\n\n"
        f"- Machine: {facts['cores']} cores, {facts['cpu']} ({facts['speed']}), Linux "
        f"{facts['kernel']}; "
        f"Python {facts['python']}; {facts['store']}.\n"
        f"- Load: {facts['wrk']}, `-t{args.threads} -c{args.connections} --latency`, "
        f"bench/post.lua; warm-up {args.warmup:g} s, then {args.runs} runs of "
        f"{args.duration:g} s per path; wrk runs on the same machine as the server"
        + (f"; server, wrk and database at nice {args.nice} (the machine was shared)"
           if args.nice else "") + ".\n"
        "- Server: one `parley serve` process (uvicorn, uvloop, httptools), "
        "PARLEY_LOG_LEVEL=WARNING, "
        + ("an SMPP connection (one transceiver bind, window 256) to the test SMSC "
           "(node-smpp), which answers each submit_sm and sends its receipt 100 ms later"
           if args.smpp else "simulator carrier with "
           f"PARLEY_SIM_DELIVERY_DELAY_MS={args.sim_delay_ms}")
        + f"; {facts['packages']}.\n\n"
        + table(store, results, args)
        + "\nEvery accepted text was found in the store as sent or delivery-success, with no "
          "outbox row left, before the next path started.\n")


# -- main ----------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--postgres", action="store_true",
                   help="PostgreSQL (a fresh database, created and dropped) instead of SQLite")
    p.add_argument("--pg-url", default=os.environ.get(
        "PARLEY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                   help="an existing database to connect to for CREATE/DROP DATABASE")
    p.add_argument("--paths", default="agentless,agent", help="which endpoints, in order")
    p.add_argument("-t", "--threads", type=int, default=1, help="wrk threads")
    p.add_argument("-c", "--connections", type=int, default=32, help="wrk connections")
    p.add_argument("--warmup", type=float, default=3, help="warm-up seconds per path")
    p.add_argument("--duration", type=float, default=10, help="seconds per timed run")
    p.add_argument("--runs", type=int, default=3, help="timed runs per path")
    p.add_argument("--drain-timeout", type=float, default=300,
                   help="how long to wait for the outbox to drain after the load")
    p.add_argument("--sim-delay-ms", type=int, default=300,
                   help="simulator carrier delay before its delivery receipt")
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each run, wait up to this long for other processes to go "
                        "quiet (0: don't wait)")
    p.add_argument("--quiet-cores", type=float, default=0.15,
                   help="what counts as quiet: CPU cores busy outside the server")
    p.add_argument("--nice", type=int, default=0,
                   help="run the server, wrk and (with --postgres) the bench database's "
                        "backends at this nice value; negative (higher priority) needs root. "
                        "Use it on a machine shared with other work")
    p.add_argument("--write", action="store_true",
                   help="replace this store's results section in docs/performance.md")
    args = p.parse_args()
    args.paths = [x.strip() for x in args.paths.split(",") if x.strip()]
    if not set(args.paths) <= {"agentless", "agent"} or not args.paths:
        p.error("--paths takes agentless and/or agent")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if args.nice < 0 and os.geteuid() != 0:
        p.error("--nice below 0 (a higher priority) needs root")
    return args


def main(smpp: bool = False) -> int:
    """`smpp`: the demo number sends through the test SMSC instead of the simulator
    (bench/outbound.py)."""
    args = parse_args()
    args.smpp = smpp
    if not PARLEY.exists():
        print(f"{PARLEY} not found: run `make install` (or use the venv's python)",
              file=sys.stderr)
        return 2
    wrk_exe = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    store: Store = PostgresStore(args.pg_url) if args.postgres else SqliteStore(workdir)
    server: Server | None = None
    smsc: Any = None
    wrk: Wrk | None = None
    failed: str | None = None
    results: list[PathResult] = []
    with sigterm_as_exit():
        try:
            store.setup()
            say(f"{store.label}: {store.url}")
            server = Server(store, workdir, args.sim_delay_ms, args.nice)
            say("seeding the demo organisation (parley init --demo --json)")
            demo = server.init_demo()
            server.start()
            say(f"server up on 127.0.0.1:{server.port} (pid {server.pid})")
            http = Http(server.port)
            if smpp:
                from smsc import Smsc, connect_smsc

                smsc = Smsc(workdir)
                smsc.start()
                say(f"SMSC on 127.0.0.1:{smsc.port} (pid {smsc.pid})")
                connect_smsc(http, demo, smsc, server)
            org = setup_org(http, demo)
            wrk = Wrk(wrk_exe, f"http://127.0.0.1:{server.port}", args.threads,
                      args.connections, postgres=args.postgres, nice=args.nice)
            facts = machine_facts(store, wrk_exe)
            say(f"load: {facts['wrk']} -t{args.threads} -c{args.connections}, warm-up "
                f"{args.warmup:g} s, {args.runs} x {args.duration:g} s per path")
            for path in args.paths:
                results.append(run_path(path, args, wrk, http, server, store, org, workdir))
        except BenchError as e:
            failed = str(e)
        except KeyboardInterrupt:
            failed = "interrupted"
        finally:
            if wrk is not None:
                wrk.stop()
            if server is not None:
                server.stop()
            if smsc is not None:
                smsc.stop()
            try:
                store.teardown()
            except Exception as e:  # report, but still clean up the files
                say(f"could not drop the bench database: {e}")
            shutil.rmtree(workdir, ignore_errors=True)
    if results:
        print()
        print(table(store, results, args))
    if failed:
        print(f"BENCH FAILED: {failed}", file=sys.stderr)
        return 1
    if args.write:
        update_doc(store, section(store, results, args, facts),
                   name=f"{store.name}-smpp" if args.smpp else None,
                   script="bench/outbound.py" if args.smpp else "bench/outbound_api.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
