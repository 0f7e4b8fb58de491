"""Fixtures for the database tests: a SQLite file per test, a PostgreSQL schema per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from editbay_common.db import Database, sqlite_url_for
from editbay_common.ids import new_id

PG_URL = os.environ.get(
    "EDITBAY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
MIGRATIONS_FIXTURE = Path(__file__).parent / "migrations_fixture"


@pytest.fixture
def migrations_dir() -> Path:
    return MIGRATIONS_FIXTURE


@pytest.fixture
async def pg_admin() -> AsyncIterator[AsyncEngine]:
    """A plain engine on the test database, outside any service schema."""
    engine = create_async_engine(PG_URL)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg_schema(pg_admin: AsyncEngine) -> AsyncIterator[str]:
    """A unique schema name, dropped (with everything in it) after the test."""
    schema = f"t_{new_id()}"
    yield schema
    async with pg_admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return sqlite_url_for(tmp_path / "data", "widgets")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, pg_admin: AsyncEngine
) -> AsyncIterator[Database]:
    """A migrated Database on each backend."""
    schema = f"t_{new_id()}"
    if request.param == "sqlite":
        db = Database(sqlite_url_for(tmp_path / "data", "widgets"), schema=schema)
    else:
        db = Database(PG_URL, schema=schema)
    try:
        await db.migrate(MIGRATIONS_FIXTURE)
        yield db
    finally:
        await db.dispose()
        if db.is_postgres:
            async with pg_admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
