"""Inbound benchmark: deliver_sm from a real SMSC -> stored -> flow -> ACD offer to an agent.

It starts the test SMSC (node-smpp, shared/tools/smsc, installed by `make test` into
.venv/smsc) and its own `parley serve` with a fresh database, seeds the demo organisation,
gives it an SMPP connection to the SMSC and moves the demo number onto it, and puts --agents
agents (capacity 25 each) on queue in Support. Then wrk POSTs to the SMSC's control API,
each request making the SMSC send one deliver_sm (a new customer each time) and wait for
Parley's deliver_sm_resp, which Parley sends once the text is durable.

Every text then runs the demo's published flow (two auto-replies, each a submit_sm to the
SMSC with its own receipt, then a transfer to Support) and the ACD offers the conversation to
an agent. Reported: deliver_sm acknowledged per second (wrk), the whole-path rate (texts whose
conversation was offered to an agent, divided by the time from load start to the last offer),
and the latency from a text's arrival to its offer.

    .venv/bin/python bench/inbound.py [--postgres] [--duration 10] [-c 64] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from harness import (
    BenchError,
    Http,
    PostgresStore,
    Server,
    SqliteStore,
    Store,
    Wrk,
    ensure_wrk,
    machine_facts,
    say,
    sigterm_as_exit,
    update_doc,
)
from smsc import Smsc, connect_smsc

TEXT = "Hi, I need help with my order"
CUSTOMER_AREAS = [f"{a}" for a in range(201, 990)]


def customers(limit: int) -> list[str]:
    """Valid fictional NANP numbers (555-01XX in many area codes)."""
    import phonenumbers

    found = []
    for area in CUSTOMER_AREAS:
        for line in range(100):
            e164 = f"+1{area}55501{line:02d}"
            if not phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
                break
            found.append(e164)
            if len(found) == limit:
                return found
    return found


async def _add_agents(database_url: str, workdir: Path, demo: dict[str, Any],
                      agents: int) -> None:
    """Before the server starts: agents of capacity 25, members of Support, on queue."""
    from parley.bootstrap import bootstrap
    from parley.config import Settings
    from parley.domain.access import Principal, Role
    from parley.services.queues import QueueSettings

    settings = Settings(database_url=database_url, data_dir=workdir, argon2_time_cost=1,
                        argon2_memory_kib=1024)
    parley = bootstrap(settings)
    org_id = demo["organization"]["id"]
    admin = Principal(org_id=org_id, role=Role.ADMIN, client_id="bench", user_id=None,
                      token_id="bench", expires_at_ms=2**62)
    try:
        await parley.agents.set_org_utilization(admin, 25)
        # Offers stay alerting (nobody answers): long enough not to time out between runs.
        await parley.queues.replace(admin, demo["queue"]["id"], QueueSettings(
            name="Support", sms_number_id=demo["smsNumber"]["id"],
            alerting_timeout_seconds=3600), version=None)
        queue_id = demo["queue"]["id"]
        ids = []
        for i in range(agents):
            user = await parley.directory.add_user(
                org_id, name=f"Bench agent {i}", email=f"bench{i}@bench.parley.test",
                role=Role.AGENT, password=f"bench-{i}-password")
            ids.append(user.id)
        for start in range(0, len(ids), 100):
            await parley.queues.change_members(admin, queue_id, ids[start:start + 100],
                                               remove=False)
        for user_id in ids:
            await parley.agents.set_presence(admin, user_id, definition_id=None,
                                             system_presence="ON_QUEUE", message=None)
    finally:
        await parley.db.dispose()


QUEUE_FLOW = """\
name: Straight to Support
type: inboundshortmessage
fallbackQueue: Support
start: toSupport
actions:
  toSupport:
    transferToAcd: {queue: Support}
"""


def counts(store: Store, since_ms: int) -> dict[str, int]:
    q = store.query
    return {
        "inbound": int(q("SELECT count(*) FROM messages WHERE direction='inbound' "
                         f"AND created_ms >= {since_ms}")[0][0]),
        "replies": int(q("SELECT count(*) FROM messages WHERE direction='outbound' "
                         f"AND created_ms >= {since_ms}")[0][0]),
        "replies_delivered": int(q("SELECT count(*) FROM messages WHERE direction='outbound' "
                                   f"AND status='delivery-success' AND created_ms >= {since_ms}"
                                   )[0][0]),
        "offered": int(q("SELECT count(DISTINCT conversation_id) FROM participants WHERE "
                         f"purpose='agent' AND start_ms >= {since_ms}")[0][0]),
    }


def offer_latencies(store: Store, since_ms: int) -> tuple[list[int], int]:
    rows = store.query(
        "SELECT min(p.start_ms) - min(m.created_ms) FROM participants p JOIN messages m "
        "ON m.conversation_id = p.conversation_id AND m.direction = 'inbound' "
        f"WHERE p.purpose = 'agent' AND p.start_ms >= {since_ms} GROUP BY p.conversation_id")
    last = store.query(f"SELECT max(start_ms) FROM participants WHERE purpose='agent' AND "
                       f"start_ms >= {since_ms}")[0][0]
    return sorted(int(r[0]) for r in rows), int(last or since_ms)


def one_run(args: argparse.Namespace, i: int, phones: list[str], number: str, workdir: Path,
            wrk: Wrk, server: Server, store: Store) -> dict[str, Any]:
    """One load of new customers; waits until every text's conversation was offered."""
    requests = workdir / f"mo-{i}.requests"
    requests.write_text("-\n" + "\n".join(
        "/mo\t" + json.dumps({"source_addr": c.lstrip("+"), "destination_addr": number,
                              "text": TEXT}, separators=(",", ":"))
        for c in phones) + "\n")
    start_ms = int(time.time() * 1000)
    say(f"run {i + 1}/{args.runs}: wrk -t1 -c{args.connections} for {args.duration:g} s on the "
        f"SMSC's /mo ({len(phones):,} new customers)")
    spy = None
    if args.profile and i == 0:
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record",
                                "-p", str(server.pid), "-o", str(args.profile),
                                "-d", str(int(args.duration)), "-r", "200",
                                "--threads", "--nonblocking", "--format", "raw"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = wrk.run(requests, args.duration, server.pid)
    if spy is not None:
        spy.wait()
    say(f"  {run.rps:,.0f} deliver_sm/s acknowledged, p50 {run.p50_ms:.1f} ms, p99 "
        f"{run.p99_ms:.1f} ms; server {run.server_cores:.2f} cores, other "
        f"{run.other_cores:.2f}; non-2xx {run.non2xx}")
    if run.non2xx or run.socket_errors:
        raise BenchError(f"{run.non2xx} non-2xx, {run.socket_errors} socket errors:\n"
                         f"{server.tail()}")
    replies_per_text = 2 if args.flow == "demo" else 0
    deadline = time.monotonic() + args.settle_timeout
    while True:
        c = counts(store, start_ms)
        if c["offered"] >= c["inbound"] and \
                c["replies_delivered"] >= replies_per_text * c["inbound"]:
            break
        if time.monotonic() > deadline:
            raise BenchError(f"not settled in {args.settle_timeout:g} s: {c}")
        say(f"  settling: {c}")
        time.sleep(1)
    latencies, last_ms = offer_latencies(store, start_ms)
    whole = c["inbound"] / max((last_ms - start_ms) / 1000, 1e-3)
    say(f"  {c['inbound']:,} texts stored, {c['replies']:,} replies delivered, "
        f"{c['offered']:,} offered; whole path {whole:,.0f} texts/s; offer latency "
        f"p50 {pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms")
    return {"wrk": run, "counts": c, "latencies": latencies, "whole": whole}


def pct(values: list[int], p: float) -> float:
    return float(values[min(len(values) - 1, int(len(values) * p))]) if values else 0.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--duration", type=float, default=8, help="seconds per run")
    p.add_argument("--runs", type=int, default=3, help="runs, each with new customers")
    p.add_argument("-c", "--connections", type=int, default=64)
    p.add_argument("--agents", type=int, default=2000,
                   help="agents on queue, capacity 25 each")
    p.add_argument("--settle-timeout", type=float, default=120)
    p.add_argument("--write", action="store_true",
                   help="replace this store's inbound section in docs/performance.md")
    p.add_argument("--flow", choices=("demo", "queue"), default="demo",
                   help="demo: the demo's flow (two auto-replies, then Support); queue: a flow "
                        "that only hands the text to Support")
    p.add_argument("--profile", type=Path,
                   help="record the server with py-spy during the load into this SVG")
    args = p.parse_args()
    wrk_exe = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="parley-inbound-"))
    store: Store = PostgresStore(args.pg_url) if args.postgres else SqliteStore(workdir)
    smsc = Smsc(workdir)
    server: Server | None = None
    failed = None
    report = ""
    with sigterm_as_exit():
        try:
            store.setup()
            smsc.start()
            say(f"SMSC on 127.0.0.1:{smsc.port} (control {smsc.ctl_port})")
            server = Server(store, workdir, sim_delay_ms=300, nice=0)
            server.env["PARLEY_ARGON2_TIME_COST"] = "1"
            server.env["PARLEY_ARGON2_MEMORY_KIB"] = "1024"
            demo = server.init_demo()
            say(f"adding {args.agents} agents on queue in Support")
            asyncio.run(_add_agents(store.url, workdir, demo, args.agents))
            if args.flow == "queue":
                flow = workdir / "to-support.yaml"
                flow.write_text(QUEUE_FLOW)
                out = subprocess.run(
                    [str(Path(sys.executable).parent / "parley"), "flows", "publish", str(flow),
                     "--org", demo["organization"]["id"], "--route",
                     demo["smsNumber"]["phoneNumber"]],
                    env=server.env, capture_output=True, text=True, check=False)
                if out.returncode != 0:
                    raise BenchError(f"publishing the bench flow failed: {out.stderr}")
            server.start()
            say(f"server up on 127.0.0.1:{server.port} (pid {server.pid}); connecting it to "
                "the SMSC and moving the demo number there")
            connect_smsc(Http(server.port), demo, smsc, server)
            number = demo["smsNumber"]["phoneNumber"].lstrip("+")
            phones = [c for c in customers(60_000) if c.lstrip("+") != number]
            per_run = len(phones) // args.runs
            wrk = Wrk(wrk_exe, f"http://127.0.0.1:{smsc.ctl_port}", 1, args.connections,
                      postgres=args.postgres, nice=0)
            runs: list[dict[str, Any]] = []
            for i in range(args.runs):
                mine = phones[i * per_run:(i + 1) * per_run]  # new customers every run
                runs.append(one_run(args, i, mine, number, workdir, wrk, server, store))
            ordered = sorted(runs, key=lambda r: r["whole"])
            median = ordered[len(ordered) // 2]
            run, c, latencies, whole = (median["wrk"], median["counts"], median["latencies"],
                                        median["whole"])
            all_acked = ", ".join(f"{r['wrk'].rps:,.0f}" for r in runs)
            all_whole = ", ".join(f"{r['whole']:,.0f}" for r in runs)
            stats = smsc.stats()
            facts = machine_facts(store, wrk_exe)
            report = (
                f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
                f"`.venv/bin/python bench/inbound.py{' --postgres' if args.postgres else ''} "
                f"--duration {args.duration:g} -c {args.connections} --agents {args.agents} "
                f"--flow {args.flow} --runs {args.runs}` "
                f"(commit {facts['commit']}); {facts['cores']} cores, {facts['cpu']} "
                f"({facts['speed']}), "
                f"Python {facts['python']}, {facts['store']}.\n\n"
                "| store | flow | deliver_sm acked/s (median; all runs) | p50 | p99 | "
                "texts → offered/s, whole path (median; all runs) "
                "| offer latency p50 / p99 | texts | replies (submit_sm + receipt) | offered | "
                "server cores | µs server CPU/text | other cores |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
                f"| {store.label} | {args.flow} | **{run.rps:,.0f}** ({all_acked}) | "
                f"{run.p50_ms:.1f} ms | "
                f"{run.p99_ms:.1f} ms | **{whole:,.0f}** ({all_whole}) | "
                f"{pct(latencies, 0.5):,.0f} / "
                f"{pct(latencies, 0.99):,.0f} ms | {c['inbound']:,} | {c['replies']:,} | "
                f"{c['offered']:,} | {run.server_cores:.2f} | "
                f"{run.server_cores / max(run.rps, 1) * 1e6:,.0f} | {run.other_cores:.2f} |\n\n"
                f"SMSC counters: {stats['deliver_sm_sent']:,} deliver_sm sent, "
                f"{stats['submit_sm']:,} submit_sm received.\n")
        except BenchError as e:
            failed = str(e)
        except KeyboardInterrupt:
            failed = "interrupted"
        finally:
            if server is not None:
                server.stop()
            smsc.stop()
            try:
                store.teardown()
            except Exception as e:
                say(f"could not drop the bench database: {e}")
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print(f"BENCH FAILED: {failed}", file=sys.stderr)
        return 1
    print("\n" + report)
    if args.write:
        update_doc(store, report, name=f"inbound-{store.name}-{args.flow}",
                   script="bench/inbound.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
