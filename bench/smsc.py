"""The test SMSC (node-smpp, shared/tools/smsc) for the benches, and connecting Parley to it.

`make test` installs it into .venv/smsc (the Makefile's $(SMSC_STAMP) target).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from harness import ROOT, BenchError, Http, Server, free_port, say

SMSC_DIR = ROOT / ".venv" / "smsc"


class Smsc:
    def __init__(self, workdir: Path) -> None:
        if not (SMSC_DIR / "node_modules").is_dir():
            raise BenchError(f"the test SMSC is not installed in {SMSC_DIR}: run `make test` "
                             "once (or the Makefile's .venv/smsc target)")
        self.port, self.ctl_port = free_port(), free_port()
        self.log = workdir / "smsc.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "SMSC_PORT": str(self.port), "CTL_PORT": str(self.ctl_port),
               "LOG": "none", "DLR_DELAY_MS": "100"}
        self.proc = subprocess.Popen(["node", str(SMSC_DIR / "smsc.js")], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctl = Http(self.ctl_port)
        for _ in range(100):
            try:
                if ctl.call("GET", "/stats")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise BenchError("the test SMSC did not start")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stats(self) -> dict[str, Any]:
        return dict(json.loads(Http(self.ctl_port).call("GET", "/stats")[2]))

    def stop(self) -> None:
        if self.proc is not None:
            say(f"stopping the SMSC (pid {self.proc.pid})")
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def connect_smsc(api: Http, demo: dict[str, Any], smsc: Smsc, server: Server) -> str:
    """An SMPP connection of the demo organisation to `smsc`, with the demo number moved
    onto it, and no pacing (the SMSC takes whatever comes)."""
    script = demo["clients"]["script"]
    token = api.json("POST", "/oauth/token", form={"grant_type": "client_credentials"},
                     basic=(script["clientId"], script["clientSecret"]))["access_token"]
    number = demo["smsNumber"]
    conn = api.json("POST", "/api/v2/parley/carriers", token=token, body={
        "name": "bench SMSC", "kind": "smpp",
        "settings": {"host": "127.0.0.1", "port": smsc.port, "systemId": "test",
                     "window": 256, "throughput": 0,
                     "numberRates": {"local": 0, "mobile": 0, "tollfree": 0, "shortcode": 0}},
        "secrets": {"password": "secret"},
        "numbers": [{"phoneNumber": number["phoneNumber"], "phoneNumberType": "local"}]})
    for _ in range(100):
        if smsc.stats()["bound"] >= 1:
            break
        time.sleep(0.1)
    else:
        raise BenchError(f"Parley did not bind to the SMSC:\n{server.tail()}")
    api.json("PATCH", f"/api/v2/routing/sms/phonenumbers/{number['id']}", token=token,
             body={"integration": {"id": conn["id"]}})
    say(f"the demo number {number['phoneNumber']} now sends through the SMSC")
    return str(conn["id"])
