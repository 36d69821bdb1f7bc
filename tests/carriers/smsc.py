"""The independent test SMSC (node-smpp, shared/tools/smsc), run as a child process.

`make test` copies the tool and installs its node packages into .venv/smsc. Each test that
needs it gets its own SMSC on free ports, started and killed by its process id, so one test's
binds and failures never reach another.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from tests.leaks import secret
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SMSC_DIR = Path(os.environ.get("PARLEY_TEST_SMSC_DIR", ROOT / ".venv" / "smsc"))
SYSTEM_ID = "test"
PASSWORD = secrets.token_urlsafe(6)
"""The bind password (SMPP allows 8 characters): random, so the log check can look for it."""
secret(PASSWORD, "the test SMSC's bind password")


class Smsc:
    def __init__(self, log_file: Path, **env: str) -> None:
        script = SMSC_DIR / "smsc.js"
        if not (SMSC_DIR / "node_modules").is_dir() or not script.is_file():
            raise RuntimeError(f"the test SMSC is not installed in {SMSC_DIR}; run `make test` "
                               "(it copies ../shared/tools/smsc there and runs npm ci)")
        self.port = free_port()
        self.ctl_port = free_port()
        self.log_file = log_file
        self._env = {**os.environ, "SMSC_PORT": str(self.port), "CTL_PORT": str(self.ctl_port),
                     "SMSC_SYSTEM_ID": SYSTEM_ID, "SMSC_PASSWORD": PASSWORD,
                     "DLR_DELAY_MS": "20", "LOG_FILE": str(log_file), **env}
        self._proc: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(["node", str(SMSC_DIR / "smsc.js")], env=self._env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def start(self) -> None:
        self._proc = self._spawn()
        for _ in range(200):
            try:
                await self.get("/stats")
                return
            except OSError:
                await asyncio.sleep(0.02)
        raise RuntimeError("the test SMSC did not start")

    def kill(self) -> None:
        """SIGKILL: the SMSC dies mid-traffic, as a crashed carrier would."""
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    async def restart(self) -> None:
        self.kill()
        await self.start()

    def _call(self, path: str, body: dict[str, Any] | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.ctl_port}{path}", data=data,
                                     method="GET" if body is None else "POST",
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    async def get(self, path: str) -> Any:
        return await asyncio.to_thread(self._call, path, None)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        # The control API's /mo waits for our deliver_sm_resp: never call it on the loop.
        return await asyncio.to_thread(self._call, path, body)

    async def mo(self, source: str, destination: str, text: str, **extra: Any) -> Any:
        return await self.post("/mo", {"source_addr": source.lstrip("+"),
                                       "destination_addr": destination.lstrip("+"),
                                       "text": text, **extra})

    async def messages(self) -> list[dict[str, Any]]:
        """Completed (reassembled) texts this SMSC process received."""
        return list(await self.get("/messages"))

    def logged(self, event: str) -> list[dict[str, Any]]:
        """Events of every process that wrote this log (survives restarts)."""
        if not self.log_file.exists():
            return []
        lines = self.log_file.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e.get("event") == event]

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Connection settings that bind to this SMSC."""
        return {"host": "127.0.0.1", "port": self.port, "systemId": SYSTEM_ID,
                "reconnectMaxSeconds": 1, "responseTimeoutSeconds": 5,
                "numberRates": {"local": 0, "mobile": 0, "tollfree": 0, "shortcode": 0},
                **overrides}
