"""An etag is a promise: of two writers that read the same etag, only one may change the row.
On PostgreSQL (READ COMMITTED) that needs the row locked when the etag is checked; without the
lock the second writer reads the old revision, waits for the first, then overwrites it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy import text

from editbay_catalog.app import MIGRATIONS_DIR
from editbay_catalog.store import CatalogStore
from editbay_common.db import Database
from editbay_common.errors import ServiceError

pytestmark = pytest.mark.postgres

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    schema = f"catalog_race_{uuid.uuid4().hex[:10]}"
    database = Database(POSTGRES_URL, schema=schema)
    await database.migrate(MIGRATIONS_DIR)
    try:
        yield database
    finally:
        async with database.engine.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.commit()
        await database.dispose()


async def _wait_until_blocked_by(db: Database, blocker_pid: int) -> None:
    """Until some backend waits for a lock ``blocker_pid`` holds."""
    async with db.engine.connect() as conn:
        for _ in range(500):
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": blocker_pid},
            )
            await conn.rollback()
            if waiting:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")


async def test_a_second_writer_with_the_same_etag_is_aborted(db: Database) -> None:
    store = CatalogStore(db)
    show = await store.create_show("race", "Race", "", "")
    async with db.engine.connect() as first:
        # The first writer: holds the row, as an update between its read and its commit does.
        pid = await first.scalar(text("SELECT pg_backend_pid()"))
        await first.execute(text("SELECT revision FROM shows WHERE id = 'race' FOR UPDATE"))
        second = asyncio.create_task(
            store.update_show("race", {"display_name": "Second"}, show.etag)
        )
        await _wait_until_blocked_by(db, pid)
        await first.execute(
            text(
                "UPDATE shows SET revision = revision + 1, display_name = 'First' WHERE id = 'race'"
            )
        )
        await first.commit()
    with pytest.raises(ServiceError) as caught:
        await second
    assert caught.value.code == grpc.StatusCode.ABORTED
    assert caught.value.reason == "ETAG_MISMATCH"
    assert (await store.get_show("race")).display_name == "First"
