"""A database of a test's own: new, migrated, on the backend under test, dropped afterwards.

For tests that must not share the session's database: a Parley with a clock of its own, a
second ACD, or a schema compared with what the code declares.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from parley.bootstrap import migrate_database
from tests.conftest import PG_ADMIN_URL, settings_for


@asynccontextmanager
async def fresh_database(database_url: str, data_dir: Path) -> AsyncIterator[str]:
    """A new, migrated database on the backend of `database_url`, dropped afterwards."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{data_dir / f'own-{uuid.uuid4().hex[:8]}.db'}"
        await migrate_database(settings_for(url, data_dir))
        yield url
        return
    name = f"parley_own_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        await migrate_database(settings_for(url, data_dir))
        yield url
    finally:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
