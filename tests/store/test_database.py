"""A failed write's error names the statement, never its values: they may be secrets (a
carrier's auth token), and errors end up in the log."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from parley.bootstrap import Parley
from parley.domain.carriers import CarrierConnection, CarrierKind
from parley.domain.ids import new_id
from parley.store import tables as t
from parley.store.database import SqliteThread
from parley.store.group_commit import GroupCommitter, Insert
from tests.orgs import Tenant


def carrier_row(org: Tenant, token: str) -> dict[str, Any]:
    return {"id": new_id(), "org_id": org.id, "name": f"twilio {new_id()}", "kind": "http",
            "settings": {"accountSid": "AC0123"}, "secrets": {"authToken": token},
            "inventory": [], "enabled": True, "version": 1, "created_ms": 1, "modified_ms": 1}


def assert_hidden(error: BaseException, token: str) -> None:
    assert isinstance(error, DBAPIError), repr(error)
    assert "carrier_connections" in str(error), "the statement is still named"
    assert token not in str(error) and token not in repr(error)
    assert "AC0123" not in str(error), "no value at all"


async def test_a_failed_write_through_the_unit_of_work_hides_its_values(
        parley: Parley, org: Tenant) -> None:
    token = f"auth-{secrets.token_hex(16)}"
    row = carrier_row(org, token)
    connection = CarrierConnection(
        id=row["id"], org_id=org.id, name=row["name"], kind=CarrierKind.HTTP,
        settings=row["settings"], secrets=row["secrets"], created_ms=1, modified_ms=1)
    async with parley.uow() as uow:
        await uow.carriers.add(connection)
        await uow.commit()
    with pytest.raises(DBAPIError) as failed:
        async with parley.uow() as uow:
            await uow.carriers.add(connection)  # the same id again
            await uow.commit()
    assert_hidden(failed.value, token)


async def test_a_failed_group_commit_hides_its_values(parley: Parley, org: Tenant) -> None:
    token = f"auth-{secrets.token_hex(16)}"
    row = carrier_row(org, token)
    committer = GroupCommitter(parley.db)
    committer.start()
    try:
        await committer.commit([Insert(t.carrier_connections, [row])])
        with pytest.raises(DBAPIError) as failed:
            await committer.commit([Insert(t.carrier_connections, [row])])
    finally:
        await committer.stop()
    assert_hidden(failed.value, token)


async def test_a_failed_write_on_a_sqlite_thread_hides_its_values(
        parley: Parley, org: Tenant) -> None:
    if not parley.db.is_sqlite:
        pytest.skip("SQLite's own write thread")
    token = f"auth-{secrets.token_hex(16)}"
    row = carrier_row(org, token)
    thread = SqliteThread(parley.db.url, name="test-writer", immediate=True)
    try:
        await thread.run(lambda conn: conn.execute(insert(t.carrier_connections), [row]))
        with pytest.raises(DBAPIError) as failed:
            await thread.run(lambda conn: conn.execute(insert(t.carrier_connections), [row]))
    finally:
        thread.close()
    assert_hidden(failed.value, token)
