"""Inbound baseline: simulated phones text the demo number as fast as wrk can make them.

Each POST /sim/v1/messages goes through the inbound entry point every carrier uses: the text is
stored (idempotent on the carrier id), starts a new conversation, runs the demo's published
flow (a greeting and a business-hours answer, i.e. two outbound texts through the outbox) and
ends in the ACD's "Support" queue (no agent is on queue, so every conversation waits there).
That is the whole inbound path of issue 3, minus the SMPP leg of issue 4.

    .venv/bin/python bench/inbound_sim.py [--duration 10] [-c 32]

It reuses bench/outbound_api.py's server, store and wrk drivers; results go to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import phonenumbers

sys.path.insert(0, str(Path(__file__).parent))

from outbound_api import (
    BenchError,
    Http,
    Server,
    SqliteStore,
    Wrk,
    ensure_wrk,
    say,
)

TEXT = "Hi, I need help with my order"


def customers(limit: int) -> list[str]:
    """Valid fictional NANP numbers (555-01XX in many area codes), one per conversation."""
    found = []
    for area in range(201, 990):
        for line in range(100):
            e164 = f"+1{area}55501{line:02d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
                found.append(e164)
                if len(found) == limit:
                    return found
            else:
                break
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("-c", "--connections", type=int, default=32)
    args = parser.parse_args()
    wrk_exe = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="parley-inbound-") as tmp:
        workdir = Path(tmp)
        store = SqliteStore(workdir)
        server = Server(store, workdir, sim_delay_ms=300, nice=0)
        try:
            demo = server.init_demo()
            server.start()
            http = Http(server.port)
            script = demo["clients"]["script"]
            token = http.json("POST", "/oauth/token", form={"grant_type": "client_credentials"},
                              basic=(script["clientId"], script["clientSecret"]))["access_token"]
            number = demo["smsNumber"]["phoneNumber"]
            phones = [p for p in customers(40_000) if p != number]
            say(f"{len(phones):,} distinct customers; one new conversation each")
            requests = workdir / "inbound.requests"
            requests.write_text(token + "\n" + "\n".join(
                "/sim/v1/messages\t" + json.dumps({"from": p, "to": number, "text": TEXT},
                                                  separators=(",", ":"))
                for p in phones) + "\n")
            wrk = Wrk(wrk_exe, f"http://127.0.0.1:{server.port}", 1, args.connections,
                      postgres=False, nice=0)
            say(f"load: wrk -t1 -c{args.connections} for {args.duration:g} s")
            started = time.time()
            run = wrk.run(requests, args.duration, server.pid)
            say(f"{run.rps:,.0f} texts/s accepted, p50 {run.p50_ms:.1f} ms, p99 "
                f"{run.p99_ms:.1f} ms, server {run.server_cores:.2f} cores, "
                f"non-2xx {run.non2xx}")
            time.sleep(2)  # let the flows' replies leave the outbox
            since = int(started * 1000)
            [(inbound,)] = store.query(
                f"SELECT count(*) FROM messages WHERE direction='inbound' AND created_ms>={since}")
            [(replies,)] = store.query(
                f"SELECT count(*) FROM messages WHERE direction='outbound' AND created_ms>={since}")
            [(waiting,)] = store.query("SELECT count(*) FROM acd_interactions")
            print(f"\n| path | texts/s | p50 | p99 | server cores | stored inbound | flow "
                  f"replies | waiting in queue |\n|---|---|---|---|---|---|---|---|\n"
                  f"| sim → store → flow → ACD | {run.rps:,.0f} | {run.p50_ms:.1f} ms | "
                  f"{run.p99_ms:.1f} ms | {run.server_cores:.2f} | {inbound:,} | {replies:,} | "
                  f"{waiting:,} |")
            if run.non2xx or run.socket_errors:
                raise BenchError(f"{run.non2xx} non-2xx answers, {run.socket_errors} errors")
        finally:
            server.stop()
            store.teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
