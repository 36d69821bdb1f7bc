"""A real `parley serve` per backend, for the official Genesys SDKs to drive over HTTP.

Per `database_url` (SQLite, PostgreSQL) the session runs `parley init --demo --json` and
`parley serve` on a free loopback port as subprocesses, and every SDK test of that backend
shares the server. On SQLite the server gets its own database file: SQLite is the embedded,
one-process deployment, and the in-process app of the other tests already holds the shared
file. On PostgreSQL it uses the shared test database, as a second node would.

The SDKs read per-user config files (`~/.genesyscloudpython/config`,
`~/.genesyscloudjavascript/config`) that can redirect them to another host or gateway. So the
Python SDK is imported with HOME pointing at an empty temporary directory, and every Node
process gets that HOME too.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from tests.servers import DemoOrg, init_demo, serve, stop

SDK_HOME = Path(tempfile.mkdtemp(prefix="parley-sdk-home-"))
atexit.register(shutil.rmtree, SDK_HOME, ignore_errors=True)
(SDK_HOME / ".genesyscloudpython").mkdir()


def _import_python_sdk_with_clean_home() -> None:
    """Import the Python SDK so that its singleton Configuration reads no developer config."""
    saved = os.environ.get("HOME")
    os.environ["HOME"] = str(SDK_HOME)
    try:
        import PureCloudPlatformClientV2 as gc
    finally:
        if saved is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = saved
    # Imported earlier by someone else? Point it at the empty home and undo what it read.
    config = gc.Configuration()
    if not str(config.config_file_path).startswith(str(SDK_HOME)):
        config.config_file_path = str(SDK_HOME / ".genesyscloudpython" / "config")
        config.host = "https://api.mypurecloud.com"
        config.gateway_configuration = None


_import_python_sdk_with_clean_home()

REPO = Path(__file__).resolve().parents[2]
JS_DIR = Path(__file__).resolve().parent / "js"
SIM_DELIVERY_DELAY_MS = 50


@dataclass(frozen=True)
class SdkServer(DemoOrg):
    """A running `parley serve` and the demo organisation `parley init --demo` made in it."""

    base_url: str
    host: str
    port: int
    demo: dict[str, Any]
    log_path: Path

    def redirect_uri(self, path: str = "/callback") -> str:
        """A loopback redirect, which the demo browser client accepts on any port."""
        return f"http://127.0.0.1:{self.port + 1}{path}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def sdk_env(**extra: str) -> dict[str, str]:
    """Environment for SDK subprocesses: the empty HOME, nothing else changed."""
    env = dict(os.environ, HOME=str(SDK_HOME))
    env.update(extra)
    return env


@contextlib.contextmanager
def _server_database(database_url: str, data_dir: Path) -> Iterator[str]:
    """A database of the server's own: sharing the in-process tests' one would make the two
    a pair of nodes, and the server's outbox poller would take over their retries."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{data_dir / 'parley-sdk.db'}"
        return
    base, _, name = database_url.rpartition("/")
    own = f"{name}_sdk"
    admin = base.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{own}"'))
    try:
        yield f"{base}/{own}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))


def _serve(env: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[bytes], SdkServer]:
    served = serve(env, data_dir)
    return served.proc, SdkServer(base_url=served.base_url, host=served.host, port=served.port,
                                  demo={}, log_path=served.log_path)


@pytest.fixture(scope="session")
def sdk_server(database_url: str, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[SdkServer]:
    data_dir = tmp_path_factory.mktemp("sdk-server")
    with _server_database(database_url, data_dir) as server_database:
        yield from _sdk_server(server_database, data_dir)


def _sdk_server(server_database: str, data_dir: Path) -> Iterator[SdkServer]:
    env = sdk_env(
        PARLEY_DATABASE_URL=server_database,
        PARLEY_DATA_DIR=str(data_dir),
        PARLEY_ARGON2_TIME_COST="1",
        PARLEY_ARGON2_MEMORY_KIB="1024",
        PARLEY_SIM_DELIVERY_DELAY_MS=str(SIM_DELIVERY_DELAY_MS),
        PARLEY_OUTBOX_POLL_INTERVAL_S="0.2",
        PARLEY_LOG_LEVEL="WARNING",
    )
    demo = init_demo(env, data_dir)
    assert demo["queue"] and demo["smsNumber"], demo

    proc, server = _serve(env, data_dir)
    try:
        yield dataclasses.replace(server, demo=demo)
    finally:
        stop(proc)


# -- helpers the SDK tests share -------------------------------------------------------------

def implicit_login(base_url: str, client_id: str, email: str, password: str,
                   redirect_uri: str) -> str:
    """The implicit grant as a browser does it: submit the login form, read the fragment."""
    resp = httpx.post(f"{base_url}/oauth/authorize", data={
        "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "token",
        "state": "sdk-tests", "username": email, "password": password}, timeout=10)
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    assert location.startswith(redirect_uri + "#"), location
    fragment = parse_qs(urlsplit(location).fragment)
    assert fragment["state"] == ["sdk-tests"]
    assert fragment["token_type"] == ["bearer"]
    return fragment["access_token"][0]


def client_credentials_token(server: SdkServer) -> str:
    resp = httpx.post(f"{server.base_url}/oauth/token", data={"grant_type": "client_credentials"},
                      auth=server.script_client, timeout=10)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def wait_for_phone(server: SdkServer, token: str, phone: str, count: int = 1,
                   timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """What the simulated phone received, once `count` texts are there and delivered."""
    deadline = time.monotonic() + timeout_s
    entities: list[dict[str, Any]] = []
    with httpx.Client(base_url=server.base_url, timeout=5,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        while time.monotonic() < deadline:
            resp = http.get("/sim/v1/messages", params={"phone": phone})
            assert resp.status_code == 200, resp.text
            entities = resp.json()["entities"]
            if len(entities) >= count and all(
                    m["status"] == "delivery-success" for m in entities):
                return entities
            time.sleep(0.02)
    return entities


def get_json(server: SdkServer, token: str, path: str) -> dict[str, Any]:
    resp = httpx.get(server.base_url + path, headers={"Authorization": f"Bearer {token}"},
                     timeout=10)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@contextlib.contextmanager
def server_log_on_failure(server: SdkServer) -> Iterator[None]:
    """Add the tail of the server's log to an assertion error raised inside."""
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- server log tail ---\n{server.log_tail()}") from e
