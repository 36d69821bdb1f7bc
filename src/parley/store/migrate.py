"""Create or upgrade the schema with Alembic (idempotent: `parley init` may run any time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from parley.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(conn: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def _current(conn: Connection) -> Any:
    return MigrationContext.configure(conn).get_current_revision()


async def migrate(db: Database) -> tuple[str | None, str]:
    """Upgrade to head; return (revision before, revision after)."""
    cfg = alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head() or ""
    async with db.writer.connect() as conn:
        before = await conn.run_sync(_current)
        if before != head:
            await conn.run_sync(_upgrade, cfg)
            await conn.commit()
    return before, head
