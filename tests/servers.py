"""Real `parley serve` processes for the tests that talk to Parley over a socket (the SDK and
browser tests): start it with the demo organisation, wait until it answers, stop it by its PID.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.leaks import LOGS, secret

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parley_exe() -> str:
    exe = BIN / "parley"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make install` (or `make test`)", pytrace=False)
    return str(exe)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within 10 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def init_demo(env: dict[str, str], data_dir: Path) -> dict[str, Any]:
    """`parley init --demo --json`: the demo organisation's users, passwords and clients."""
    init = subprocess.run([parley_exe(), "init", "--demo", "--json"], env=env, cwd=data_dir,
                          capture_output=True, text=True, timeout=120, check=False)
    if init.returncode != 0:
        pytest.fail(f"`parley init --demo --json` failed ({init.returncode}):\n"
                    f"{init.stdout}\n{init.stderr}", pytrace=False)
    demo: dict[str, Any] = json.loads(init.stdout)
    for role, user in demo["users"].items():
        for u in user if isinstance(user, list) else [user]:
            secret(u.get("password"), f"password of demo {role} {u.get('email')}")
    for name, client in demo["clients"].items():
        secret(client.get("clientSecret"), f"client secret of the demo's {name} client")
    return demo


class DemoOrg:
    """What `parley init --demo --json` reported, by name: the servers' test fixtures read
    the demo organisation's queue, number, users and clients through these."""

    demo: dict[str, Any]

    @property
    def queue_id(self) -> str:
        return str(self.demo["queue"]["id"])

    @property
    def number(self) -> str:
        return str(self.demo["smsNumber"]["phoneNumber"])

    @property
    def browser_client_id(self) -> str:
        return str(self.demo["clients"]["browser"]["clientId"])

    @property
    def script_client(self) -> tuple[str, str]:
        script = self.demo["clients"]["script"]
        return str(script["clientId"]), str(script["clientSecret"])

    @property
    def admin(self) -> dict[str, str]:
        return dict(self.demo["users"]["admin"])

    def agent(self, index: int = 0) -> dict[str, str]:
        """{id, email, password, name} of a demo agent (a member of the demo queue)."""
        return dict(self.demo["users"]["agents"][index])


@dataclass(frozen=True)
class Served:
    proc: subprocess.Popen[bytes]
    host: str
    port: int
    base_url: str
    log_path: Path


def serve(env: dict[str, str], data_dir: Path) -> Served:
    """`parley serve` on a free port, once it answers /healthz (another port if someone took
    the one it was given first)."""
    for attempt in range(3):
        host, port = "127.0.0.1", free_port()
        base_url = f"http://{host}:{port}"
        log_path = data_dir / f"serve-{attempt}.log"
        LOGS.file(log_path)
        with log_path.open("wb") as log:
            proc = subprocess.Popen([parley_exe(), "serve", "--host", host, "--port", str(port)],
                                    env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                resp = httpx.get(f"{base_url}/healthz", timeout=1.0)
                if resp.status_code == 200:
                    return Served(proc, host, port, base_url, log_path)
                last = f"HTTP {resp.status_code}"
            except httpx.TransportError as e:
                last = repr(e)
            time.sleep(0.1)
        stop(proc)
        output = log_path.read_text(errors="replace")
        if "address already in use" not in output.lower():
            pytest.fail(f"`parley serve` did not answer {base_url}/healthz within "
                        f"{STARTUP_TIMEOUT_S:.0f} s (last: {last}):\n{output[-4000:]}",
                        pytrace=False)
    pytest.fail("`parley serve` found no free port in three tries", pytrace=False)
