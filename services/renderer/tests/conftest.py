"""Fixtures for the renderer tests: a migrated database on SQLite and PostgreSQL, plain-data
plans, and small generated takes."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from editbay_common.db import Database, sqlite_url_for
from editbay_common.ids import new_id
from editbay_renderer.app import MIGRATIONS_DIR
from editbay_renderer.models import outbox
from editbay_renderer.plans import PlanView

PG_URL = os.environ.get(
    "EDITBAY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
RABBITMQ_URL = os.environ.get("EDITBAY_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def drop_schema(schema: str) -> None:
    engine = create_async_engine(PG_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The renderer's schema, migrated, on each backend."""
    schema = f"renderer_test_{new_id()}"
    if request.param == "sqlite":
        database = Database(sqlite_url_for(tmp_path / "data", "renderer"), schema=schema)
    else:
        database = Database(PG_URL, schema=schema)
    try:
        await database.migrate(MIGRATIONS_DIR)
        yield database
    finally:
        await database.dispose()
        if database.is_postgres:
            await drop_schema(schema)


async def outbox_rows(database: Database) -> list[dict]:
    async with database.transaction() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.created_at))).all()
    return [dict(row._mapping) for row in rows]


class PlainPlans:
    """A PlanReader over plain data."""

    def __init__(self, plans: dict[str, PlanView] | None = None) -> None:
        self.plans = dict(plans or {})

    async def get_edit_plan(self, name: str) -> PlanView | None:
        return self.plans.get(name)


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], *, within: float = 60.0
) -> None:
    """Wait until ``check()`` holds (the limit only keeps a broken test from hanging)."""
    async with asyncio.timeout(within):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)


def make_take(dest: Path, *, seconds: float, pattern: str, freq: int) -> Path:
    """A small H.264/AAC take: a test pattern with a tone."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"{pattern}=s=160x90:r=25:d={seconds}",
         "-f", "lavfi", "-t", str(seconds), "-i", f"sine=f={freq}:r=48000",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ar", "48000", "-ac", "2", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


@pytest.fixture(scope="session")
def takes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("renderer-takes")
    return {
        "a": make_take(root / "a.mp4", seconds=3, pattern="testsrc2", freq=440),
        "b": make_take(root / "b.mp4", seconds=3, pattern="testsrc", freq=660),
        "c": make_take(root / "c.mp4", seconds=3, pattern="smptebars", freq=880),
        # long enough that a render is still running when a test cancels it
        "long": make_take(root / "long.mp4", seconds=40, pattern="testsrc2", freq=330),
    }
