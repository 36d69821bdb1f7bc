"""The Alembic migrations build exactly the schema `store/tables.py` declares.

The code reads and writes through the tables it declares; the databases it runs on were built
by the migrations. If the two part (a column added to tables.py without a migration, an index
a migration forgot), Parley works on a fresh test database and fails on an upgraded one, so a
freshly migrated database of each backend is compared with the declared metadata the way
`alembic revision --autogenerate` would: any difference is a migration to write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from parley.store.tables import metadata
from tests.databases import fresh_database


def empty_string_default(context: MigrationContext, inspected: Column[Any],
                         declared: Column[Any], inspected_default: str | None,
                         declared_default: object, rendered_declared: str | None
                         ) -> bool | None:
    """False (no difference) for a SQLite column whose default is the empty string; None (ask
    Alembic) for anything else. Alembic's SQLite comparison unquotes non-empty literals only,
    so `DEFAULT ''` in the database, reflected as `('')`, never equals `server_default=""`."""
    if context.dialect.name == "sqlite" and rendered_declared == "" \
            and inspected_default in ("''", "('')"):
        return False
    return None


def differences(conn: Connection) -> list[Any]:
    """What autogenerate would put in a new migration (types and server defaults too)."""
    context = MigrationContext.configure(conn, opts={
        "compare_type": True, "compare_server_default": empty_string_default})
    return list(compare_metadata(context, metadata))


async def test_the_migrations_build_the_declared_schema(database_url: str,
                                                        tmp_path: Path) -> None:
    async with fresh_database(database_url, tmp_path) as url:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                found = await conn.run_sync(differences)
        finally:
            await engine.dispose()
    assert found == [], "the migrations and store/tables.py differ:\n" + \
        "\n".join(map(repr, found))
