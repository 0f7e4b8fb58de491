"""Database: transactions, retries of a unit of work, SQLite settings, PostgreSQL schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from editbay_common.db import Database, is_retryable, sqlite_url_for
from editbay_common.ids import new_id
from editbay_common.settings import Settings

from .conftest import MIGRATIONS_FIXTURE, PG_URL


async def _count_widgets(db: Database) -> int:
    async with db.transaction() as session:
        return (await session.execute(text("SELECT count(*) FROM widgets"))).scalar_one()


async def _insert_widget(session: AsyncSession, name: str = "w") -> str:
    widget_id = new_id()
    await session.execute(
        text("INSERT INTO widgets (id, name) VALUES (:id, :name)"), {"id": widget_id, "name": name}
    )
    return widget_id


async def test_transaction_commits_on_success(database: Database) -> None:
    async with database.transaction() as session:
        await _insert_widget(session)
    assert await _count_widgets(database) == 1


async def test_transaction_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with database.transaction() as session:
            await _insert_widget(session)
            raise RuntimeError("boom")
    assert await _count_widgets(database) == 0


async def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            await session.execute(
                text("INSERT INTO parts (id, widget_id) VALUES (:id, 'missing')"), {"id": new_id()}
            )


async def test_non_retryable_error_runs_once(database: Database) -> None:
    calls = 0

    async def duplicate(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await session.execute(text("INSERT INTO widgets (id, name) VALUES ('same', 'a')"))
        await session.execute(text("INSERT INTO widgets (id, name) VALUES ('same', 'b')"))

    with pytest.raises(IntegrityError):
        await database.run_in_transaction(duplicate)
    assert calls == 1
    assert await _count_widgets(database) == 0


def test_sqlite_url_for_creates_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b"
    url = sqlite_url_for(data_dir, "catalog")
    assert data_dir.is_dir()
    assert url == f"sqlite+aiosqlite:///{data_dir.resolve() / 'catalog.db'}"
    with pytest.raises(ValueError):
        sqlite_url_for(data_dir, "../evil")


def test_settings_use_one_sqlite_file_per_service_or_the_shared_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.database_url_for("planner") == sqlite_url_for(tmp_path / "data", "planner")
    with pytest.raises(ValueError):
        settings.database_url_for("../evil")
    shared = Settings(data_dir=tmp_path / "data", database_url=PG_URL)
    assert shared.database_url_for("planner") == PG_URL


def test_rejects_bad_schema_and_unknown_backends(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Database(PG_URL, schema='x"; DROP SCHEMA public; --')
    with pytest.raises(ValueError):
        Database("mysql+aiomysql://u@h/db", schema="x")


async def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    db = Database(sqlite_url, schema="ignored")
    try:
        async with db.transaction() as session:
            journal = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await session.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await session.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (journal, foreign_keys) == ("wal", 1)
        assert busy > 0
        assert not db.is_postgres
    finally:
        await db.dispose()


async def test_sqlite_retries_after_a_stale_snapshot(sqlite_url: str) -> None:
    """A read-then-write transaction whose snapshot went stale (another connection committed in
    between) fails with SQLITE_BUSY_SNAPSHOT; the whole unit of work then runs again."""
    db = Database(sqlite_url, schema="widgets")
    other = Database(sqlite_url, schema="widgets")
    await db.migrate(MIGRATIONS_FIXTURE)
    calls = 0

    async def read_then_write(session: AsyncSession) -> int:
        nonlocal calls
        calls += 1
        seen = (await session.execute(text("SELECT count(*) FROM widgets"))).scalar_one()
        if calls == 1:
            async with other.transaction() as concurrent:
                await _insert_widget(concurrent, "concurrent")
        await _insert_widget(session, f"after {seen}")
        return seen

    try:
        seen = await db.run_in_transaction(read_then_write)
        assert calls == 2
        assert seen == 1  # the retry saw the concurrent writer's row
        assert await _count_widgets(db) == 2
    finally:
        await other.dispose()
        await db.dispose()


@pytest.mark.postgres
async def test_postgres_tables_land_in_the_service_schema(
    pg_admin: AsyncEngine, pg_schema: str
) -> None:
    db = Database(PG_URL, schema=pg_schema)
    try:
        assert db.is_postgres
        await db.migrate(MIGRATIONS_FIXTURE)
        async with db.transaction() as session:
            await _insert_widget(session)
    finally:
        await db.dispose()
    async with pg_admin.connect() as conn:
        rows = await conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
            {"s": pg_schema},
        )
        assert {row[0] for row in rows} == {"widgets", "parts", "alembic_version"}
        count = await conn.execute(text(f'SELECT count(*) FROM "{pg_schema}".widgets'))
        assert count.scalar_one() == 1


async def _backend_pid(session: AsyncSession) -> int:
    return (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def _terminate(admin: AsyncEngine, pid: int) -> None:
    async with admin.connect() as conn:
        terminated = await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert terminated.scalar_one() is True


@pytest.mark.postgres
async def test_run_in_transaction_survives_a_terminated_backend(
    pg_admin: AsyncEngine, pg_schema: str
) -> None:
    db = Database(PG_URL, schema=pg_schema)
    await db.migrate(MIGRATIONS_FIXTURE)
    pids: list[int] = []

    async def unit_of_work(session: AsyncSession) -> str:
        pid = await _backend_pid(session)
        pids.append(pid)
        if len(pids) == 1:
            await _terminate(pg_admin, pid)  # the connection dies in the middle of the work
        return await _insert_widget(session)

    try:
        widget_id = await db.run_in_transaction(unit_of_work)
        assert len(pids) == 2 and pids[0] != pids[1]
        async with db.transaction() as session:
            ids = (await session.execute(text("SELECT id FROM widgets"))).scalars().all()
        assert ids == [widget_id]
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_run_in_transaction_gives_up_after_its_retries(
    pg_admin: AsyncEngine, pg_schema: str
) -> None:
    db = Database(PG_URL, schema=pg_schema)
    await db.migrate(MIGRATIONS_FIXTURE)
    calls = 0

    async def always_killed(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await _terminate(pg_admin, await _backend_pid(session))
        await _insert_widget(session)

    try:
        with pytest.raises(DBAPIError) as raised:
            await db.run_in_transaction(always_killed, retries=1)
        assert is_retryable(raised.value)
        assert calls == 2
        assert await _count_widgets(db) == 0
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_pool_pre_ping_replaces_a_dropped_idle_connection(
    pg_admin: AsyncEngine, pg_schema: str
) -> None:
    db = Database(PG_URL, schema=pg_schema)
    await db.migrate(MIGRATIONS_FIXTURE)
    try:
        async with db.transaction() as session:
            first_pid = await _backend_pid(session)
        await _terminate(pg_admin, first_pid)  # the pooled, idle connection is now dead
        async with db.transaction() as session:
            second_pid = await _backend_pid(session)
            await _insert_widget(session)
        assert second_pid != first_pid
        assert await _count_widgets(db) == 1
    finally:
        await db.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])  # serialization failure, deadlock
async def test_run_in_transaction_retries_conflicts(pg_schema: str, sqlstate: str) -> None:
    db = Database(PG_URL, schema=pg_schema)
    await db.migrate(MIGRATIONS_FIXTURE)
    calls = 0

    async def conflicted_once(session: AsyncSession) -> str:
        nonlocal calls
        calls += 1
        widget_id = await _insert_widget(session)
        if calls == 1:
            # The server reports the conflict exactly as it would for a real one.
            await session.execute(
                text(f"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{sqlstate}'; END $$")
            )
        return widget_id

    try:
        widget_id = await db.run_in_transaction(conflicted_once)
        assert calls == 2
        async with db.transaction() as session:
            ids = (await session.execute(text("SELECT id FROM widgets"))).scalars().all()
        assert ids == [widget_id]  # the first attempt's insert was rolled back
    finally:
        await db.dispose()
