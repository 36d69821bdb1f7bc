"""Fixtures shared by every level of test.

The store-backed tests run twice: on SQLite and on PostgreSQL (127.0.0.1:5432, or
PARLEY_TEST_PG_URL). Each backend gets a fresh database, created and migrated once per run and
dropped at the end. Tests isolate themselves by creating their own organisation: Parley is
multi-tenant, so nothing one test does is visible to another.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from parley.api.app import create_app
from parley.bootstrap import Parley, bootstrap, migrate_database
from parley.config import Settings
from tests.leaks import LOGS
from tests.orgs import Tenant, make_org

PG_ADMIN_URL = os.environ.get("PARLEY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("PARLEY_TEST_BACKENDS", "sqlite,postgresql").split(",")


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log() -> Iterator[None]:
    """Record every log line of the session (INFO and up, as a deployment logs); at its end,
    fail if any carries a secret the tests registered (tests/leaks.py). Set up first, so torn
    down last: the servers' own shutdown is logged too."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(min(level, logging.INFO))
    root.addHandler(LOGS.handler)
    try:
        yield
    finally:
        root.removeHandler(LOGS.handler)
        root.setLevel(level)
    leaks = LOGS.leaks()
    assert not leaks, LOGS.report(leaks)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "parley.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    import asyncio

    async def admin(sql: str) -> None:
        try:
            conn = await asyncpg.connect(PG_ADMIN_URL)
        except OSError as e:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({e}); start it or set "
                        "PARLEY_TEST_BACKENDS=sqlite", pytrace=False)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def settings_for(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url, "data_dir": data_dir, "sim_delivery_delay_ms": 50,
        "argon2_time_cost": 1, "argon2_memory_kib": 1024, "outbox_poll_interval_s": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
async def parley(database_url: str, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[Parley]:
    settings = settings_for(database_url, tmp_path_factory.mktemp("data"))
    await migrate_database(settings)
    app = bootstrap(settings)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture(scope="session")
async def http(parley: Parley) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real ASGI app (in process, no socket)."""
    app = create_app(parley, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://parley.test") as client:
        yield client


@pytest.fixture
async def org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    """A fresh organisation: admin, two agents in queue 'Support', one number, clients."""
    return await make_org(parley, http)
